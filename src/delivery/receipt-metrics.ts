import type { Registry as PromClientRegistry, RegistryContentType } from 'prom-client';
import { Counter, Histogram } from '../core/peers.js';
import {
  bucketIndex,
  DELIVERY_LATENCY_BUCKETS,
  DEVICE_RECEIPT_EVENTS,
  METRIC_HELP as HELP,
  METRIC_LABELS,
  METRIC_NAMES,
  RECEIPT_REJECT_REASONS,
  type ReceiptRejectReason,
} from '../metrics/contract.js';
import type { Labels, MetricFamily, Sample } from '../metrics/exposition-model.js';

type Registry = PromClientRegistry<RegistryContentType>;

/**
 * The device receipt metrics of one prom-client registry, kept as the send path keeps its own
 * (metrics/counter-store.ts): counting touches preallocated slots, labels are built once per series, and prom-client
 * only reads the slots at scrape time. A series exists per (provider, app) the receipts handler has already checked
 * against its allow-lists. Its event counts show at 0 from the start, so that increase() sees a restarted process's
 * first receipt and a process whose devices confirm nothing reports 0, not an absent series; its latency histogram
 * shows from its first receipt (only deliveries observe). The rejection reasons show from the start.
 */

const BUCKET_COUNT = DELIVERY_LATENCY_BUCKETS.length + 1; // + the +Inf bucket
const REASON_INDEX = new Map<string, number>(RECEIPT_REJECT_REASONS.map((reason, index) => [reason, index]));

function add(slots: Float64Array, index: number, count: number): void {
  slots[index] = (slots[index] as number) + count;
}

/** One provider and app: a count per event and the latency histogram of its delivered receipts. */
export class DeviceReceiptSeries {
  readonly provider: string;
  readonly app: string;
  /** Counts in DEVICE_RECEIPT_EVENTS order. */
  readonly events = new Float64Array(DEVICE_RECEIPT_EVENTS.length);
  readonly #buckets = new Float64Array(BUCKET_COUNT);
  #sum = 0;
  #count = 0;
  #seen = false;
  readonly #labels: Labels;
  readonly #eventLabels: readonly Labels[];
  readonly #bucketLabels: readonly Labels[];

