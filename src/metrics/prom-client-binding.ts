import type { Registry as PromClientRegistry, RegistryContentType } from 'prom-client';
import { Counter, Gauge, Histogram } from '../core/peers.js';

type Registry = PromClientRegistry<RegistryContentType>;
import {
  DURATION_BUCKETS,
  METRIC_HELP as HELP,
  METRIC_LABELS,
  METRIC_NAMES,
  RECIPIENT_SENDS_BUCKETS,
} from './contract.js';
import { frequencySamples, overCapSamples } from './frequency-samples.js';
import { SeriesStore } from './counter-store.js';
import type { MetricFamily, Sample } from './exposition-model.js';
import { VERSION } from '../version.js';

/**
 * The contract's metrics, registered once per prom-client registry. Each is a real prom-client metric (so
 * `registry.metrics()`, `getMetricsAsJSON()` and AggregatorRegistry all work) whose `get()` reads the SeriesStore
 * at scrape time instead of prom-client's own label maps.
 */

type FamilyReader = () => MetricFamily;

// prom-client's typings describe `get()` with an enum for `type`; at run time it is the string we return.
function readFrom<M extends { get: unknown }>(metric: M, read: FamilyReader): M {
  const get = async () => read();
  Object.assign(metric, { get, getForPromString: get });
  return metric;
}

function family(
  name: string,
  help: string,
  type: MetricFamily['type'],
  aggregator: MetricFamily['aggregator'],
  collect: (into: Sample[]) => void,
): FamilyReader {
  return () => {
    const values: Sample[] = [];
    collect(values);
    return { name, help, type, aggregator, values };
  };
}

function register(registry: Registry, store: SeriesStore): void {
  const registers = [registry];
  const senders = () => store.senders.values();
  readFrom(
    new Counter({
      name: METRIC_NAMES.messages,
      help: HELP.messages,
      labelNames: [...METRIC_LABELS.messages],
      registers,
    }),
    family(METRIC_NAMES.messages, HELP.messages, 'counter', 'sum', (into) => {
      for (const s of senders()) s.messageSamples(into);
    }),
  );
  readFrom(
    new Histogram({
      name: METRIC_NAMES.duration,
      help: HELP.duration,
      labelNames: [...METRIC_LABELS.duration],
      buckets: [...DURATION_BUCKETS],
      registers,
    }),
    family(METRIC_NAMES.duration, HELP.duration, 'histogram', 'sum', (into) => {
      for (const o of store.operations.values()) o.samples(METRIC_NAMES.duration, into);
    }),
  );
  readFrom(
    new Gauge({ name: METRIC_NAMES.inFlight, help: HELP.inFlight, labelNames: [...METRIC_LABELS.inFlight], registers }),
    family(METRIC_NAMES.inFlight, HELP.inFlight, 'gauge', 'sum', (into) => {
      for (const s of senders()) into.push({ labels: s.labels, value: s.inFlight });
    }),
  );
  readFrom(
    new Gauge({
      name: METRIC_NAMES.lastSuccess,
      help: HELP.lastSuccess,
      labelNames: [...METRIC_LABELS.lastSuccess],
      registers,
      aggregator: 'max',
    }),
    family(METRIC_NAMES.lastSuccess, HELP.lastSuccess, 'gauge', 'max', (into) => {
      for (const s of senders()) {
        const seconds = s.lastSuccess.unixSeconds();
        if (!Number.isNaN(seconds)) into.push({ labels: s.labels, value: seconds });
      }
    }),
  );
  readFrom(
    new Counter({
      name: METRIC_NAMES.receipts,
      help: HELP.receipts,
      labelNames: [...METRIC_LABELS.receipts],
      registers,
    }),
    family(METRIC_NAMES.receipts, HELP.receipts, 'counter', 'sum', (into) => {
      for (const s of senders()) s.receiptSamples(into);
    }),
  );
  readFrom(
    new Counter({
      name: METRIC_NAMES.invalidTokensHeld,
      help: HELP.invalidTokensHeld,
      labelNames: [...METRIC_LABELS.invalidTokensHeld],
      registers,
    }),
    family(METRIC_NAMES.invalidTokensHeld, HELP.invalidTokensHeld, 'counter', 'sum', (into) => {
      for (const s of senders()) into.push({ labels: s.labels, value: s.invalidTokensHeld });
    }),
  );
  readFrom(
    new Histogram({
      name: METRIC_NAMES.recipientDailySends,
      help: HELP.recipientDailySends,
      labelNames: [...METRIC_LABELS.recipientDailySends],
      buckets: [...RECIPIENT_SENDS_BUCKETS],
      registers,
    }),
    // A snapshot per scrape: summing it over cluster workers counts each worker's recipients, as it should.
    family(METRIC_NAMES.recipientDailySends, HELP.recipientDailySends, 'histogram', 'sum', (into) => {
      for (const s of senders()) frequencySamples(s, METRIC_NAMES.recipientDailySends, into);
    }),
  );
  readFrom(
    new Gauge({
      name: METRIC_NAMES.recipientsOverSendCap,
      help: HELP.recipientsOverSendCap,
      labelNames: [...METRIC_LABELS.recipientsOverSendCap],
      registers,
      aggregator: 'average',
    }),
    family(METRIC_NAMES.recipientsOverSendCap, HELP.recipientsOverSendCap, 'gauge', 'average', (into) => {
      for (const s of senders()) overCapSamples(s, into);
    }),
  );
  const infoLabels = Object.freeze({ version: VERSION });
  readFrom(
    new Gauge({
      name: METRIC_NAMES.info,
      help: HELP.info,
      labelNames: [...METRIC_LABELS.info],
      registers,
      aggregator: 'max',
    }),
    family(METRIC_NAMES.info, HELP.info, 'gauge', 'max', (into) => {
      into.push({ labels: infoLabels, value: 1 });
    }),
  );
}

const stores = new WeakMap<Registry, SeriesStore>();

/**
 * The SeriesStore bound to a registry, registering the contract's metrics on first use. Instances sharing a registry
 * share the store, so equal label sets add up instead of colliding.
 */
export function storeFor(registry: Registry): SeriesStore {
  let store = stores.get(registry);
  if (store !== undefined) return store;
  const taken = Object.values(METRIC_NAMES).filter((name) => registry.getSingleMetric(name) !== undefined);
  if (taken.length > 0) {
    throw new TypeError(
      `options.registry already has ${taken.join(', ')} registered by something other than this push-telemetry module; ` +
        'pass a registry without them (two copies of push-telemetry cannot share one registry)',
    );
  }
  store = new SeriesStore();
  register(registry, store);
  stores.set(registry, store);
  return store;
}
