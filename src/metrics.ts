import { Counter, Gauge, Histogram, type Registry as PromClientRegistry, type RegistryContentType } from 'prom-client';

type Registry = PromClientRegistry<RegistryContentType>;
import { DURATION_BUCKETS, SeriesStore } from './series.js';
import type { MetricFamily, Sample } from './internal-types.js';
import { VERSION } from './version.js';

/**
 * The contract's metrics, registered once per prom-client registry. Each is a real prom-client metric (so
 * `registry.metrics()`, `getMetricsAsJSON()` and AggregatorRegistry all work) whose `get()` reads the SeriesStore
 * at scrape time instead of prom-client's own label maps.
 */

export const METRIC_NAMES = {
  messages: 'push_messages_total',
  duration: 'push_request_duration_seconds',
  inFlight: 'push_requests_in_flight',
  lastSuccess: 'push_last_success_timestamp_seconds',
  receipts: 'push_receipts_total',
  info: 'push_telemetry_info',
  invalidTokensHeld: 'push_invalid_tokens_held_total',
} as const;

const HELP = {
  messages: 'Recipient messages handed to a push provider, by outcome (accepted|failed) and error_type (failed only).',
  duration: 'Duration of push provider API calls in seconds, by operation and outcome (success|partial|failure).',
  inFlight: 'Push provider API calls started and not yet settled.',
  lastSuccess: 'Unix time in seconds of the last message a push provider accepted.',
  receipts: 'Second-phase delivery receipts (Expo), by outcome (delivered|failed) and error_type (failed only).',
  invalidTokensHeld: 'Invalid-token verdicts the surge guard held back from onInvalidToken for a person to confirm (a mass verdict is likelier a misconfiguration than real uninstalls).',
  info: 'Always 1 while a push-telemetry instrumented process runs; tells "no traffic" from "sender gone".',
} as const;

type FamilyReader = () => MetricFamily;

// prom-client's typings describe `get()` with an enum for `type`; at run time it is the string we return.
function readFrom<M extends { get: unknown }>(metric: M, read: FamilyReader): M {
  const get = async () => read();
  Object.assign(metric, { get, getForPromString: get });
  return metric;
}

function family(name: string, help: string, type: MetricFamily['type'], aggregator: MetricFamily['aggregator'], collect: (into: Sample[]) => void): FamilyReader {
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
    new Counter({ name: METRIC_NAMES.messages, help: HELP.messages, labelNames: ['provider', 'app', 'outcome', 'error_type'], registers }),
    family(METRIC_NAMES.messages, HELP.messages, 'counter', 'sum', (into) => { for (const s of senders()) s.messageSamples(into); }),
  );
  readFrom(
    new Histogram({ name: METRIC_NAMES.duration, help: HELP.duration, labelNames: ['provider', 'app', 'operation', 'outcome'], buckets: [...DURATION_BUCKETS], registers }),
    family(METRIC_NAMES.duration, HELP.duration, 'histogram', 'sum', (into) => { for (const o of store.operations.values()) o.samples(METRIC_NAMES.duration, into); }),
  );
  readFrom(
    new Gauge({ name: METRIC_NAMES.inFlight, help: HELP.inFlight, labelNames: ['provider', 'app'], registers }),
    family(METRIC_NAMES.inFlight, HELP.inFlight, 'gauge', 'sum', (into) => { for (const s of senders()) into.push({ labels: s.labels, value: s.inFlight }); }),
  );
  readFrom(
    new Gauge({ name: METRIC_NAMES.lastSuccess, help: HELP.lastSuccess, labelNames: ['provider', 'app'], registers, aggregator: 'max' }),
    family(METRIC_NAMES.lastSuccess, HELP.lastSuccess, 'gauge', 'max', (into) => {
      for (const s of senders()) {
        const seconds = s.lastSuccess.unixSeconds();
        if (!Number.isNaN(seconds)) into.push({ labels: s.labels, value: seconds });
      }
    }),
  );
  readFrom(
    new Counter({ name: METRIC_NAMES.receipts, help: HELP.receipts, labelNames: ['provider', 'app', 'outcome', 'error_type'], registers }),
    family(METRIC_NAMES.receipts, HELP.receipts, 'counter', 'sum', (into) => { for (const s of senders()) s.receiptSamples(into); }),
  );
  readFrom(
    new Counter({ name: METRIC_NAMES.invalidTokensHeld, help: HELP.invalidTokensHeld, labelNames: ['provider', 'app'], registers }),
    family(METRIC_NAMES.invalidTokensHeld, HELP.invalidTokensHeld, 'counter', 'sum', (into) => {
      for (const s of senders()) into.push({ labels: s.labels, value: s.invalidTokensHeld });
    }),
  );
  const infoLabels = Object.freeze({ version: VERSION });
  readFrom(
    new Gauge({ name: METRIC_NAMES.info, help: HELP.info, labelNames: ['version'], registers, aggregator: 'max' }),
    family(METRIC_NAMES.info, HELP.info, 'gauge', 'max', (into) => { into.push({ labels: infoLabels, value: 1 }); }),
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
