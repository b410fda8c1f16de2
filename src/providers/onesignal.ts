import { classifyError, classifyHttpStatus, httpStatusOf, reasonOf } from '../core/classify.js';
import type { PushTelemetry } from '../core/telemetry.js';
import type { ErrorType } from '../core/taxonomy.js';
import type { FailedMessage, PushSender, SettleResult } from '../core/types.js';
import { readProperty, readString, toHttpStatus } from '../core/read.js';
import { checkAdapterOptions, expectClient, withMethods, wrapMethod, type AdapterOptions } from './client-view.js';

export type { AdapterOptions } from './client-view.js';

/**
 * A `DefaultApi` from @onesignal/node-onesignal (`new OneSignal.DefaultApi(createConfiguration({ restApiKey }))`), as
 * far as the adapter needs one. Declared here rather than imported so code without the SDK still compiles.
 */
export interface OneSignalApiLike {
  createNotification(notification: never, options?: never): PromiseLike<object>;
  /** 5.x: retries 429, 503 and transport errors with one idempotency key; resolves `{ response, wasReplayed }`. */
  createNotificationWithRetry?(notification: never, options?: never): PromiseLike<object>;
}

/**
 * OneSignal's answers → error_type. Per-recipient lists in a 200's `errors` object (`invalid_player_ids`, which also
 * holds refused `include_subscription_ids`; `invalid_external_user_ids`; `invalid_aliases` by alias label), the
 * sentinel messages of the SDK's `OneSignalErrors` (named by their keys there), a 400 naming a malformed id or the
 * app id, and the HTTP status of any other refused request. Any other 5xx is `provider_unavailable`.
 */
export const ONESIGNAL_ERROR_TYPES = {
  invalid_player_ids: 'invalid_token',
  invalid_external_user_ids: 'invalid_token',
  invalid_aliases: 'invalid_token',
  NO_SUBSCRIBERS: 'unregistered',
  INVALID_ID_FORMAT: 'invalid_token',
  INVALID_API_KEY: 'auth',
  INVALID_APP_ID: 'config',
  NO_TARGETING_SPECIFIED: 'payload_invalid',
  SERVICE_UNAVAILABLE: 'provider_unavailable',
  NOT_CREATED: 'unknown',
  '400': 'payload_invalid',
  '401': 'auth',
  '403': 'auth',
  // A whole request answered 404 or 410 is a wrong base URL or proxy: it never says a recipient is gone.
  '404': 'config',
  '410': 'config',
  '413': 'payload_too_large',
  '429': 'rate_limited',
} as const satisfies Readonly<Record<string, ErrorType>>;

type OneSignalCode = keyof typeof ONESIGNAL_ERROR_TYPES;

// The literal messages of the SDK's OneSignalErrors (errors.d.ts), matched exactly: the API's own sentinels.
const SENTINELS: ReadonlyMap<string, OneSignalCode> = new Map([
  ['All included players are not subscribed', 'NO_SUBSCRIBERS'],
  [
    "Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys).",
    'INVALID_API_KEY',
  ],
  [
    'You must include which players, segments, or tags you wish to send this notification to.',
    'NO_TARGETING_SPECIFIED',
  ],
  ['Service temporarily unavailable', 'SERVICE_UNAVAILABLE'],
]);
// "Incorrect player_id format in include_player_ids (not a valid UUID): …" — the ids follow, so only the head is read.
const INVALID_ID_TEXT = /^Incorrect \w+ format in \w+ \(not a valid UUID\)/;
const APP_ID_TEXT = /^(?:app_id not found|Invalid app_id|Incorrect app_id)/i;
const MAX_MESSAGES_READ = 20;
const MAX_MESSAGE_LENGTH = 300;

/** Request fields listing recipients one by one, and the `errors` key the API lists refused ones under. */
const RECIPIENT_FIELDS: ReadonlyArray<readonly [string, string | undefined]> = [
  ['include_subscription_ids', 'invalid_player_ids'],
  // Fields of the v1 API that older SDK versions still send; the 5.x SDK leaves them out of the request.
  ['include_player_ids', 'invalid_player_ids'],
  ['include_external_user_ids', 'invalid_external_user_ids'],
  // Raw channel tokens: counted and hashed, but the API never lists them one by one.
  ['include_email_tokens', undefined],
  ['email_to', undefined],
  ['include_phone_numbers', undefined],
  ['include_ios_tokens', undefined],
  ['include_android_reg_ids', undefined],
  ['include_amazon_reg_ids', undefined],
  ['include_chrome_reg_ids', undefined],
  ['include_chrome_web_reg_ids', undefined],
  ['include_wp_wns_uris', undefined],
];

