import { createNoopMeter, diag } from '../core/peers.js';
import type {
  Attributes,
  BatchObservableResult,
  Histogram,
  Meter,
  MeterProvider,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
} from '@opentelemetry/api';
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
import {
  COUNT_SLOTS,
  OUTCOME_PARTIAL,
  OUTCOME_SUCCESS,
  SeriesStore,
  type DurationReader,
  type DurationSink,
  type OperationSeries,
  type SenderSeries,
} from './counter-store.js';
import { ERROR_TYPES, errorTypeIndex, type ErrorType } from '../core/taxonomy.js';
import { PUSH_ATTRIBUTES, systemAttributes } from '../tracing/spans.js';
import { VERSION } from '../version.js';

/**
 * The OpenTelemetry side of the metrics, used only when `new PushTelemetry({ meterProvider })` is given: a second
 * reader of the same store the Prometheus binding reads (counter-store.ts), reporting it on OTel instruments.
 *
 * Counts, calls in flight, the last success, receipts and held verdicts are read from the store's slots by observable
 * instruments when the SDK collects, so the send path does nothing for them beyond what /metrics needs.
 *
 * The duration histogram has no asynchronous form, and the JS SDK hashes the attribute set of every synchronous
 * measurement (it sorts the keys and JSON-encodes them), which costs several times a whole metrics-only send. That
 * cost cannot be avoided through the API, as every value must be recorded, but it can be kept out of the sends: the
 * send path only appends (attribute set, seconds) to a preallocated buffer, and the values reach the Histogram, exact
 * and in call order, in a flush: from the batch observable callback (the SDK runs every observable callback before it
 * collects the synchronous instruments' storages, so flushed values land in that same collection), in an event-loop
 * turn of its own once FLUSH_SOON_AT are waiting, and from the send that fills the buffer when no such turn came in
 * time. That last flush bounds the memory at DURATION_BUFFER_SIZE values per meter provider.
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

/** Durations a meter provider holds before a send has to flush them itself (12 bytes each). */
export const DURATION_BUFFER_SIZE = 1024;
/** Durations waiting when a flush is scheduled for the next event-loop turn. */
export const FLUSH_SOON_AT = 256;

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
  return [
    withAttributes(base, { [outcome]: first }),
    ...ERROR_TYPES.map((type) => withAttributes(base, { [outcome]: failed, [ATTR_ERROR_TYPE]: type })),
  ];
}

/**
 * Problem logs of the PushTelemetry instances given one meter provider, held weakly: a flush runs for all of them at
 * once, and an instance dropped by its owner must not be kept alive by the provider it was given.
 */
class ProblemLogs {
  readonly #logs = new Set<WeakRef<ProblemLog>>();
  readonly #added = new WeakSet<ProblemLog>();
  readonly #collected = new FinalizationRegistry<WeakRef<ProblemLog>>((ref) => this.#logs.delete(ref));

  add(problems: ProblemLog): void {
    if (this.#added.has(problems)) return;
    this.#added.add(problems);
    const ref = new WeakRef(problems);
    this.#logs.add(ref);
    this.#collected.register(problems, ref);
  }

  report(error: unknown): void {
    for (const ref of this.#logs) ref.deref()?.report('metrics', error);
  }
}

/**
 * The durations of one meter provider on their way to its Histogram: (attribute set, seconds) pairs in preallocated
 * typed arrays, so appending allocates nothing and hashes nothing.
 */
class DurationBuffer {
  readonly #histogram: Histogram;
  readonly #problems: ProblemLogs;
  /** Every duration attribute set of this provider; a pair names one by its index. */
  readonly #attributeSets: Attributes[] = [];
  readonly #sets = new Uint32Array(DURATION_BUFFER_SIZE);
  readonly #seconds = new Float64Array(DURATION_BUFFER_SIZE);
  #length = 0;
  #scheduled = false;
  #flushing = false;

  constructor(histogram: Histogram, problems: ProblemLogs) {
    this.#histogram = histogram;
    this.#problems = problems;
  }

  /** Registers attribute sets; the index of the first, the rest following it. */
  register(sets: readonly Attributes[]): number {
    const first = this.#attributeSets.length;
    this.#attributeSets.push(...sets);
    return first;
  }

  append(set: number, seconds: number): void {
    // A histogram that sends a push while it records (through a diag logger, say) reaches here mid-flush: recorded
    // straight away, since the flush is reading the slots it would write.
    if (this.#flushing) {
      this.#record(set, seconds);
      return;
    }
    const index = this.#length;
    this.#sets[index] = set;
    this.#seconds[index] = seconds;
    this.#length = index + 1;
    if (index + 1 < FLUSH_SOON_AT) return;
    if (index + 1 === DURATION_BUFFER_SIZE) this.flush();
    else if (!this.#scheduled) this.#flushSoon();
  }

  /** Records every buffered duration on the Histogram, oldest first. Never throws. */
  flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const length = this.#length;
      for (let i = 0; i < length; i++) this.#record(this.#sets[i] as number, this.#seconds[i] as number);
    } finally {
      this.#length = 0;
      this.#flushing = false;
    }
  }

  #record(set: number, seconds: number): void {
    try {
      this.#histogram.record(seconds, this.#attributeSets[set]);
    } catch (error) {
      this.#problems.report(error);
    }
  }

