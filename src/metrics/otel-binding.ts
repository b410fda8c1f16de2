import { createNoopMeter, diag } from '../core/peers.js';
import type { Attributes, BatchObservableResult, Histogram, MeterProvider, ObservableCounter, ObservableGauge, ObservableUpDownCounter } from '@opentelemetry/api';
import type { ProblemLog } from '../core/problems.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
} from '../tracing/semconv.js';
import { DURATION_BUCKETS } from './contract.js';
import { OUTCOME_PARTIAL, OUTCOME_SUCCESS } from './counter-store.js';
import { ERROR_TYPES, errorTypeIndex, type ErrorType } from '../core/taxonomy.js';
import { SuccessClock } from './success-clock.js';
import { PUSH_ATTRIBUTES, systemAttributes } from '../tracing/spans.js';
import { VERSION } from '../version.js';

/**
 * The OpenTelemetry side of the metrics, used only when `new PushTelemetry({ meterProvider })` is given: the same
 * measurements as the Prometheus series (counter-store.ts), on OTel instruments. The JS SDK hashes the attribute set of
 * every synchronous measurement (sorting its keys and JSON-encoding it, about 1-2 µs), so only the duration histogram,
 * which has no asynchronous form, is recorded per call. Message and receipt counts, calls in flight and the last
 * success are kept in plain fields and typed arrays, as on the Prometheus side, and reported by observable instruments
 * when the SDK collects. On the wire they are the same OTLP data (monotonic Sum for the counters, non-monotonic Sum
 * for in-flight); every attribute object is built once and reused.
 */

export const OTEL_METRIC_NAMES = {
  /** Counter `{message}` (asynchronous): the twin of `push_messages_total`. */
  sentMessages: METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
  /** Histogram `s`: the twin of `push_request_duration_seconds`. */
  duration: METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  /** UpDownCounter `{request}` (asynchronous): the twin of `push_requests_in_flight`. */
  activeRequests: 'push.client.active_requests',
  /** Gauge `s` (asynchronous): the twin of `push_last_success_timestamp_seconds`. */
  lastSuccess: 'push.client.last_success.timestamp',
  /** Counter `{receipt}` (asynchronous): the twin of `push_receipts_total`. */
  receipts: 'push.client.receipts',
  /** Counter `{verdict}` (asynchronous): the twin of `push_invalid_tokens_held_total`. */
  invalidTokensHeld: 'push.client.invalid_tokens.held',
} as const;

const DESCRIPTIONS = {
  sentMessages: 'Number of messages producer attempted to send to the broker.',
  duration: 'Duration of messaging operation initiated by a producer or consumer client.',
  activeRequests: 'Push provider API calls started and not yet settled.',
  lastSuccess: 'Unix time in seconds of the last message a push provider accepted.',
  receipts: 'Second-phase delivery receipts (Expo), by push.outcome (delivered|failed) and error.type (failed only).',
  invalidTokensHeld: 'Invalid-token verdicts the surge guard held back from onInvalidToken for a person to confirm.',
} as const;

/** Slots of the count arrays: [accepted | delivered, failed by ERROR_TYPES order...], the layout counter-store.ts uses. */
const COUNT_SLOTS = 1 + ERROR_TYPES.length;

// noUncheckedIndexedAccess cannot see that every index used here is in range.
function add(slots: Float64Array, index: number, count: number): void {
  slots[index] = (slots[index] as number) + count;
}

// The class of the API's no-op meter: what metrics.getMeterProvider() hands out before an SDK registers a provider.
const NoopMeter = createNoopMeter().constructor;

const TALLY = new Uint32Array(ERROR_TYPES.length);

/** The most frequent error type's index, ties going to the one that appears first: the span's `error.type` rule. */
function dominantErrorType(failedTypes: readonly ErrorType[]): number {
  // The send path is synchronous, so one scratch array serves every call.
  TALLY.fill(0);
  let dominant = errorTypeIndex(failedTypes[0] as ErrorType);
  for (const type of failedTypes) {
    const index = errorTypeIndex(type);
    TALLY[index] = (TALLY[index] as number) + 1;
  }
  for (const type of failedTypes) {
    const index = errorTypeIndex(type);
    if ((TALLY[index] as number) > (TALLY[dominant] as number)) dominant = index;
  }
  return dominant;
}

function withAttributes(base: Attributes, extra: Attributes): Attributes {
  return Object.freeze({ ...base, ...extra });
}

