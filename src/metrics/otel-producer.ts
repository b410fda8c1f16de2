import type { Attributes, HrTime } from '@opentelemetry/api';
import { DURATION_BUCKETS } from './contract.js';
import {
  BUCKET_COUNT,
  durationBucket,
  type DurationReader,
  type DurationSink,
  type OperationSeries,
  type SenderSeries,
  type SeriesStore,
} from './counter-store.js';
import type { ErrorType } from '../core/taxonomy.js';
import {
  DURATION_SETS,
  OTEL_METRIC_DESCRIPTIONS,
  OTEL_METRIC_NAMES,
  OTEL_METRIC_UNITS,
  type OtelMetricKey,
  durationAttributeSets,
  failedDurationSet,
  outcomeAttributes,
  senderAttributes,
  sentAttributeSets,
  settledDurationSet,
} from './otel-instruments.js';
import { VERSION } from '../version.js';

/**
 * The push metrics as an OpenTelemetry MetricProducer: a reader given it (`metricProducers` of a
 * PeriodicExportingMetricReader, say) collects the store's counts and this producer's own duration histograms, with
 * the names and attributes the meter-provider instruments use. The SDK's synchronous Histogram hashes the attribute
 * set of every value it records; aggregating the durations here, in typed arrays like the Prometheus histogram,
 * keeps that cost out of the send path altogether.
 *
 * The literal enum values below are sdk-metrics' (an optional peer, so never imported at run time):
 * AggregationTemporality.CUMULATIVE = 1, DataPointType HISTOGRAM = 0, GAUGE = 2, SUM = 3, and the API's
 * ValueType.DOUBLE = 1. test/otel-metrics.test.ts checks them against the real SDK.
 */

/** One data point, as sdk-metrics' `DataPoint<T>`. */
export interface PushDataPoint<T> {
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly attributes: Attributes;
  readonly value: T;
}

/** An explicit-bucket histogram value, as sdk-metrics' `Histogram`. */
export interface PushHistogramValue {
  buckets: { boundaries: number[]; counts: number[] };
  sum: number;
  count: number;
  min: number;
  max: number;
}

interface PushMetricDataBase {
  readonly descriptor: {
    readonly name: string;
    readonly description: string;
    readonly unit: string;
    readonly valueType: 1;
  };
  readonly aggregationTemporality: 1;
}

/** A counter or up-down counter: sdk-metrics' `SumMetricData`. */
export interface PushSumMetricData extends PushMetricDataBase {
  readonly dataPointType: 3;
  readonly isMonotonic: boolean;
  readonly dataPoints: PushDataPoint<number>[];
}

/** A gauge: sdk-metrics' `GaugeMetricData`. */
export interface PushGaugeMetricData extends PushMetricDataBase {
  readonly dataPointType: 2;
  readonly dataPoints: PushDataPoint<number>[];
}

/** A histogram: sdk-metrics' `HistogramMetricData`. */
export interface PushHistogramMetricData extends PushMetricDataBase {
  readonly dataPointType: 0;
  readonly dataPoints: PushDataPoint<PushHistogramValue>[];
}

export type PushMetricData = PushSumMetricData | PushGaugeMetricData | PushHistogramMetricData;

/** What `collect()` resolves to: sdk-metrics' `CollectionResult`, whose reader keeps its own SDK's resource. */
export interface PushMetricCollection {
  resourceMetrics: {
    /** None: a MetricReader merges a producer's scope metrics under its meter provider's resource. */
    resource: never;
    scopeMetrics: { scope: { name: string; version: string }; metrics: PushMetricData[] }[];
  };
  errors: unknown[];
}

/** An OpenTelemetry `MetricProducer` (sdk-metrics) reporting the push metrics. */
export interface PushMetricProducer {
  collect(options?: { timeoutMillis?: number }): Promise<PushMetricCollection>;
}

const BOUNDARIES: readonly number[] = DURATION_BUCKETS;

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

function descriptor(key: OtelMetricKey): PushMetricDataBase['descriptor'] {
  return {
    name: OTEL_METRIC_NAMES[key],
    description: OTEL_METRIC_DESCRIPTIONS[key],
    unit: OTEL_METRIC_UNITS[key],
    valueType: 1,
  };
}

/** The duration histograms of one operation, one row of buckets per duration attribute set. */
class OperationHistograms implements DurationSink {
  readonly attributes: readonly Attributes[];
  readonly buckets = new Float64Array(DURATION_SETS * BUCKET_COUNT);
  readonly sums = new Float64Array(DURATION_SETS);
  readonly counts = new Float64Array(DURATION_SETS);
  readonly mins = new Float64Array(DURATION_SETS).fill(Number.POSITIVE_INFINITY);
  readonly maxs = new Float64Array(DURATION_SETS).fill(Number.NEGATIVE_INFINITY);

  constructor(series: OperationSeries) {
    this.attributes = durationAttributeSets(series);
  }

  settled(outcome: number, failedTypes: readonly ErrorType[], seconds: number): void {
    this.#observe(settledDurationSet(outcome, failedTypes), seconds);
  }

  failed(errorType: ErrorType, seconds: number): void {
    this.#observe(failedDurationSet(errorType), seconds);
  }