  #flushSoon(): void {
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }
}

/** The duration attribute sets of one (provider, app, operation) of one meter provider, shared by every store read. */
class OperationDuration implements DurationSink {
  readonly #buffer: DurationBuffer;
  /** Index of this operation's `success` set; `partial` follows, then `failure` by ERROR_TYPES order. */
  readonly #first: number;

  constructor(buffer: DurationBuffer, first: number) {
    this.#buffer = buffer;
    this.#first = first;
  }

  settled(outcome: number, failedTypes: readonly ErrorType[], seconds: number): void {
    // error.type only when the call failed as a whole: a partial batch is a call that worked.
    const set = outcome === OUTCOME_SUCCESS ? 0 : outcome === OUTCOME_PARTIAL ? 1 : 2 + dominantErrorType(failedTypes);
    this.#buffer.append(this.#first + set, seconds);
  }

  failed(errorType: ErrorType, seconds: number): void {
    this.#buffer.append(this.#first + 2 + errorTypeIndex(errorType), seconds);
  }
}

/**
 * The OTel attribute sets of one (provider, app), and its values summed over the stores at one collection: instances
 * with different registries can share a meter provider, and an observation of an attribute set replaces the last one.
 */
class SenderView {
  readonly attributes: Attributes;
  #receiptAttributes: readonly Attributes[] | undefined;
  collection = -1;
  inFlight = 0;
  lastSuccess = Number.NaN;
  invalidTokensHeld = 0;
  readonly receipts = new Float64Array(COUNT_SLOTS);
  hasReceipts = false;

  constructor(provider: string, app: string | undefined) {
    const attributes: Attributes = systemAttributes(provider);
    if (app !== undefined) attributes[PUSH_ATTRIBUTES.app] = app;
    this.attributes = Object.freeze(attributes);
  }

  get receiptAttributes(): readonly Attributes[] {
    return (this.#receiptAttributes ??= outcomeAttributes(this.attributes, 'delivered', 'failed'));
  }

  reset(collection: number): void {
    this.collection = collection;
    this.inFlight = 0;
    this.lastSuccess = Number.NaN;
    this.invalidTokensHeld = 0;
    this.receipts.fill(0);
    this.hasReceipts = false;
  }

  add(series: SenderSeries): void {
    this.inFlight += series.inFlight;
    // The latest success across the stores, as one shared clock would have it.
    const lastSuccess = series.lastSuccess.unixSeconds();
    if (lastSuccess > this.lastSuccess || Number.isNaN(this.lastSuccess)) this.lastSuccess = lastSuccess;
    this.invalidTokensHeld += series.invalidTokensHeld;
    const receipts = series.receipts;
    if (receipts === undefined) return;
    this.hasReceipts = true;
    receipts.forEach((value, i) => add(this.receipts, i, value));
  }
}

/** The OTel attribute sets of one (provider, app, operation), its duration sink, and its message counts at one collection. */
class OperationView {
  readonly sentAttributes: readonly Attributes[];
  readonly duration: OperationDuration;
  collection = -1;
  readonly messages = new Float64Array(COUNT_SLOTS);

  constructor(series: OperationSeries, buffer: DurationBuffer) {
    const base: Attributes = {
      ...systemAttributes(series.provider),
      [ATTR_MESSAGING_OPERATION_NAME]: series.operation,
    };
    const durationBase: Attributes = { ...base, [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND };
    if (series.app !== undefined) base[PUSH_ATTRIBUTES.app] = durationBase[PUSH_ATTRIBUTES.app] = series.app;
    const [success, ...failure] = outcomeAttributes(durationBase, 'success', 'failure');
    const durationSets = [
      success as Attributes,
      withAttributes(durationBase, { [PUSH_ATTRIBUTES.outcome]: 'partial' }),
      ...failure,
    ];
    this.sentAttributes = outcomeAttributes(base, 'accepted', 'failed');
    this.duration = new OperationDuration(buffer, buffer.register(durationSets));
  }

  reset(collection: number): void {
    this.collection = collection;
    this.messages.fill(0);
  }
}

/** The instruments of one meter provider, and the stores they read, shared by every PushTelemetry given it. */
export class OtelMetrics implements DurationReader {
  readonly #meter: Meter;
  readonly #sent: ObservableCounter;
  readonly #receipts: ObservableCounter;
  readonly #activeRequests: ObservableUpDownCounter;
  readonly #lastSuccess: ObservableGauge;
  readonly #held: ObservableCounter;
  readonly #durations: DurationBuffer;
  readonly #problems = new ProblemLogs();
  /** Each store once, however many instances share it: a registry's, and this provider's own for `registry: false`. */
  readonly #stores = new Set<SeriesStore>();
  #ownStore: SeriesStore | undefined;
  readonly #senders = new Map<string, SenderView>();
  readonly #operations = new Map<string, OperationView>();
  #collection = 0;

