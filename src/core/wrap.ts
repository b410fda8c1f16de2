// The module's own export, not the global: on Node 20 the global `performance` is a lazy getter, paid on every read.
import { performance } from 'node:perf_hooks';
import { types } from 'node:util';
import type { Context, Span } from '@opentelemetry/api';
import { trace, TraceFlags } from './peers.js';
import { classifyError, loggedStatusOf, reasonOf } from './classify.js';
import { isInvalidTokenType, judgeInvalidTokens, type TokenSource } from './invalid-tokens.js';
import {
  OUTCOME_FAILURE,
  OUTCOME_PARTIAL,
  OUTCOME_SUCCESS,
  type DurationSink,
  type OperationSeries,
  type SenderSeries,
} from '../metrics/counter-store.js';
import {
  contextManagerForSpans,
  endFailedSpan,
  endSettledSpan,
  startSendSpan,
  type SpanContextCarrier,
  type SpanTemplate,
} from '../tracing/spans.js';
import { isErrorType, type ErrorType } from './taxonomy.js';
import type { FailedMessage, PushSender, SettleResult } from './types.js';
import { readProperty, toHttpStatus } from './read.js';
import type { Exemplar } from '../metrics/exposition-model.js';
import type { GroupSeries } from './groups.js';
import type { RecipientFrequency } from '../metrics/recipient-frequency.js';
import type { SenderFailureLog } from './failure-log.js';

type Args = readonly unknown[];

/** Everything one wrapped sender needs on its send path, resolved once at wrap time. */
export interface SenderRuntime extends TokenSource {
  readonly sender: SenderSeries;
  readonly operation: OperationSeries;
  readonly span: SpanTemplate;
  readonly exemplars: boolean;
  readonly classify: ((error: unknown) => ErrorType) | undefined;
  readonly reason: ((error: unknown) => string | undefined) | undefined;
  readonly status: ((error: unknown) => number | undefined) | undefined;
  readonly countMessages: ((args: Args) => number) | undefined;
  readonly tokens: ((args: Args) => readonly string[]) | undefined;
  readonly settle: ((result: unknown, args: Args) => SettleResult) | undefined;
  /** The per-call `group` hook and the series of each group; both undefined when the group is fixed or absent. */
  readonly groupOf: ((args: Args) => unknown) | undefined;
  readonly groups: GroupSeries | undefined;
  /** The (provider, app)'s send-frequency sample, when sendFrequency is on. */
  readonly frequency: RecipientFrequency | undefined;
  /** Where failed calls are logged; undefined when there is no logger and no logger provider can be. */
  readonly failureLog: SenderFailureLog | undefined;
}

const NO_FAILURES: readonly FailedMessage[] = Object.freeze([]);
const NO_TYPES: readonly ErrorType[] = Object.freeze([]);

function errorTypeOf(message: FailedMessage): ErrorType {
  const type = readProperty(message, 'errorType');
  return isErrorType(type) ? type : 'unknown';
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Runs a user hook; a throw is reported once and answered with `fallback`. */
function hook<T, R>(
  rt: SenderRuntime,
  kind: string,
  fn: (arg: T, args: Args) => R,
  arg: T,
  args: Args,
  fallback: R,
): R {
  try {
    return fn(arg, args);
  } catch (error) {
    // The tokens hook itself failing has no tokens to offer; every other hook's error is scrubbed of the call's.
    rt.problems.report(kind, error, kind === 'tokens' ? undefined : tokensOf(rt, args));
    return fallback;
  }
}

function tokensOf(rt: SenderRuntime, args: Args): readonly string[] | undefined {
  if (rt.tokens === undefined) return undefined;
  const tokens = hook(rt, 'tokens', (a: Args) => rt.tokens?.(a), args, args, undefined);
  return Array.isArray(tokens) ? tokens : undefined;
}

function countOf(rt: SenderRuntime, args: Args): number {
  if (rt.countMessages !== undefined) {
    const count = hook(rt, 'countMessages', (a: Args) => rt.countMessages?.(a), args, args, 1);
    if (isCount(count)) return count;
    rt.problems.report(
      'countMessages',
      new TypeError(`countMessages returned ${typeof count}, expected a whole number >= 0`),
    );
    return 1;
  }
  return tokensOf(rt, args)?.length ?? 1;
}

/** The series of the call's group: a hook that throws or names an undeclared group counts as `other`. */
function groupSeries(rt: SenderRuntime, args: Args): OperationSeries {
  const groups = rt.groups as GroupSeries;
  const name = hook(rt, 'group', (a: Args) => rt.groupOf?.(a), args, args, undefined);
  return (typeof name === 'string' ? groups.byName.get(name) : undefined) ?? groups.other;
}

/** One push to each recipient the provider took: a refused message's recipient received nothing. */
function countRecipients(
  frequency: RecipientFrequency,
  tokens: readonly string[] | undefined,
  failed: readonly FailedMessage[],
  now: number,
): void {
  if (tokens === undefined) return;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (typeof token === 'string') frequency.record(token, now);
  }
  // The refused few are taken back, rather than every recipient looked up among them.
  for (let i = 0; i < failed.length; i++) {
    const token = readProperty(failed[i], 'token');
    if (typeof token === 'string') frequency.unrecord(token, now);
  }
}