/** `[outcome=<first>, outcome=<failed> + error.type=<each of ERROR_TYPES>]`, matching the count slots. */
function outcomeAttributes(base: Attributes, first: string, failed: string): readonly Attributes[] {
  const outcome = PUSH_ATTRIBUTES.outcome;
  return [withAttributes(base, { [outcome]: first }), ...ERROR_TYPES.map((type) => withAttributes(base, { [outcome]: failed, [ATTR_ERROR_TYPE]: type }))];
}

/** One (provider, app) of one meter provider: in-flight, last success and receipts. */
interface SenderState {
  readonly attributes: Attributes;
  inFlight: number;
  readonly lastSuccess: SuccessClock;
  invalidTokensHeld: number;
  /** Allocated on the first receipt, so providers without receipts report none. */
  receipts: { readonly counts: Float64Array; readonly attributes: readonly Attributes[] } | undefined;
}

/** One (provider, app, operation) of one meter provider, shared by every sender wrapped with them. */
interface OperationState {
  /** messaging.client.sent.messages, by count slot. */
  readonly messages: Float64Array;
  readonly sentAttributes: readonly Attributes[];
  /** messaging.client.operation.duration: [success, partial, failure by ERROR_TYPES order...] */
  readonly durationAttributes: readonly Attributes[];
}

/** One wrapped sender's OTel recorder, resolved at wrap time; the send path calls it only when it exists. */
export class OtelSender {
  readonly #sender: SenderState;
  readonly #operation: OperationState;
  readonly #duration: Histogram;
  readonly #problems: ProblemLog;

  constructor(sender: SenderState, operation: OperationState, duration: Histogram, problems: ProblemLog) {
    this.#sender = sender;
    this.#operation = operation;
    this.#duration = duration;
    this.#problems = problems;
  }

  start(): void {
    this.#sender.inFlight++;
  }

  /** First thing when a call settles, before anything that could throw, so in-flight never leaks. */
  end(): void {
    this.#sender.inFlight--;
  }

  /** A call that returned or resolved; `outcome` and `seconds` are the ones the Prometheus histogram got. */
  settled(accepted: number, failedTypes: readonly ErrorType[], outcome: number, seconds: number, end: number): void {
    const { messages, durationAttributes } = this.#operation;
    add(messages, 0, accepted);
    if (accepted > 0) this.#sender.lastSuccess.stamp(end);
    for (const type of failedTypes) add(messages, 1 + errorTypeIndex(type), 1);
    // error.type only when the call failed as a whole: a partial batch is a call that worked.
    const attributes =
      outcome === OUTCOME_SUCCESS ? durationAttributes[0] : outcome === OUTCOME_PARTIAL ? durationAttributes[1] : durationAttributes[2 + dominantErrorType(failedTypes)];
    this.#record(seconds, attributes as Attributes);
  }

  /** A call that threw or rejected: all `count` messages failed with `errorType`. */
  failed(errorType: ErrorType, count: number, seconds: number): void {
    const index = errorTypeIndex(errorType);
    add(this.#operation.messages, 1 + index, count);
    this.#record(seconds, this.#operation.durationAttributes[2 + index] as Attributes);
  }

  #record(seconds: number, attributes: Attributes): void {
    try {
      this.#duration.record(seconds, attributes);
    } catch (error) {
      this.#problems.report('metrics', error);
    }
  }
}

/** The instruments of one meter provider and the state behind them, shared by every PushTelemetry given it. */
export class OtelMetrics {
  readonly #duration: Histogram;
  readonly #sent: ObservableCounter;
  readonly #receipts: ObservableCounter;
  readonly #activeRequests: ObservableUpDownCounter;
  readonly #lastSuccess: ObservableGauge;
  readonly #held: ObservableCounter;
  readonly #senders = new Map<string, SenderState>();
  readonly #operations = new Map<string, OperationState>();

