import { DURATION_BUCKETS } from '../metrics/contract.js';
import { METRIC_NAMES } from '../metrics/contract.js';
import type { ErrorType } from '../core/taxonomy.js';
import type { PushTelemetry } from '../core/telemetry.js';
import { DEMO_PROVIDERS, type DemoProvider } from './clients/index.js';

/**
 * The table's numbers, read from the same registry /metrics serves: what the demo shows is what Prometheus scrapes.
 * A snapshot per second; rates come from the difference between the newest snapshot and one a few seconds older.
 */

interface ProviderCounts {
  accepted: number;
  readonly failed: Map<ErrorType, number>;
  /** Cumulative duration buckets (le order, +Inf last), summed over operations and outcomes. */
  readonly buckets: number[];
  inFlight: number;
}

interface Snapshot {
  readonly at: number;
  readonly providers: ReadonlyMap<DemoProvider, ProviderCounts>;
}

export interface ProviderRow {
  readonly provider: DemoProvider;
  /** Messages whose calls completed (accepted or failed), per second: a hang takes it to 0 with calls still in flight. */
  readonly perSecond: number;
  /** Accepted share of the window's messages; undefined when there were none. */
  readonly acceptance: number | undefined;
  /** The window's failure types, most frequent first, with their share of all messages. */
  readonly topErrors: ReadonlyArray<{ readonly type: ErrorType; readonly share: number }>;
  /** Seconds; undefined without calls in the window. */
  readonly p95: number | undefined;
  readonly inFlight: number;
  /** Calls in flight and none completed over the rate window (at least 3 s of it): a hung provider, as the sender sees it. */
  readonly stuck: boolean;
  readonly totalAccepted: number;
  readonly totalFailed: number;
}

const RATE_WINDOW_MS = 5_000;
// Snapshots come a little over a second apart, so the rate window's base is 4 or 5 of them back; 3 s is enough to
// call a provider hung rather than between two completions.
const STUCK_AFTER_MS = 3_000;
const LATENCY_WINDOW_MS = 10_000;

interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

function emptyCounts(): ProviderCounts {
  return {
    accepted: 0,
    failed: new Map(),
    buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
    inFlight: 0,
  };
}

/** Histogram quantile as Prometheus computes it: linear within the bucket, the last finite bound for +Inf. */
export function quantile(q: number, buckets: readonly number[]): number | undefined {
  const total = buckets[buckets.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i] as number;
    if (count < rank) continue;
    if (i === DURATION_BUCKETS.length) return DURATION_BUCKETS[DURATION_BUCKETS.length - 1];
    const upper = DURATION_BUCKETS[i] as number;
    const lower = i === 0 ? 0 : (DURATION_BUCKETS[i - 1] as number);
    const below = i === 0 ? 0 : (buckets[i - 1] as number);
    return count === below ? upper : lower + ((upper - lower) * (rank - below)) / (count - below);
  }
  return undefined;
}

export class LiveStats {
  readonly #telemetry: PushTelemetry;
  readonly #history: Snapshot[] = [];

  constructor(telemetry: PushTelemetry) {
    this.#telemetry = telemetry;
  }

  /** Takes a snapshot of the registry; call once a second. */
  async sample(now = Date.now()): Promise<void> {
    const providers = new Map<DemoProvider, ProviderCounts>(
      DEMO_PROVIDERS.map((provider) => [provider, emptyCounts()]),
    );
    const counts = (labels: Sample['labels']) => providers.get(labels.provider as DemoProvider);
    for (const metric of await this.#telemetry.registry.getMetricsAsJSON()) {
      for (const sample of metric.values as readonly Sample[]) {
        const into = counts(sample.labels);
        if (into === undefined) continue;
        if (metric.name === METRIC_NAMES.messages) {
          if (sample.labels.outcome === 'accepted') into.accepted += sample.value;
          else
            into.failed.set(
              sample.labels.error_type as ErrorType,
              (into.failed.get(sample.labels.error_type as ErrorType) ?? 0) + sample.value,
            );
        } else if (metric.name === METRIC_NAMES.inFlight) {
          into.inFlight += sample.value;
        } else if (sample.metricName === `${METRIC_NAMES.duration}_bucket`) {
          const le = sample.labels.le;
          const index =
            le === '+Inf'
              ? DURATION_BUCKETS.length
              : DURATION_BUCKETS.indexOf(Number(le) as (typeof DURATION_BUCKETS)[number]);
          if (index >= 0) into.buckets[index] = (into.buckets[index] as number) + sample.value;
        }
      }
    }
    this.#history.push({ at: now, providers });
    while (this.#history.length > 0 && (this.#history[0] as Snapshot).at < now - LATENCY_WINDOW_MS - 1_000)
      this.#history.shift();
  }

  /** The snapshot closest to `ms` before the newest, or the oldest kept. */
  #before(ms: number): Snapshot | undefined {
    const latest = this.#history[this.#history.length - 1];
    if (latest === undefined) return undefined;
    return this.#history.find((snapshot) => snapshot.at >= latest.at - ms) ?? this.#history[0];
  }

  rows(): ProviderRow[] {
    const latest = this.#history[this.#history.length - 1];
    const rateBase = this.#before(RATE_WINDOW_MS);
    const latencyBase = this.#before(LATENCY_WINDOW_MS);
    return DEMO_PROVIDERS.map((provider): ProviderRow => {
      const now = latest?.providers.get(provider) ?? emptyCounts();
      const then = rateBase !== latest ? (rateBase?.providers.get(provider) ?? emptyCounts()) : emptyCounts();
      const seconds =
        latest !== undefined && rateBase !== undefined && rateBase !== latest ? (latest.at - rateBase.at) / 1000 : 1;
      const longEnough = latest !== undefined && rateBase !== undefined && latest.at - rateBase.at >= STUCK_AFTER_MS;
      const accepted = now.accepted - then.accepted;
      const failed = [...now.failed]
        .map(([type, count]) => ({ type, count: count - (then.failed.get(type) ?? 0) }))
        .filter((entry) => entry.count > 0);
      const total = accepted + failed.reduce((sum, entry) => sum + entry.count, 0);
      const old = latencyBase !== latest ? latencyBase?.providers.get(provider) : undefined;
      const buckets = now.buckets.map((count, i) => count - (old?.buckets[i] ?? 0));
      return {
        provider,
        perSecond: total / seconds,
        acceptance: total > 0 ? accepted / total : undefined,
        topErrors: failed.sort((a, b) => b.count - a.count).map(({ type, count }) => ({ type, share: count / total })),
        p95: quantile(0.95, buckets),
        inFlight: now.inFlight,
        // Counted as calls complete, so no change in messages over the window means no completed call.
        stuck: longEnough && now.inFlight > 0 && total === 0,
        totalAccepted: now.accepted,
        totalFailed: [...now.failed.values()].reduce((sum, count) => sum + count, 0),
      };
    });
  }
}