  constructor(meterProvider: MeterProvider) {
    const meter = meterProvider.getMeter('push-telemetry', VERSION);
    this.#meter = meter;
    if (meter instanceof NoopMeter) {
      // Unlike tracing, the metrics API has no proxy: a provider read before the SDK started stays a no-op for good.
      diag.warn(
        "push-telemetry: options.meterProvider is the OpenTelemetry API's no-op provider, so no OTel metrics will be recorded; read metrics.getMeterProvider() after the SDK has started",
      );
    }
    const duration = meter.createHistogram(OTEL_METRIC_NAMES.duration, {
      description: DESCRIPTIONS.duration,
      unit: 's',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
    this.#durations = new DurationBuffer(duration, this.#problems);
    this.#sent = meter.createObservableCounter(OTEL_METRIC_NAMES.sentMessages, {
      description: DESCRIPTIONS.sentMessages,
      unit: '{message}',
    });
    this.#receipts = meter.createObservableCounter(OTEL_METRIC_NAMES.receipts, {
      description: DESCRIPTIONS.receipts,
      unit: '{receipt}',
    });
    this.#activeRequests = meter.createObservableUpDownCounter(OTEL_METRIC_NAMES.activeRequests, {
      description: DESCRIPTIONS.activeRequests,
      unit: '{request}',
    });
    this.#lastSuccess = meter.createObservableGauge(OTEL_METRIC_NAMES.lastSuccess, {
      description: DESCRIPTIONS.lastSuccess,
      unit: 's',
    });
    this.#held = meter.createObservableCounter(OTEL_METRIC_NAMES.invalidTokensHeld, {
      description: DESCRIPTIONS.invalidTokensHeld,
      unit: '{verdict}',
    });
    meter.addBatchObservableCallback(
      (result) => this.#observe(result),
      [this.#sent, this.#receipts, this.#activeRequests, this.#lastSuccess, this.#held],
    );
  }

  /** The store of the instances given this provider with `registry: false`: only this provider reads it. */
  get ownStore(): SeriesStore {
    return (this.#ownStore ??= new SeriesStore());
  }

  /** Reports `store` on this provider's instruments from now on; `problems` hears of a Histogram that throws. */
  read(store: SeriesStore, problems: ProblemLog): void {
    this.#problems.add(problems);
    // A no-op meter never calls back and drops every record: buffering durations for it would be work for nothing.
    if (this.#meter instanceof NoopMeter || this.#stores.has(store)) return;
    this.#stores.add(store);
    store.addDurationReader(this);
  }

  durationSink(series: OperationSeries): DurationSink {
    return this.#operationView(series).duration;
  }

  #observe(result: BatchObservableResult): void {
    this.#durations.flush();
    const collection = ++this.#collection;
    const senders: SenderView[] = [];
    const operations: OperationView[] = [];
    for (const store of this.#stores) {
      for (const series of store.operations.values()) {
        const view = this.#operationView(series);
        if (view.collection !== collection) {
          view.reset(collection);
          operations.push(view);
        }
        series.messages.forEach((value, i) => add(view.messages, i, value));
      }
      for (const series of store.senders.values()) {
        const view = this.#senderView(series);
        if (view.collection !== collection) {
          view.reset(collection);
          senders.push(view);
        }
        view.add(series);
      }
    }
    for (const view of operations) {
      // Every slot, zeros too: a series exists from wrap time, as on /metrics, so its first increase is visible.
      view.messages.forEach((value, i) => result.observe(this.#sent, value, view.sentAttributes[i]));
    }
    for (const view of senders) {
      result.observe(this.#activeRequests, view.inFlight, view.attributes);
      if (!Number.isNaN(view.lastSuccess)) result.observe(this.#lastSuccess, view.lastSuccess, view.attributes);
      result.observe(this.#held, view.invalidTokensHeld, view.attributes);
      if (view.hasReceipts)
        view.receipts.forEach((value, i) => result.observe(this.#receipts, value, view.receiptAttributes[i]));
    }
  }

  #senderView(series: SenderSeries): SenderView {
    let view = this.#senders.get(series.key);
    if (view === undefined) this.#senders.set(series.key, (view = new SenderView(series.provider, series.app)));
    return view;
  }

  #operationView(series: OperationSeries): OperationView {
    let view = this.#operations.get(series.key);
    if (view === undefined) this.#operations.set(series.key, (view = new OperationView(series, this.#durations)));
    return view;
  }
}

const byMeterProvider = new WeakMap<MeterProvider, OtelMetrics>();

/**
 * The OtelMetrics of a meter provider, creating its instruments on first use. PushTelemetry instances given the same
 * provider share it, so their stores' in-flight calls and counts add up instead of overwriting each other.
 */
export function otelMetricsFor(meterProvider: MeterProvider): OtelMetrics {
  let metrics = byMeterProvider.get(meterProvider);
  if (metrics === undefined) byMeterProvider.set(meterProvider, (metrics = new OtelMetrics(meterProvider)));
  return metrics;
}
