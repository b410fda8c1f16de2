import { diagLog } from './peers.js';
import type { ProblemLog } from './problems.js';
import type { ErrorType } from './taxonomy.js';
import type { HeldInvalidTokens, InvalidTokenEvent, InvalidTokenGuardOptions } from './types.js';
import { describe, rejectUnknownOptions } from './options.js';
import { isPromiseLike, readProperty } from './read.js';

export type InvalidTokenHandler = (event: InvalidTokenEvent) => void | Promise<void>;
export type HeldHandler = (held: HeldInvalidTokens) => void | Promise<void>;

/** Who an invalid token belongs to: the sender's provider and app label, and where its verdicts go. */
export interface TokenSource {
  readonly provider: string;
  readonly app: string | undefined;
  readonly problems: ProblemLog;
  readonly onInvalidToken: InvalidTokenHandler | undefined;
  /** The (provider, app) surge guard; undefined when the guard is off. */
  readonly guard: SurgeGuard | undefined;
  readonly onInvalidTokensHeld: HeldHandler | undefined;
}

export function isInvalidTokenType(errorType: ErrorType): errorType is InvalidTokenEvent['errorType'] {
  return errorType === 'unregistered' || errorType === 'invalid_token';
}

function eventOf(
  source: TokenSource,
  token: unknown,
  errorType: ErrorType,
  reason: unknown,
): InvalidTokenEvent | undefined {
  if (typeof token !== 'string' || token === '' || !isInvalidTokenType(errorType)) return undefined;
  return {
    token,
    errorType,
    provider: source.provider,
    ...(source.app !== undefined && { app: source.app }),
    ...(typeof reason === 'string' && { reason }),
  };
}

/**
 * Tells the app a recipient's token is dead, so it can prune it. Never awaited and never thrown through: a token
 * store that hangs or fails must not hold up or break the send (or the receipts call) that found out.
 */
function notify(handler: InvalidTokenHandler, event: InvalidTokenEvent, problems: ProblemLog): void {
  try {
    const pending = handler(event);
    if (isPromiseLike(pending))
      pending.then(undefined, (error: unknown) => problems.report('onInvalidToken', error, [event.token]));
  } catch (error) {
    problems.report('onInvalidToken', error, [event.token]);
  }
}

const DEFAULT_GUARD: Required<InvalidTokenGuardOptions> = {
  batchMinRecipients: 20,
  batchShare: 0.5,
  windowSeconds: 60,
  windowMinVerdicts: 100,
  windowShare: 0.5,
};

export type GuardThresholds = Required<InvalidTokenGuardOptions>;

