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
import { DURATION_BUCKETS } from './contract.js';
import {
  COUNT_SLOTS,
  SeriesStore,
  type DurationReader,
  type DurationSink,
  type OperationSeries,
  type SenderSeries,
} from './counter-store.js';
import type { ErrorType } from '../core/taxonomy.js';
import {
  OTEL_METRIC_DESCRIPTIONS,
  OTEL_METRIC_NAMES,
  OTEL_METRIC_UNITS,
  durationAttributeSets,
  failedDurationSet,
  outcomeAttributes,
  senderAttributes,
  sentAttributeSets,
  settledDurationSet,
} from './otel-instruments.js';
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
    this.#buffer.append(this.#first + settledDurationSet(outcome, failedTypes), seconds);
  }

  failed(errorType: ErrorType, seconds: number): void {
    this.#buffer.append(this.#first + failedDurationSet(errorType), seconds);
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
    this.attributes = senderAttributes(provider, app);
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
    this.sentAttributes = sentAttributeSets(series);
    this.duration = new OperationDuration(buffer, buffer.register(durationAttributeSets(series)));
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
      description: OTEL_METRIC_DESCRIPTIONS.duration,
      unit: OTEL_METRIC_UNITS.duration,
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
    this.#durations = new DurationBuffer(duration, this.#problems);
    this.#sent = meter.createObservableCounter(OTEL_METRIC_NAMES.sentMessages, {
      description: OTEL_METRIC_DESCRIPTIONS.sentMessages,
      unit: OTEL_METRIC_UNITS.sentMessages,
    });
    this.#receipts = meter.createObservableCounter(OTEL_METRIC_NAMES.receipts, {
      description: OTEL_METRIC_DESCRIPTIONS.receipts,
      unit: OTEL_METRIC_UNITS.receipts,
    });
    this.#activeRequests = meter.createObservableUpDownCounter(OTEL_METRIC_NAMES.activeRequests, {
      description: OTEL_METRIC_DESCRIPTIONS.activeRequests,
      unit: OTEL_METRIC_UNITS.activeRequests,
    });
    this.#lastSuccess = meter.createObservableGauge(OTEL_METRIC_NAMES.lastSuccess, {
      description: OTEL_METRIC_DESCRIPTIONS.lastSuccess,
      unit: OTEL_METRIC_UNITS.lastSuccess,
    });
    this.#held = meter.createObservableCounter(OTEL_METRIC_NAMES.invalidTokensHeld, {
      description: OTEL_METRIC_DESCRIPTIONS.invalidTokensHeld,
      unit: OTEL_METRIC_UNITS.invalidTokensHeld,
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