// The hooks below get the call's args only so that a throw's message is scrubbed of the call's tokens.
function classifyWith(rt: SenderRuntime, error: unknown, args: Args): ErrorType {
  if (rt.classify !== undefined) {
    const type = hook(rt, 'classify', (e: unknown) => rt.classify?.(e), error, args, undefined);
    if (isErrorType(type)) return type;
  }
  return classifyError(error);
}

/** The failure log's `status` of a thrown error: the hook's answer when there is a hook, and none when it throws. */
function statusOf(rt: SenderRuntime, error: unknown, args: Args): number | undefined {
  if (rt.status === undefined) return loggedStatusOf(error);
  return toHttpStatus(hook(rt, 'status', (e: unknown) => rt.status?.(e), error, args, undefined));
}

function exemplarOf(span: Span | undefined, seconds: number): Exemplar | undefined {
  if (span === undefined) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  // A span can record without being sampled; its trace would never reach a backend for the exemplar to point at.
  if ((traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  return { labelSet: { trace_id: traceId, span_id: spanId }, value: seconds, timestamp: Date.now() / 1000 };
}

function succeed(
  rt: SenderRuntime,
  args: Args,
  count: number,
  start: number,
  span: Span | undefined,
  result: unknown,
  recipients: readonly string[] | undefined,
): void {
  const end = performance.now();
  try {
    rt.sender.inFlight--;
    let accepted = count;
    let failed = NO_FAILURES;
    let messageId: string | undefined;
    if (rt.settle !== undefined) {
      const settled = hook(rt, 'settle', rt.settle, result, args, undefined);
      const settledFailed = readProperty(settled, 'failed');
      if (isCount(readProperty(settled, 'accepted')) && Array.isArray(settledFailed)) {
        accepted = (settled as SettleResult).accepted;
        failed = settledFailed as FailedMessage[];
        const id = readProperty(settled, 'messageId');
        if (typeof id === 'string' && accepted === 1 && settledFailed.length === 0) messageId = id;
      } else if (settled !== undefined) {
        rt.problems.report(
          'settle',
          new TypeError('settle must return { accepted: whole number >= 0, failed: array }'),
        );
      }
    }
    const failedTypes = failed.length === 0 ? NO_TYPES : failed.map(errorTypeOf);

    const operation = rt.groupOf === undefined ? rt.operation : groupSeries(rt, args);
    operation.countAccepted(accepted);
    for (const type of failedTypes) operation.countFailed(type, 1);
    if (accepted > 0) rt.sender.lastSuccess.stamp(end);
    const outcome = failedTypes.length === 0 ? OUTCOME_SUCCESS : accepted > 0 ? OUTCOME_PARTIAL : OUTCOME_FAILURE;
    const seconds = (end - start) / 1000;
    operation.observe(outcome, seconds, rt.exemplars ? exemplarOf(span, seconds) : undefined);
    const sinks = operation.durationSinks;
    for (let i = 0; i < sinks.length; i++) (sinks[i] as DurationSink).settled(outcome, failedTypes, seconds);

    const tokens = span !== undefined && rt.span.hashToken !== undefined ? tokensOf(rt, args) : undefined;
    if (span !== undefined) endSettledSpan(span, rt.span, { accepted, failed, messageId, tokens }, failedTypes);
    if (outcome !== OUTCOME_SUCCESS && rt.failureLog !== undefined)
      rt.failureLog.callSettled(
        accepted,
        failed,
        failedTypes,
        seconds,
        span,
        () => tokens ?? recipients ?? tokensOf(rt, args),
      );
    if (rt.onInvalidToken !== undefined) judgeInvalidTokens(rt, accepted + failed.length, failed, failedTypes, end);
    if (rt.frequency !== undefined && accepted > 0) countRecipients(rt.frequency, recipients, failed, end);
  } catch (error) {
    rt.problems.report('metrics', error);
  }
}

function fail(
  rt: SenderRuntime,
  args: Args,
  count: number,
  start: number,
  span: Span | undefined,
  error: unknown,
): void {
  const end = performance.now();
  try {
    rt.sender.inFlight--;
    let errorType = classifyWith(rt, error, args);
    // A call with several recipients that fails as a whole says nothing about any one of them: a 404 or 410 there
    // is a wrong URL, project or environment, the sender's to fix, and must never prune a token store.
    if (count > 1 && isInvalidTokenType(errorType)) errorType = 'config';
    const operation = rt.groupOf === undefined ? rt.operation : groupSeries(rt, args);
    operation.countFailed(errorType, count);
    const seconds = (end - start) / 1000;
    operation.observe(OUTCOME_FAILURE, seconds, rt.exemplars ? exemplarOf(span, seconds) : undefined);
    const sinks = operation.durationSinks;
    for (let i = 0; i < sinks.length; i++) (sinks[i] as DurationSink).failed(errorType, seconds);
    const reason =
      rt.reason === undefined
        ? reasonOf(error)
        : hook(rt, 'reason', (e: unknown) => rt.reason?.(e), error, args, undefined);
    // Tokens are read for the span too, to cut them out of the SDK's error message.
    const tokens = span !== undefined || rt.onInvalidToken !== undefined ? tokensOf(rt, args) : undefined;
    // The reason is bounded only after the tokens are cut out of it, or a token at the cut would survive in part.
    if (span !== undefined)
      endFailedSpan(span, rt.span, error, errorType, typeof reason === 'string' ? reason : undefined, count, tokens);
    if (rt.failureLog !== undefined) {
      const code = typeof reason === 'string' ? reason : undefined;
      rt.failureLog.callFailed(
        error,
        errorType,
        code,
        count,
        seconds,
        span,
        () => tokens ?? tokensOf(rt, args),
        () => statusOf(rt, error, args),
      );
    }
    if (rt.onInvalidToken !== undefined) {
      // Only a single-recipient call's answer is evidence about its recipient (Web Push's 404/410 for a subscription).
      const single = count === 1 && tokens?.length === 1;
      judgeInvalidTokens(
        rt,
        count,
        single ? [{ token: tokens[0], reason }] : NO_FAILURES,
        single ? [errorType] : NO_TYPES,
        end,
      );
    }
  } catch (telemetryError) {
    rt.problems.report('metrics', telemetryError);
  }
}

function startSpan(rt: SenderRuntime, count: number): Span | undefined {
  try {
    return startSendSpan(rt.span, count);
  } catch (error) {
    rt.problems.report('tracing', error);
    return undefined;
  }
}

const NOT_THENABLE = 0;
const PLAIN_PROMISE = 1;
const PROMISE_SUBCLASS = 2;
const OTHER_THENABLE = 3;
const promiseThen = Promise.prototype.then;

/** What a sender returned, as far as chaining it goes. Never throws, whatever the value's getters or traps do. */
function thenableKind(value: unknown): number {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return NOT_THENABLE;
  let prototype: unknown;
  try {
    prototype = Object.getPrototypeOf(value);
  } catch {
    // A Proxy's trap threw (a revoked Proxy always does): nothing anyone could chain.
    return NOT_THENABLE;
  }
  // The send path's common case, decided without isPromise's cost; an impostor's then() throws and counts as failed.
  if (prototype === Promise.prototype) return PLAIN_PROMISE;
  if (types.isPromise(value)) return PROMISE_SUBCLASS;
  return typeof readProperty(value, 'then') === 'function' ? OTHER_THENABLE : NOT_THENABLE;
}

/**
 * Observes what cannot be chained without changing it, on a side branch, and leaves the value itself to the caller:
 * a promise subclass's `then` would hand back a plain Promise (species) without its extra methods (p-cancelable,
 * got), and a foreign thenable's `then` may return anything at all. A subclass is observed with the native `then`,
 * so its own `then` does not run; the cost is that a rejection nobody else handles is no longer reported as unhandled.
 */
function observeAside(
  rt: SenderRuntime,
  args: Args,
  count: number,
  start: number,
  span: Span | undefined,
  result: PromiseLike<unknown>,
  kind: number,
  recipients: readonly string[] | undefined,
): void {
  // A foreign then() may call back twice, or call both callbacks: the books are settled once.
  let settled = false;
  const onValue = (value: unknown): void => {
    if (settled) return;
    settled = true;
    succeed(rt, args, count, start, span, value, recipients);
  };
  const onError = (error: unknown): void => {
    if (settled) return;
    settled = true;
    fail(rt, args, count, start, span, error);
  };
  try {
    if (kind === PROMISE_SUBCLASS) promiseThen.call(result, onValue, onError);
    else result.then(onValue, onError);
  } catch (error) {
    // A then() that throws never settles: the send failed, whatever the caller does with the value next.
    onError(error);
  }
}

/**
 * The one instrumented send path. The wrapped function resolves with the sender's very own value and rejects with its
 * very own error, synchronously when the sender threw synchronously. For a promise it returns `promise.then(...)`:
 * the same class (species), settling with the same value, and still an unhandled rejection when nobody listens, as
 * the bare sender's would be (a side branch would mark the sender's promise handled and silence that). Telemetry runs
 * in those handlers, so metrics are current when `await wrapped()` returns.
 */
export function instrumentSender<F extends PushSender>(fn: F, rt: SenderRuntime): F {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    // With send frequency on, the tokens hook runs once, here, for the count and for the recipients at settle time.
    const recipients = rt.frequency === undefined ? undefined : tokensOf(rt, args);
    const count =
      rt.frequency !== undefined && rt.countMessages === undefined ? (recipients?.length ?? 1) : countOf(rt, args);
    const span = startSpan(rt, count);
    let manager: SpanContextCarrier | undefined;
    let active: Context | undefined;
    if (span !== undefined) {
      try {
        manager = contextManagerForSpans();
        if (manager !== undefined) active = trace.setSpan(manager.active(), span);
      } catch (error) {
        rt.problems.report('tracing', error);
      }
    }
    rt.sender.inFlight++;
    const start = performance.now();
    let result: unknown;
    try {
      result =
        active === undefined
          ? Reflect.apply(fn, this, args)
          : (manager as SpanContextCarrier).with(active, fn as (...a: unknown[]) => unknown, this, ...args);
    } catch (error) {
      fail(rt, args, count, start, span, error);
      throw error;
    }
    const kind = thenableKind(result);
    if (kind === NOT_THENABLE) {
      succeed(rt, args, count, start, span, result, recipients);
      return result;
    }
    if (kind === PLAIN_PROMISE) {
      try {
        return (result as Promise<unknown>).then(
          (value: unknown) => {
            succeed(rt, args, count, start, span, value, recipients);
            return value;
          },
          (error: unknown) => {
            fail(rt, args, count, start, span, error);
            throw error;
          },
        );
      } catch (error) {
        // A then() that throws (patched by someone) is a send that failed; the caller still gets its promise.
        fail(rt, args, count, start, span, error);
        return result;
      }
    }
    observeAside(rt, args, count, start, span, result as PromiseLike<unknown>, kind, recipients);
    return result;
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
  return wrapped as F;
}