/** The `errors` messages of a response or error body: a string, strings, or `{ title | code }` objects. Bounded. */
function messagesOf(errors: unknown): string[] {
  if (typeof errors === 'string') return [errors.slice(0, MAX_MESSAGE_LENGTH)];
  if (!Array.isArray(errors)) return [];
  const messages: string[] = [];
  for (let i = 0; i < errors.length && i < MAX_MESSAGES_READ; i++) {
    const entry: unknown = errors[i];
    const text = typeof entry === 'string' ? entry : (readString(entry, 'title') ?? readString(entry, 'code'));
    if (text !== undefined) messages.push(text.slice(0, MAX_MESSAGE_LENGTH));
  }
  return messages;
}

function codeOfMessages(messages: readonly string[]): OneSignalCode | undefined {
  for (const message of messages) {
    const sentinel = SENTINELS.get(message);
    if (sentinel !== undefined) return sentinel;
    if (INVALID_ID_TEXT.test(message)) return 'INVALID_ID_FORMAT';
    if (APP_ID_TEXT.test(message)) return 'INVALID_APP_ID';
  }
  return undefined;
}

/** The HTTP status of an ApiException (its numeric `code`) or of any error carrying one where clients put it. */
function statusOf(error: unknown): number | undefined {
  return toHttpStatus(readProperty(error, 'code')) ?? httpStatusOf(error);
}

/** The code of a refused request: a sentinel or known message in its body, else its HTTP status. */
function codeOf(error: unknown): string | undefined {
  const status = statusOf(error);
  if (status === undefined) return undefined;
  const body = readProperty(error, 'body');
  return codeOfMessages(messagesOf(readProperty(body, 'errors'))) ?? String(status);
}

function lookup(code: string | undefined): ErrorType | undefined {
  return code !== undefined && Object.hasOwn(ONESIGNAL_ERROR_TYPES, code)
    ? ONESIGNAL_ERROR_TYPES[code as OneSignalCode]
    : undefined;
}

/**
 * Maps a failed OneSignal call onto the taxonomy: an `ApiException` (numeric HTTP `code`, parsed `body`) by its
 * body's sentinel message, else its status; a transport error (fetch's TypeError, its `cause` code) by the default
 * classifier. Never throws.
 */
export function classifyOneSignalError(error: unknown): ErrorType {
  try {
    const code = codeOf(error);
    if (code !== undefined) {
      const status = Number(code);
      if (Number.isNaN(status)) return lookup(code) ?? 'unknown';
      return lookup(code) ?? classifyHttpStatus(status) ?? 'unknown';
    }
    const type = classifyError(error);
    // The request as a whole says nothing about one recipient.
    return type === 'unregistered' || type === 'invalid_token' ? 'config' : type;
  } catch {
    return 'unknown';
  }
}

/** `push.provider.reason`: the table's code for a refused request, else the transport code under `cause`. */
export function oneSignalReason(error: unknown): string | undefined {
  try {
    const code = codeOf(error);
    if (code !== undefined) return code;
    let cause = readProperty(error, 'cause');
    for (let depth = 0; depth < 4 && cause !== undefined; depth++, cause = readProperty(cause, 'cause')) {
      const causeCode = readString(cause, 'code');
      if (causeCode !== undefined && causeCode !== '') return causeCode.slice(0, 128);
    }
    return reasonOf(error);
  } catch {
    return undefined;
  }
}

/** One recipient the request lists, with the `errors` key and alias label a refusal of it comes back under. */
interface Recipient {
  readonly id: string;
  readonly listedUnder: string | undefined;
  readonly label?: string;
}

function stringsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is string => typeof entry === 'string');
}

function recipientsOf(notification: unknown): Recipient[] {
  const recipients: Recipient[] = [];
  for (const [field, listedUnder] of RECIPIENT_FIELDS)
    for (const id of stringsOf(readProperty(notification, field))) recipients.push({ id, listedUnder });
  const aliases = readProperty(notification, 'include_aliases');
  if (aliases !== null && typeof aliases === 'object') {
    for (const [label, ids] of Object.entries(aliases))
      for (const id of stringsOf(ids)) recipients.push({ id, listedUnder: 'invalid_aliases', label });
  }
  return recipients;
}