  constructor(provider: string, app: string) {
    this.provider = provider;
    this.app = app;
    this.#labels = Object.freeze({ provider, app });
    this.#eventLabels = DEVICE_RECEIPT_EVENTS.map((event) => Object.freeze({ provider, app, event }));
    this.#bucketLabels = [...DELIVERY_LATENCY_BUCKETS, '+Inf' as const].map((le) =>
      Object.freeze({ provider, app, le }),
    );
  }

  /** Counts one receipt of DEVICE_RECEIPT_EVENTS[event]; latency in seconds when it is a delivery. */
  count(event: number, latencySeconds?: number): void {
    this.#seen = true;
    add(this.events, event, 1);
    if (latencySeconds === undefined) return;
    add(this.#buckets, bucketIndex(DELIVERY_LATENCY_BUCKETS, latencySeconds), 1);
    this.#sum += latencySeconds;
    this.#count++;
  }

  eventSamples(into: Sample[]): void {
    for (let event = 0; event < DEVICE_RECEIPT_EVENTS.length; event++)
      into.push({ labels: this.#eventLabels[event] as Labels, value: this.events[event] as number });
  }

  latencySamples(into: Sample[]): void {
    if (!this.#seen) return;
    const name = METRIC_NAMES.deliveryLatency;
    let cumulative = 0;
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      cumulative += this.#buckets[bucket] as number;
      into.push({ metricName: `${name}_bucket`, labels: this.#bucketLabels[bucket] as Labels, value: cumulative });
    }
    into.push({ metricName: `${name}_sum`, labels: this.#labels, value: this.#sum });
    into.push({ metricName: `${name}_count`, labels: this.#labels, value: this.#count });
  }
}

export class DeviceReceiptMetrics {
  readonly #series = new Map<string, DeviceReceiptSeries>();
  readonly #rejected = new Float64Array(RECEIPT_REJECT_REASONS.length);
  readonly #reasonLabels = RECEIPT_REJECT_REASONS.map((reason) => Object.freeze({ reason }));

  /**
   * The series of a provider and app, made on first use. Callers pass only values they have checked against an
   * allow-list: anything passed here becomes a label value.
   */
  series(provider: string, app: string): DeviceReceiptSeries {
    const key = `${provider}\u0000${app}`;
    let series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, (series = new DeviceReceiptSeries(provider, app)));
    return series;
  }

  reject(reason: ReceiptRejectReason, count = 1): void {
    add(this.#rejected, REASON_INDEX.get(reason) as number, count);
  }

  /** Refusals so far, by reason. */
  rejected(): Readonly<Record<ReceiptRejectReason, number>> {
    return Object.fromEntries(RECEIPT_REJECT_REASONS.map((reason, index) => [reason, this.#rejected[index]])) as Record<
      ReceiptRejectReason,
      number
    >;
  }

  readonly families = {
    receipts: (): MetricFamily => {
      const values: Sample[] = [];
      for (const series of this.#series.values()) series.eventSamples(values);
      return family(METRIC_NAMES.deviceReceipts, HELP.deviceReceipts, 'counter', values);
    },
    latency: (): MetricFamily => {
      const values: Sample[] = [];
      for (const series of this.#series.values()) series.latencySamples(values);
      return family(METRIC_NAMES.deliveryLatency, HELP.deliveryLatency, 'histogram', values);
    },
    rejected: (): MetricFamily => {
      const values = this.#reasonLabels.map((labels, index) => ({ labels, value: this.#rejected[index] as number }));
      return family(METRIC_NAMES.deviceReceiptsRejected, HELP.deviceReceiptsRejected, 'counter', values);
    },
  };
}

function family(name: string, help: string, type: MetricFamily['type'], values: Sample[]): MetricFamily {
  return { name, help, type, aggregator: 'sum', values };
}

// As in prom-client-binding.ts: a real prom-client metric whose get() reads the slots (its typings want an enum).
function readFrom(metric: { get: unknown }, read: () => MetricFamily): void {
  const get = async () => read();
  Object.assign(metric, { get, getForPromString: get });
}

const NAMES = [METRIC_NAMES.deviceReceipts, METRIC_NAMES.deliveryLatency, METRIC_NAMES.deviceReceiptsRejected];
const bound = new WeakMap<Registry, DeviceReceiptMetrics>();

/**
 * The device receipt metrics of a registry, registered on first use: every receipts handler on the registry counts
 * into the same slots, so two handlers (say one per app) add up instead of colliding.
 */
export function deviceReceiptMetricsFor(registry: Registry): DeviceReceiptMetrics {
  let metrics = bound.get(registry);
  if (metrics !== undefined) return metrics;
  const taken = NAMES.filter((name) => registry.getSingleMetric(name) !== undefined);
  if (taken.length > 0) {
    throw new TypeError(
      `the registry already has ${taken.join(', ')} registered by something other than this push-telemetry module ` +
        '(two copies of push-telemetry cannot share one registry)',
    );
  }
  metrics = new DeviceReceiptMetrics();
  const registers = [registry];
  readFrom(
    new Counter({
      name: METRIC_NAMES.deviceReceipts,
      help: HELP.deviceReceipts,
      labelNames: [...METRIC_LABELS.deviceReceipts],
      registers,
    }),
    metrics.families.receipts,
  );
  readFrom(
    new Histogram({
      name: METRIC_NAMES.deliveryLatency,
      help: HELP.deliveryLatency,
      labelNames: [...METRIC_LABELS.deliveryLatency],
      buckets: [...DELIVERY_LATENCY_BUCKETS],
      registers,
    }),
    metrics.families.latency,
  );
  readFrom(
    new Counter({
      name: METRIC_NAMES.deviceReceiptsRejected,
      help: HELP.deviceReceiptsRejected,
      labelNames: [...METRIC_LABELS.deviceReceiptsRejected],
      registers,
    }),
    metrics.families.rejected,
  );
  bound.set(registry, metrics);
  return metrics;
}