  constructor(meterProvider: MeterProvider) {
    const meter = meterProvider.getMeter('push-telemetry', VERSION);
    if (meter instanceof NoopMeter) {
      // Unlike tracing, the metrics API has no proxy: a provider read before the SDK started stays a no-op for good.
      diag.warn('push-telemetry: options.meterProvider is the OpenTelemetry API\'s no-op provider, so no OTel metrics will be recorded; read metrics.getMeterProvider() after the SDK has started');
    }
    this.#duration = meter.createHistogram(OTEL_METRIC_NAMES.duration, {
      description: DESCRIPTIONS.duration,
      unit: 's',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
    this.#sent = meter.createObservableCounter(OTEL_METRIC_NAMES.sentMessages, { description: DESCRIPTIONS.sentMessages, unit: '{message}' });
    this.#receipts = meter.createObservableCounter(OTEL_METRIC_NAMES.receipts, { description: DESCRIPTIONS.receipts, unit: '{receipt}' });
    this.#activeRequests = meter.createObservableUpDownCounter(OTEL_METRIC_NAMES.activeRequests, { description: DESCRIPTIONS.activeRequests, unit: '{request}' });
    this.#lastSuccess = meter.createObservableGauge(OTEL_METRIC_NAMES.lastSuccess, { description: DESCRIPTIONS.lastSuccess, unit: 's' });
    this.#held = meter.createObservableCounter(OTEL_METRIC_NAMES.invalidTokensHeld, { description: DESCRIPTIONS.invalidTokensHeld, unit: '{verdict}' });
    meter.addBatchObservableCallback((result) => this.#observe(result), [this.#sent, this.#receipts, this.#activeRequests, this.#lastSuccess, this.#held]);
  }

  #observe(result: BatchObservableResult): void {
    for (const operation of this.#operations.values()) {
      // Every slot, zeros too: a series exists from wrap time, as on /metrics, so its first increase is visible.
      operation.messages.forEach((value, i) => result.observe(this.#sent, value, operation.sentAttributes[i]));
    }
    for (const sender of this.#senders.values()) {
      result.observe(this.#activeRequests, sender.inFlight, sender.attributes);
      const lastSuccess = sender.lastSuccess.unixSeconds();
      if (!Number.isNaN(lastSuccess)) result.observe(this.#lastSuccess, lastSuccess, sender.attributes);
      result.observe(this.#held, sender.invalidTokensHeld, sender.attributes);
      const receipts = sender.receipts;
      if (receipts !== undefined) receipts.counts.forEach((value, i) => result.observe(this.#receipts, value, receipts.attributes[i]));
    }
  }

  #sender(provider: string, app: string | undefined): SenderState {
    const key = `${provider}\u0000${app ?? ''}`;
    let sender = this.#senders.get(key);
    if (sender === undefined) {
      const attributes: Attributes = systemAttributes(provider);
      if (app !== undefined) attributes[PUSH_ATTRIBUTES.app] = app;
      sender = { attributes: Object.freeze(attributes), inFlight: 0, lastSuccess: new SuccessClock(), invalidTokensHeld: 0, receipts: undefined };
      this.#senders.set(key, sender);
    }
    return sender;
  }

  #operation(provider: string, app: string | undefined, operation: string): OperationState {
    const key = `${provider}\u0000${app ?? ''}\u0000${operation}`;
    let state = this.#operations.get(key);
    if (state === undefined) {
      const base: Attributes = { ...systemAttributes(provider), [ATTR_MESSAGING_OPERATION_NAME]: operation };
      const durationBase: Attributes = { ...base, [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND };
      if (app !== undefined) base[PUSH_ATTRIBUTES.app] = durationBase[PUSH_ATTRIBUTES.app] = app;
      const [success, ...failure] = outcomeAttributes(durationBase, 'success', 'failure');
      state = {
        messages: new Float64Array(COUNT_SLOTS),
        sentAttributes: outcomeAttributes(base, 'accepted', 'failed'),
        durationAttributes: [success as Attributes, withAttributes(durationBase, { [PUSH_ATTRIBUTES.outcome]: 'partial' }), ...failure],
      };
      this.#operations.set(key, state);
    }
    return state;
  }

  /** The recorder for one wrapped sender. */
  sender(provider: string, app: string | undefined, operation: string, problems: ProblemLog): OtelSender {
    return new OtelSender(this.#sender(provider, app), this.#operation(provider, app, operation), this.#duration, problems);
  }

  countHeld(provider: string, app: string | undefined, count: number): void {
    this.#sender(provider, app).invalidTokensHeld += count;
  }

  countReceipts(provider: string, app: string | undefined, delivered: number, failedTypes: readonly ErrorType[]): void {
    const sender = this.#sender(provider, app);
    const receipts = (sender.receipts ??= { counts: new Float64Array(COUNT_SLOTS), attributes: outcomeAttributes(sender.attributes, 'delivered', 'failed') });
    add(receipts.counts, 0, delivered);
    for (const type of failedTypes) add(receipts.counts, 1 + errorTypeIndex(type), 1);
  }
}

const byMeterProvider = new WeakMap<MeterProvider, OtelMetrics>();

/**
 * The OtelMetrics of a meter provider, creating its instruments on first use. PushTelemetry instances given the same
 * provider share it, so their in-flight and last-success observations add up instead of overwriting each other.
 */
export function otelMetricsFor(meterProvider: MeterProvider): OtelMetrics {
  let metrics = byMeterProvider.get(meterProvider);
  if (metrics === undefined) byMeterProvider.set(meterProvider, (metrics = new OtelMetrics(meterProvider)));
  return metrics;
}