function lengthOf(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

/** recipientsOf(notification).length without building the list, counted on every send; a segment send is one. */
function messageCount(notification: unknown): number {
  let count = 0;
  for (const [field] of RECIPIENT_FIELDS) count += lengthOf(readProperty(notification, field));
  const aliases = readProperty(notification, 'include_aliases');
  if (aliases !== null && typeof aliases === 'object') for (const ids of Object.values(aliases)) count += lengthOf(ids);
  return count === 0 ? 1 : count;
}

/** The ids a response's `errors` object lists under `key` (and, for invalid_aliases, under the alias label). */
function listedIds(errors: object, key: string, label: string | undefined): ReadonlySet<string> {
  const listed = readProperty(errors, key);
  return new Set(stringsOf(label === undefined ? listed : readProperty(listed, label)));
}

/**
 * Reads a create-notification answer. A notification was created when `id` is non-empty. Ids listed in an `errors`
 * object are refused one by one, and are matched against the request's own recipients: only a recipient the request
 * named can fail, so nothing from the response becomes a token. A message in an `errors` array (All included
 * players are not subscribed) is a verdict on the whole call: every recipient counts it, and only a call with one
 * recipient names its token.
 */
function settleResponse(response: unknown, notification: unknown): SettleResult {
  const id = readString(response, 'id');
  const created = id !== undefined && id !== '';
  const errors = readProperty(response, 'errors');
  const recipients = recipientsOf(notification);
  // The count the call was started with (a non-string entry is a message too, though it names no one).
  const count = messageCount(notification);
  const failed: FailedMessage[] = [];

  if (errors !== null && typeof errors === 'object' && !Array.isArray(errors)) {
    const sets = new Map<string, ReadonlySet<string>>();
    for (const recipient of recipients) {
      if (recipient.listedUnder === undefined) continue;
      const key = recipient.label === undefined ? recipient.listedUnder : `${recipient.listedUnder}.${recipient.label}`;
      let set = sets.get(key);
      if (set === undefined) {
        set = listedIds(errors, recipient.listedUnder, recipient.label);
        sets.set(key, set);
      }
      if (set.has(recipient.id))
        failed.push({ errorType: 'invalid_token', reason: recipient.listedUnder, token: recipient.id });
    }
    if (created) return { accepted: count - failed.length, failed, messageId: id };
    // Nothing was created: recipients the answer did not name failed with the call, without evidence about them.
    for (let rest = count - failed.length; rest > 0; rest--)
      failed.push({ errorType: 'unknown', reason: 'NOT_CREATED' });
    return { accepted: 0, failed };
  }

  if (created) return { accepted: count, failed, messageId: id };
  const code = codeOfMessages(messagesOf(errors)) ?? 'NOT_CREATED';
  const errorType = lookup(code) ?? 'unknown';
  const single = recipients.length === 1 ? (recipients[0] as Recipient).id : undefined;
  for (let i = 0; i < count; i++)
    failed.push({ errorType, reason: code, ...(single !== undefined && { token: single }) });
  return { accepted: 0, failed };
}

function allRecipientIds([notification]: readonly unknown[]): string[] {
  return recipientsOf(notification).map((recipient) => recipient.id);
}

/**
 * Instruments `createNotification` (and `createNotificationWithRetry`, when the SDK has it) of a
 * @onesignal/node-onesignal `DefaultApi`: one push_messages_total per recipient the notification lists
 * (`include_subscription_ids`, `include_aliases`, the channel token lists), one for a segment or filter send. Returns
 * a view of the client; every other API method is the client's own.
 */
export function instrumentOneSignal<T extends OneSignalApiLike>(
  client: T,
  telemetry: PushTelemetry,
  options?: AdapterOptions,
): T {
  expectClient(
    client,
    ['createNotification'],
    'instrumentOneSignal',
    "a OneSignal DefaultApi (new DefaultApi(createConfiguration({ restApiKey })) from '@onesignal/node-onesignal')",
  );
  const { app, group, onInvalidToken, onInvalidTokensHeld } = checkAdapterOptions(options, 'instrumentOneSignal');
  const common = {
    provider: 'onesignal',
    ...(app !== undefined && { app }),
    ...(group !== undefined && { group }),
    ...(onInvalidToken !== undefined && { onInvalidToken }),
    ...(onInvalidTokensHeld !== undefined && { onInvalidTokensHeld }),
    classify: classifyOneSignalError,
    reason: oneSignalReason,
    // The default reads no `code`: a numeric code is an HTTP status only on an ApiException.
    status: statusOf,
    countMessages: ([notification]: readonly unknown[]) => messageCount(notification),
    tokens: allRecipientIds,
  };
  type Send = (notification: unknown, options?: unknown) => PromiseLike<object>;
  const methods: Record<string, PushSender> = {
    createNotification: wrapMethod<Send>(telemetry, client, 'createNotification', {
      ...common,
      operation: 'create_notification',
      settle: (response, [notification]) => settleResponse(response, notification),
    }),
  };
  if (typeof readProperty(client, 'createNotificationWithRetry') === 'function') {
    methods.createNotificationWithRetry = wrapMethod<Send>(telemetry, client, 'createNotificationWithRetry', {
      ...common,
      operation: 'create_notification_with_retry',
      settle: (result, [notification]) => settleResponse(readProperty(result, 'response'), notification),
    });
  }
  return withMethods(client, methods);
}