  #observe(set: number, seconds: number): void {
    const slot = set * BUCKET_COUNT + durationBucket(seconds);
    this.buckets[slot] = (this.buckets[slot] as number) + 1;
    this.sums[set] = (this.sums[set] as number) + seconds;
    this.counts[set] = (this.counts[set] as number) + 1;
    if (seconds < (this.mins[set] as number)) this.mins[set] = seconds;
    if (seconds > (this.maxs[set] as number)) this.maxs[set] = seconds;
  }

  points(startTime: HrTime, endTime: HrTime, into: PushDataPoint<PushHistogramValue>[]): void {
    for (let set = 0; set < DURATION_SETS; set++) {
      const count = this.counts[set] as number;
      // Like the SDK's Histogram, an attribute set exists once a value was recorded with it.
      if (count === 0) continue;
      const counts = Array.from(this.buckets.subarray(set * BUCKET_COUNT, (set + 1) * BUCKET_COUNT));
      into.push({
        startTime,
        endTime,
        attributes: this.attributes[set] as Attributes,
        value: {
          buckets: { boundaries: [...BOUNDARIES], counts },
          sum: this.sums[set] as number,
          count,
          min: this.mins[set] as number,
          max: this.maxs[set] as number,
        },
      });
    }
  }
}

class StoreMetricProducer implements PushMetricProducer, DurationReader {
  readonly #store: SeriesStore;
  /** Durations are aggregated from the producer's creation; the counts from the store's. */
  readonly #startedAt = Date.now();
  readonly #histograms: OperationHistograms[] = [];
  readonly #sentSets = new WeakMap<OperationSeries, readonly Attributes[]>();
  readonly #senderSets = new WeakMap<SenderSeries, Attributes>();
  readonly #receiptSets = new WeakMap<SenderSeries, readonly Attributes[]>();

  constructor(store: SeriesStore) {
    this.#store = store;
    store.addDurationReader(this);
  }

  durationSink(series: OperationSeries): DurationSink {
    const histograms = new OperationHistograms(series);
    this.#histograms.push(histograms);
    return histograms;
  }

  async collect(): Promise<PushMetricCollection> {
    const errors: unknown[] = [];
    let metrics: PushMetricData[] = [];
    try {
      metrics = this.#metrics();
    } catch (error) {
      errors.push(error);
    }
    return {
      resourceMetrics: {
        resource: undefined as never,
        scopeMetrics: [{ scope: { name: 'push-telemetry', version: VERSION }, metrics }],
      },
      errors,
    };
  }

  #metrics(): PushMetricData[] {
    const now = Date.now();
    const endTime = hrTime(now);
    const storeStart = hrTime(this.#store.startedAt);
    const point = (attributes: Attributes, value: number): PushDataPoint<number> => ({
      startTime: storeStart,
      endTime,
      attributes,
      value,
    });
    const sent: PushDataPoint<number>[] = [];
    for (const series of this.#store.operations.values()) {
      const sets = this.#sentAttributes(series);
      // Every slot, zeros too: a series exists from wrap time, as on /metrics, so its first increase is visible.
      series.messages.forEach((value, i) => sent.push(point(sets[i] as Attributes, value)));
    }
    const durations: PushDataPoint<PushHistogramValue>[] = [];
    const producerStart = hrTime(this.#startedAt);
    for (const histograms of this.#histograms) histograms.points(producerStart, endTime, durations);
    const active: PushDataPoint<number>[] = [];
    const lastSuccess: PushDataPoint<number>[] = [];
    const held: PushDataPoint<number>[] = [];
    const receipts: PushDataPoint<number>[] = [];
    for (const series of this.#store.senders.values()) {
      const attributes = this.#senderAttributes(series);
      active.push(point(attributes, series.inFlight));
      const last = series.lastSuccess.unixSeconds();
      if (!Number.isNaN(last)) lastSuccess.push(point(attributes, last));
      held.push(point(attributes, series.invalidTokensHeld));
      const sets = series.receipts && this.#receiptAttributes(series, attributes);
      series.receipts?.forEach((value, i) => receipts.push(point(sets?.[i] as Attributes, value)));
    }
    const sum = (key: OtelMetricKey, isMonotonic: boolean, dataPoints: PushDataPoint<number>[]): PushSumMetricData => ({
      descriptor: descriptor(key),
      aggregationTemporality: 1,
      dataPointType: 3,
      isMonotonic,
      dataPoints,
    });
    const metrics: PushMetricData[] = [
      sum('sentMessages', true, sent),
      { descriptor: descriptor('duration'), aggregationTemporality: 1, dataPointType: 0, dataPoints: durations },
      sum('activeRequests', false, active),
      { descriptor: descriptor('lastSuccess'), aggregationTemporality: 1, dataPointType: 2, dataPoints: lastSuccess },
      sum('receipts', true, receipts),
      sum('invalidTokensHeld', true, held),
    ];
    return metrics.filter((metric) => metric.dataPoints.length > 0);
  }

  #sentAttributes(series: OperationSeries): readonly Attributes[] {
    let sets = this.#sentSets.get(series);
    if (sets === undefined) this.#sentSets.set(series, (sets = sentAttributeSets(series)));
    return sets;
  }

  #senderAttributes(series: SenderSeries): Attributes {
    let attributes = this.#senderSets.get(series);
    if (attributes === undefined)
      this.#senderSets.set(series, (attributes = senderAttributes(series.provider, series.app)));
    return attributes;
  }

  #receiptAttributes(series: SenderSeries, attributes: Attributes): readonly Attributes[] {
    let sets = this.#receiptSets.get(series);
    if (sets === undefined)
      this.#receiptSets.set(series, (sets = outcomeAttributes(attributes, 'delivered', 'failed')));
    return sets;
  }
}

const byStore = new WeakMap<SeriesStore, StoreMetricProducer>();

/** The metric producer of a store: one per store, so instances sharing a registry share it. */
export function metricProducerFor(store: SeriesStore): PushMetricProducer {
  let producer = byStore.get(store);
  if (producer === undefined) byStore.set(store, (producer = new StoreMetricProducer(store)));
  return producer;
}
