import { DEVICE_RECEIPT_EVENTS, METRIC_NAMES, type DeviceReceiptEvent } from '../metrics/contract.js';
import type { PushTelemetry } from '../core/telemetry.js';
import { DEMO_PROVIDERS, type DemoProvider } from './clients/index.js';

/**
 * The delivery funnel under the demo's table: of the messages the providers accepted, the share devices confirmed
 * (delivered), showed (displayed) and the users opened, over a window, read from the registry /metrics serves. The
 * acceptance column cannot see devices going offline; this can.
 */

export type FunnelCounts = { accepted: number } & Record<DeviceReceiptEvent, number>;

interface Snapshot {
  readonly at: number;
  readonly counts: ReadonlyMap<DemoProvider, FunnelCounts>;
}

/**
 * Receipts trail their sends (a delivery takes about a second, an open half a minute), so the window is longer than
 * the table's rate window: shares over it are steady while nothing changes.
 */
const DEFAULT_WINDOW_MS = 20_000;

const empty = (): FunnelCounts => ({ accepted: 0, delivered: 0, displayed: 0, opened: 0 });
// Over a window a later step can outnumber the one before it (receipts for pushes sent before the window): capped.
const percent = (part: number, whole: number) => (whole > 0 ? `${(Math.min(1, part / whole) * 100).toFixed(1)}%` : '-');

export class DeviceFunnel {
  readonly #telemetry: PushTelemetry;
  readonly #history: Snapshot[] = [];
  readonly #windowMs: number;

  constructor(telemetry: PushTelemetry, windowMs = DEFAULT_WINDOW_MS) {
    this.#telemetry = telemetry;
    this.#windowMs = windowMs;
  }

  /** Takes a snapshot of the registry; call once a second. */
  async sample(now = Date.now()): Promise<void> {
    const counts = new Map<DemoProvider, FunnelCounts>(DEMO_PROVIDERS.map((provider) => [provider, empty()]));
    for (const metric of await this.#telemetry.registry.getMetricsAsJSON()) {
      if (metric.name !== METRIC_NAMES.messages && metric.name !== METRIC_NAMES.deviceReceipts) continue;
      for (const { labels, value } of metric.values) {
        const into = counts.get(labels.provider as DemoProvider);
        if (into === undefined) continue;
        if (metric.name === METRIC_NAMES.messages) {
          if (labels.outcome === 'accepted') into.accepted += value;
        } else if ((DEVICE_RECEIPT_EVENTS as readonly unknown[]).includes(labels.event)) {
          into[labels.event as DeviceReceiptEvent] += value;
        }
      }
    }
    this.#history.push({ at: now, counts });
    // The base is the newest snapshot at least a window old: older ones go.
    while (this.#history.length > 2 && (this.#history[1] as Snapshot).at <= now - this.#windowMs) this.#history.shift();
  }

  /** Per provider: what changed over the window (everything so far until a second snapshot). */
  window(): Record<DemoProvider, FunnelCounts> {
    const latest = this.#history[this.#history.length - 1];
    const base = this.#history.length > 1 ? this.#history[0] : undefined;
    return Object.fromEntries(
      DEMO_PROVIDERS.map((provider) => {
        const now = latest?.counts.get(provider) ?? empty();
        const then = base?.counts.get(provider) ?? empty();
        return [
          provider,
          {
            accepted: now.accepted - then.accepted,
            delivered: now.delivered - then.delivered,
            displayed: now.displayed - then.displayed,
            opened: now.opened - then.opened,
          },
        ];
      }),
    ) as Record<DemoProvider, FunnelCounts>;
  }

  /** Totals since the start, for the summary. */
  totals(): Record<DemoProvider, FunnelCounts> {
    const latest = this.#history[this.#history.length - 1];
    return Object.fromEntries(
      DEMO_PROVIDERS.map((provider) => [provider, { ...(latest?.counts.get(provider) ?? empty()) }]),
    ) as Record<DemoProvider, FunnelCounts>;
  }

  /** The lines under the table. */
  lines(): string[] {
    const window = this.window();
    return [
      `device receipts, last ${this.#windowMs / 1000} s (POST /v1/receipts): delivered of accepted, displayed of delivered, opened of displayed`,
      ...DEMO_PROVIDERS.map((provider) => {
        const { accepted, delivered, displayed, opened } = window[provider];
        return (
          `  ${provider.padEnd(8)} delivered ${percent(delivered, accepted).padStart(6)}  ` +
          `displayed ${percent(displayed, delivered).padStart(6)}  opened ${percent(opened, displayed).padStart(6)}`
        );
      }),
    ];
  }
}