/** Validates `options.invalidTokenGuard`; undefined means the guard is off. */
export function guardThresholds(options: unknown): GuardThresholds | undefined {
  if (options === false) return undefined;
  if (options === undefined) return DEFAULT_GUARD;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options.invalidTokenGuard must be an object of thresholds or false, got ${describe(options)}`);
  }
  rejectUnknownOptions(options, Object.keys(DEFAULT_GUARD), 'options.invalidTokenGuard');
  const thresholds = { ...DEFAULT_GUARD, ...options } as GuardThresholds;
  for (const key of ['batchMinRecipients', 'windowMinVerdicts'] as const) {
    const value = thresholds[key];
    if (!Number.isInteger(value) || value < 1)
      throw new TypeError(`options.invalidTokenGuard.${key} must be a whole number >= 1, got ${describe(value)}`);
  }
  for (const key of ['batchShare', 'windowShare'] as const) {
    const value = thresholds[key];
    if (typeof value !== 'number' || !(value >= 0 && value < 1))
      throw new TypeError(
        `options.invalidTokenGuard.${key} must be a number from 0 to below 1, got ${describe(value)}`,
      );
  }
  const seconds = thresholds.windowSeconds;
  if (typeof seconds !== 'number' || !(seconds > 0 && seconds <= 86_400)) {
    throw new TypeError(
      `options.invalidTokenGuard.windowSeconds must be a number of seconds above 0 and at most 86400, got ${describe(seconds)}`,
    );
  }
  return thresholds;
}

/** Held verdicts kept per hold for release; past it they are still counted, and the tokens stay in the store. */
export const MAX_HELD_EVENTS = 50_000;

class Hold implements HeldInvalidTokens {
  readonly provider: string;
  readonly app?: string;
  readonly trigger: 'batch' | 'window';
  readonly since = Date.now();
  count = 0;
  settled = false;
  readonly #events: InvalidTokenEvent[] = [];
  readonly #handlers: InvalidTokenHandler[] = [];
  readonly #problems: ProblemLog;
  readonly #close: (hold: Hold) => void;

  constructor(
    provider: string,
    app: string | undefined,
    trigger: 'batch' | 'window',
    problems: ProblemLog,
    close: (hold: Hold) => void,
  ) {
    this.provider = provider;
    if (app !== undefined) this.app = app;
    this.trigger = trigger;
    this.#problems = problems;
    this.#close = close;
  }

  get events(): readonly InvalidTokenEvent[] {
    return this.#events;
  }

  keep(event: InvalidTokenEvent, handler: InvalidTokenHandler): void {
    this.count++;
    if (this.settled || this.#events.length >= MAX_HELD_EVENTS) return;
    this.#events.push(event);
    this.#handlers.push(handler);
  }

  release(): number {
    if (this.settled) return 0;
    this.#settle();
    this.#events.forEach((event, i) => notify(this.#handlers[i] as InvalidTokenHandler, event, this.#problems));
    return this.#events.length;
  }

  discard(): void {
    if (this.settled) return;
    this.#settle();
    this.#events.length = 0;
    this.#handlers.length = 0;
  }

  #settle(): void {
    this.settled = true;
    this.#close(this);
  }
}

/** Where a guard reports what it holds: the held counter, the instance's list of open holds, the diag log. */
export interface HoldSink {
  countHeld(provider: string, app: string | undefined, count: number): void;
  opened(hold: HeldInvalidTokens): void;
  closed(hold: HeldInvalidTokens): void;
}

const WINDOW_BUCKETS = 12;

/**
 * The surge guard of one (provider, app): a sliding window of recipients and invalid-token verdicts in twelve
 * buckets, and the hold that is open while verdicts are being held back.
 */
export class SurgeGuard {
  readonly #provider: string;
  readonly #app: string | undefined;
  readonly #thresholds: GuardThresholds;
  readonly #bucketMs: number;
  readonly #epochs = new Float64Array(WINDOW_BUCKETS).fill(-1);
  readonly #recipients = new Float64Array(WINDOW_BUCKETS);
  readonly #verdicts = new Float64Array(WINDOW_BUCKETS);
  readonly #sink: HoldSink;
  #hold: Hold | undefined;

  constructor(provider: string, app: string | undefined, thresholds: GuardThresholds, sink: HoldSink) {
    this.#provider = provider;
    this.#app = app;
    this.#thresholds = thresholds;
    this.#bucketMs = (thresholds.windowSeconds * 1000) / WINDOW_BUCKETS;
    this.#sink = sink;
  }

  /**
   * Adds one call's recipients and verdicts to the window (`now` from the monotonic clock) and says whether its
   * verdicts must be held, and why.
   */
  judge(recipients: number, verdicts: number, now: number): 'batch' | 'window' | undefined {
    const epoch = Math.floor(now / this.#bucketMs);
    const slot = epoch % WINDOW_BUCKETS;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#recipients[slot] = 0;
      this.#verdicts[slot] = 0;
    }
    this.#recipients[slot] = (this.#recipients[slot] as number) + recipients;
    this.#verdicts[slot] = (this.#verdicts[slot] as number) + verdicts;
    if (verdicts === 0) return undefined;
    const t = this.#thresholds;
    if (recipients >= t.batchMinRecipients && verdicts > t.batchShare * recipients) return 'batch';
    let windowRecipients = 0;
    let windowVerdicts = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i++) {
      if ((this.#epochs[i] as number) <= epoch - WINDOW_BUCKETS) continue;
      windowRecipients += this.#recipients[i] as number;
      windowVerdicts += this.#verdicts[i] as number;
    }
    return windowVerdicts >= t.windowMinVerdicts && windowVerdicts > t.windowShare * windowRecipients
      ? 'window'
      : undefined;
  }

  /** The open hold, opening one (and telling whoever listens) when there is none. */
  hold(trigger: 'batch' | 'window', problems: ProblemLog, onHeld: HeldHandler | undefined): Hold {
    if (this.#hold !== undefined) return this.#hold;
    const hold = new Hold(this.#provider, this.#app, trigger, problems, (closed) => {
      if (this.#hold === closed) this.#hold = undefined;
      this.#sink.closed(closed);
    });
    this.#hold = hold;
    this.#sink.opened(hold);
    if (onHeld !== undefined) {
      try {
        const pending = onHeld(hold);
        if (isPromiseLike(pending))
          pending.then(undefined, (error: unknown) => problems.report('onInvalidTokensHeld', error));
      } catch (error) {
        problems.report('onInvalidTokensHeld', error);
      }
    }
    return hold;
  }

  countHeld(count: number): void {
    this.#sink.countHeld(this.#provider, this.#app, count);
  }
}

/** The diag line for a new hold: once per hold, since a surge can hold thousands of verdicts a second. */
export function logHold(hold: HeldInvalidTokens): void {
  try {
    diagLog.warn(
      `holding ${hold.provider}${hold.app === undefined ? '' : ` (${hold.app})`} invalid-token verdicts back from onInvalidToken: ` +
        `${hold.trigger === 'batch' ? 'one call' : 'the last window'} reported most of its recipients unregistered or invalid, which is likelier a ` +
        'bad key, the wrong environment or a provider fault than real uninstalls; release() or discard() them once a person has looked',
    );
  } catch {
    // A diag logger that throws must not break the send that tripped the guard.
  }
}

/**
 * Passes a call's invalid-token verdicts on to `onInvalidToken`, or holds them when the surge guard says they are a
 * mass verdict. `recipients` is how many messages the call carried; `failed[i]` has the error type `types[i]`.
 * Called for every settled call of a sender with `onInvalidToken`, so the window sees all its recipients.
 */
export function judgeInvalidTokens(
  source: TokenSource,
  recipients: number,
  failed: readonly unknown[],
  types: readonly ErrorType[],
  now: number,
): void {
  const handler = source.onInvalidToken;
  if (handler === undefined) return;
  let verdicts = 0;
  for (const type of types) if (isInvalidTokenType(type)) verdicts++;
  const trigger = source.guard?.judge(recipients, verdicts, now);
  if (verdicts === 0) return;
  let hold: Hold | undefined;
  let held = 0;
  failed.forEach((message, i) => {
    const event = eventOf(
      source,
      readProperty(message, 'token'),
      types[i] as ErrorType,
      readProperty(message, 'reason'),
    );
    if (event === undefined) return;
    if (trigger === undefined) return notify(handler, event, source.problems);
    hold ??= (source.guard as SurgeGuard).hold(trigger, source.problems, source.onInvalidTokensHeld);
    hold.keep(event, handler);
    held++;
  });
  if (held > 0) source.guard?.countHeld(held);
}
