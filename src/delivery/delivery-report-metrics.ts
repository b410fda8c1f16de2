import type { Registry as PromClientRegistry, RegistryContentType } from 'prom-client';
import { Counter, Gauge } from '../core/peers.js';
import {
  APNS_DELIVERY_OUTCOMES,
  DELIVERY_REPORT_ERROR_REASONS,
  DELIVERY_REPORT_METRIC_HELP as HELP,
  DELIVERY_REPORT_METRIC_LABELS as LABELS,
  DELIVERY_REPORT_METRIC_NAMES as NAMES,
  FCM_DELIVERY_OUTCOMES,
} from '../metrics/contract.js';
import { dateSeconds, type DeliveryReport, type DeliveryReportErrorReason } from './delivery-report.js';

type Registry = PromClientRegistry<RegistryContentType>;

const OUTCOMES = { fcm: FCM_DELIVERY_OUTCOMES, apns: APNS_DELIVERY_OUTCOMES } as const;

/** The delivery report gauges on one registry: created once, shared by every poller bound to it. */
export class DeliveryReportMetrics {
  readonly #ratio: InstanceType<typeof Gauge>;
  readonly #timestamp: InstanceType<typeof Gauge>;
  readonly #messages: InstanceType<typeof Gauge>;
  readonly #errors: InstanceType<typeof Counter>;

  constructor(registry: Registry) {
    const registers = [registry];
    // Several processes polling the same report agree on it: max, not sum, when a cluster aggregates them.
    this.#ratio = new Gauge({
      name: NAMES.ratio,
      help: HELP.ratio,
      labelNames: [...LABELS.ratio],
      registers,
      aggregator: 'max',
    });
    this.#timestamp = new Gauge({
      name: NAMES.reportTimestamp,
      help: HELP.reportTimestamp,
      labelNames: [...LABELS.reportTimestamp],
      registers,
      aggregator: 'max',
    });
    this.#messages = new Gauge({
      name: NAMES.messages,
      help: HELP.messages,
      labelNames: [...LABELS.messages],
      registers,
      aggregator: 'max',
    });
    this.#errors = new Counter({ name: NAMES.errors, help: HELP.errors, labelNames: [...LABELS.errors], registers });
  }

  /** Every error reason at 0 for a source, so increase() sees its first failure. */
  initialize(provider: 'fcm' | 'apns', app: string): void {
    for (const reason of DELIVERY_REPORT_ERROR_REASONS) this.#errors.inc({ provider, app, reason }, 0);
  }

  record(report: DeliveryReport): void {
    const { provider, app } = report;
    for (const outcome of OUTCOMES[provider])
      this.#ratio.set({ provider, app, outcome }, report.outcomes[outcome] ?? 0);
    this.#timestamp.set({ provider, app }, dateSeconds(report.date));
    this.#messages.set({ provider, app }, report.messages);
  }

  countError(provider: 'fcm' | 'apns', app: string, reason: DeliveryReportErrorReason): void {
    this.#errors.inc({ provider, app, reason });
  }
}

const bound = new WeakMap<Registry, DeliveryReportMetrics>();

/** The registry's delivery report metrics, registering them on first use. */
export function deliveryReportMetricsFor(registry: Registry): DeliveryReportMetrics {
  let metrics = bound.get(registry);
  if (metrics !== undefined) return metrics;
  const taken = Object.values(NAMES).filter((name) => registry.getSingleMetric(name) !== undefined);
  if (taken.length > 0)
    throw new TypeError(
      `the registry already has ${taken.join(', ')} registered by something other than this push-telemetry module`,
    );
  metrics = new DeliveryReportMetrics(registry);
  bound.set(registry, metrics);
  return metrics;
}
