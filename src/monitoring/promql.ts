import { METRIC_NAMES } from '../metrics.js';
import { ERROR_TYPES, errorOwner, type ErrorOwner, type ErrorType } from '../taxonomy.js';
import type { ResolvedMonitoringConfig } from './config.js';

/**
 * The PromQL both generators are built from, so a dashboard panel and the alert about the same thing can never
 * disagree. Recording rules (written by the alert generator) precompute the ratios; dashboards read them where a
 * fixed window is right (burn rates) and compute over `$__rate_interval` where the viewer's range should decide.
 */

/** Labels every recorded series keeps: one series per sender job, provider and app. */
export const AGGREGATION_LABELS = ['job', 'provider', 'app'] as const;
const BY = `by (${AGGREGATION_LABELS.join(', ')})`;

export const MESSAGES = METRIC_NAMES.messages;
export const DURATION = METRIC_NAMES.duration;

/** The error types an owner answers for, as a regex alternation for `error_type=~"…"`. */
export function errorTypesOf(...owners: ErrorOwner[]): string {
  return ERROR_TYPES.filter((type) => owners.includes(errorOwner(type))).join('|');
}

/** Provider-owned failures: the provider is down, slow or unreachable. */
export const PROVIDER_ERRORS = errorTypesOf('provider');
/** Failures that say nothing about the service: the device is gone, or the caller gave up. */
export const NOT_SLO_ERRORS = errorTypesOf('audience', 'caller');
export const AUDIENCE_ERRORS = errorTypesOf('audience');
export const CREDENTIAL_ERRORS: readonly ErrorType[] = ['auth', 'config'];
export const PAYLOAD_ERRORS: readonly ErrorType[] = ['payload_invalid', 'payload_too_large'];

/** `{selector, filters, extra…}`: the config's matchers plus any given, in one selector. */
export function matchers(config: ResolvedMonitoringConfig, ...extra: string[]): string {
  return `{${[config.selector, config.labelFilters, ...extra].filter((part) => part !== '').join(', ')}}`;
}

/** Per (job, provider, app) rate of messages matching `extra` over `window`. */
export function messageRate(config: ResolvedMonitoringConfig, window: string, ...extra: string[]): string {
  return `sum ${BY} (rate(${MESSAGES}${matchers(config, ...extra)}[${window}]))`;
}

/** Recording rule names, shared by alerts and dashboards. */
export const RECORDED = {
  /** Messages per second by job, provider, app. */
  messagesRate: 'push:messages:rate5m',
  /** Failed messages per second by job, provider, app, error_type. */
  failedRate: 'push:messages_failed:rate5m',
  /** Provider-owned failures / all messages. */
  providerErrorRatio: 'push:provider_errors:ratio_rate5m',
  /** Failures counting against the SLO / messages counting toward it, per window. */
  sloErrorRatio: (window: SloWindow) => `push:slo_errors:ratio_rate${window}`,
  /** Provider call latency quantiles by job, provider, app. */
  latency: (quantile: 'p50' | 'p95' | 'p99') => `push:request_duration_seconds:${quantile}_rate5m`,
} as const;

export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type SloWindow = (typeof SLO_WINDOWS)[number];

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

/** The SLI's error ratio over a window: failures the service owns over messages that count toward the SLO. */
export function sloErrorRatio(config: ResolvedMonitoringConfig, window: string): string {
  const bad = messageRate(config, window, 'outcome="failed"', `error_type!~"${NOT_SLO_ERRORS}"`);
  const valid = messageRate(config, window, `error_type!~"${NOT_SLO_ERRORS}"`);
  return `${bad}\n/\n${valid}`;
}

export function latencyQuantile(config: ResolvedMonitoringConfig, quantile: number, window: string): string {
  return `histogram_quantile(${quantile}, sum by (job, provider, app, le) (rate(${DURATION}_bucket${matchers(config)}[${window}])))`;
}

export function recordingRules(config: ResolvedMonitoringConfig): RecordingRule[] {
  return [
    { record: RECORDED.messagesRate, expr: messageRate(config, '5m') },
    { record: RECORDED.failedRate, expr: `sum by (job, provider, app, error_type) (rate(${MESSAGES}${matchers(config, 'outcome="failed"')}[5m]))` },
    { record: RECORDED.providerErrorRatio, expr: `${messageRate(config, '5m', 'outcome="failed"', `error_type=~"${PROVIDER_ERRORS}"`)}\n/\n${messageRate(config, '5m')}` },
    ...SLO_WINDOWS.map((window) => ({ record: RECORDED.sloErrorRatio(window), expr: sloErrorRatio(config, window) })),
    { record: RECORDED.latency('p50'), expr: latencyQuantile(config, 0.5, '5m') },
    { record: RECORDED.latency('p95'), expr: latencyQuantile(config, 0.95, '5m') },
    { record: RECORDED.latency('p99'), expr: latencyQuantile(config, 0.99, '5m') },
  ];
}
