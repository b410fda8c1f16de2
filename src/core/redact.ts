/**
 * Keeping device tokens out of everything push-telemetry records. Telemetry never sees payloads, but SDK error
 * messages (and token stores' errors) sometimes quote the token, endpoint URL or ARN they failed on.
 */

/** Longest exception or status message recorded; SDK messages past this are noise, and unbounded ones are a risk. */
const MAX_MESSAGE_LENGTH = 256;
/** Longest `push.provider.reason`: provider codes are short. */
const MAX_REASON_LENGTH = 128;

/**
 * Where to cut `message` at or before `end` so that no token straddles the cut: half a token would escape redaction
 * (an error listing a batch's tokens would otherwise show the start of the first one past the cut).
 */
function safeCut(message: string, end: number, tokens: readonly string[]): number {
  for (let moved = true; moved; ) {
    moved = false;
    for (const token of tokens) {
      const from = Math.max(0, end - token.length + 1);
      const at = message.slice(from, end + token.length - 1).indexOf(token);
      if (at !== -1 && from + at < end) {
        end = from + at;
        moved = true;
      }
    }
  }
  return end;
}

function quotesAnyToken(message: string, tokens: readonly string[] | undefined): boolean {
  if (tokens === undefined) return false;
  for (const token of tokens)
    if (typeof token === 'string' && token.length >= 4 && message.includes(token)) return true;
  return false;
}

/**
 * An error message fit for a span: the call's own tokens cut out (some SDKs quote the device token or endpoint ARN in
 * their messages) and the length bounded. Stacks are never recorded: they repeat the message and add only SDK frames.
 */
export function redactMessage(message: string, tokens: readonly string[] | undefined): string {
  // Most messages quote no token: answer those without building the token list or copying the message.
  if (message.length <= MAX_MESSAGE_LENGTH && !quotesAnyToken(message, tokens)) return message;
  const cut = (tokens ?? []).filter((token) => typeof token === 'string' && token.length >= 4);
  let text =
    message.length > 4 * MAX_MESSAGE_LENGTH ? message.slice(0, safeCut(message, 4 * MAX_MESSAGE_LENGTH, cut)) : message;
  for (const token of cut) text = text.split(token).join('<token>');
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

/** A provider reason fit for `push.provider.reason`: redacted first, then bounded, so no token is cut in half. */
export function redactReason(reason: string, tokens: readonly string[] | undefined): string {
  return redactMessage(reason, tokens).slice(0, MAX_REASON_LENGTH);
}
