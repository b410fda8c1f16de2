import { METRIC_NAMES } from '../metrics/contract.js';
import { ERROR_TYPES, errorOwner, type ErrorOwner, type ErrorType } from '../core/taxonomy.js';
import type { ResolvedMonitoringConfig } from './config.js';

/**
 * The PromQL both generators are built from, so a dashboard panel and the alert about the same thing can never
 * disagree. Recording rules (written by the alert generator) precompute the ratios; dashboards read them where a
 * fixed window is right (burn rates) and compute over `$__rate_interval` where the viewer's range should decide.
 */

/** Labels every recorded series keeps: one series per sender job, provider and app. */
export const AGGREGATION_LABELS = ['job', 'provider', 'app'] as const;
const BY = `by (${AGGREGATION_LABELS.join(', ')})`;
const ON = `on (${AGGREGATION_LABELS.join(', ')})`;

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
  /** Messages per second over 2m: the window of the alerts that must page within minutes (outage, credentials). */
  messagesRate2m: 'push:messages:rate2m',
  /** Failed messages per second over 2m, by error_type as well. */
  failedRate2m: 'push:messages_failed:rate2m',
  /** Provider API calls per second (a batch is one call): the traffic behind a latency quantile. */
  requestsRate: 'push:requests:rate5m',
  /** Audience-owned failures (unregistered, invalid_token) / all messages: now (15m) against a baseline (1d). */
  audienceErrorRatio: (window: AudienceWindow) => `push:audience_errors:ratio_rate${window}`,
  /**
   * The median 5m message rate of the last 3h, present only while every one of them reached the steady floor and the
   * series goes back 3h: traffic whose stopping is news (PushSendingStalled). The median, not the minimum, because
   * the minimum falls with the rate as a stop begins, and this value is what the page reports.
   */
  steadyRate: 'push:messages:steady_rate5m_median3h',
  /**
   * Written on the evaluations where a steady sender has just gone silent (its steady median rate, > 0) and on every
   * evaluation it sends (0); nothing in between. Its last value says whether the silence began after steady traffic
   * and has lasted since.
   */
  steadyStop: 'push:messages:steady_stop',
  /**
   * Delivered device receipts / accepted messages over 1h, only for senders with receipt series and messages in the
   * hour: PushConfirmedDeliveryLow's now, and (averaged over a day) its usual.
   */
  confirmedDeliveryRatio: 'push:confirmed_delivery:ratio_rate1h',
} as const;

/**
 * What makes a sender steady, so that its silence pages (PushSendingStalled): every 5m rate of the last `history` at
 * or above `minRate` messages/s (config.alerts.PushSendingStalled.threshold), with series reaching back that far.
 * The floor is where a 20-minute gap stops being chance: at 0.02/s a Poisson sender goes 20 minutes without a
 * message with probability e^-24. A night lull at one message every 15 s (0.067/s) is still steady, a trickle or a
 * campaign schedule (silence between bursts) never is, and neither is a sender with less than 3 h of series.
 */
export const STEADY = { history: '3h', historyReached: '2h45m', minRate: 0.02 } as const;

/** PushRecipientsOverSendCap's default: the share of the last 24 h's recipients over sendFrequency.cap. */
export const OVER_SEND_CAP_SHARE = 0.05;

export const AUDIENCE_WINDOWS = ['15m', '1d'] as const;
export type AudienceWindow = (typeof AUDIENCE_WINDOWS)[number];

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
    {
      record: RECORDED.failedRate,
      expr: `sum by (job, provider, app, error_type) (rate(${MESSAGES}${matchers(config, 'outcome="failed"')}[5m]))`,
    },
    {
      record: RECORDED.providerErrorRatio,
      expr: `${messageRate(config, '5m', 'outcome="failed"', `error_type=~"${PROVIDER_ERRORS}"`)}\n/\n${messageRate(config, '5m')}`,
    },
    ...SLO_WINDOWS.map((window) => ({ record: RECORDED.sloErrorRatio(window), expr: sloErrorRatio(config, window) })),
    { record: RECORDED.latency('p50'), expr: latencyQuantile(config, 0.5, '5m') },
    { record: RECORDED.latency('p95'), expr: latencyQuantile(config, 0.95, '5m') },
    { record: RECORDED.latency('p99'), expr: latencyQuantile(config, 0.99, '5m') },
    { record: RECORDED.messagesRate2m, expr: messageRate(config, '2m') },
    {
      record: RECORDED.failedRate2m,
      expr: `sum by (job, provider, app, error_type) (rate(${MESSAGES}${matchers(config, 'outcome="failed"')}[2m]))`,
    },
    { record: RECORDED.requestsRate, expr: `sum ${BY} (rate(${DURATION}_count${matchers(config)}[5m]))` },
    ...AUDIENCE_WINDOWS.map((window) => ({
      record: RECORDED.audienceErrorRatio(window),
      expr: `${messageRate(config, window, 'outcome="failed"', `error_type=~"${AUDIENCE_ERRORS}"`)}\n/\n${messageRate(config, window)}`,
    })),
    { record: RECORDED.confirmedDeliveryRatio, expr: confirmedDeliveryRatio(config, CONFIRMED_DELIVERY_WINDOWS.now) },
    ...steadyRules(config),
  ];
}

/**
 * The state PushSendingStalled reads; they must follow push:messages:rate5m in the group, which evaluates its rules
 * in order at one timestamp. Without them, a stalled sender could only be told from one that winds down for the
 * night by looking back a variable time (to where the silence began), which PromQL cannot: so the moment a steady
 * sender goes silent is written down, and the alert reads the last thing written. Every window is a range selector,
 * so a test may scale them all at once.
 */
function steadyRules(config: ResolvedMonitoringConfig): RecordingRule[] {
  const stalled = config.alerts.PushSendingStalled;
  if (stalled?.disabled === true) return [];
  const minRate = Number((stalled?.threshold ?? STEADY.minRate).toPrecision(12));
  const rate = RECORDED.messagesRate;
  return [
    {
      record: RECORDED.steadyRate,
      // A series younger than the history has no points older than historyReached: a sender's first hours are no history.
      expr:
        `quantile_over_time(0.5, ${rate}[${STEADY.history}])\n` +
        `and ${ON}\n  min_over_time(${rate}[${STEADY.history}]) >= ${minRate}\n` +
        `and ${ON}\n  count_over_time(${rate}[${STEADY.history}]) > count_over_time(${rate}[${STEADY.historyReached}])`,
    },
    {
      record: RECORDED.steadyStop,
      // Silent (rate 0, or its series gone) within 5m of having been steady: an abrupt stop, not a night winding down.
      expr: `max_over_time(${RECORDED.steadyRate}[5m])\n  unless ${ON} ${rate} > 0\nor\n(${rate} > 0) * 0`,
    },
  ];
}

/*
 * Added for the dashboards; the alert generator may use them too, so a threshold line on a panel and the alert that
 * fires at it come from one definition.
 */

/** Grafana's window for rate(): at least four scrapes at any zoom, so a panel never shows gaps from too short a range. */
export const RATE_INTERVAL = '$__rate_interval';

/** `sum by (by…) (rate(metric{config matchers, extra…}[window]))`; an empty `by` sums into one series. */
export function sumRate(
  config: ResolvedMonitoringConfig,
  metric: string,
  by: readonly string[],
  window: string,
  ...extra: string[]
): string {
  const grouping = by.length > 0 ? ` by (${by.join(', ')})` : '';
  return `sum${grouping} (rate(${metric}${matchers(config, ...extra)}[${window}]))`;
}

/** A quantile of provider call latency, grouped by `by` (`le` is added). */
export function durationQuantile(
  config: ResolvedMonitoringConfig,
  quantile: number,
  by: readonly string[],
  window: string,
  ...extra: string[]
): string {
  return `histogram_quantile(${quantile}, ${sumRate(config, `${DURATION}_bucket`, [...by, 'le'], window, ...extra)})`;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
};

/** Seconds in a Prometheus duration (`1h30m` → 5400). */
export function durationSeconds(duration: string): number {
  let seconds = 0;
  for (const [, amount, unit] of duration.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g))
    seconds += Number(amount) * (DURATION_UNITS[unit as string] as number);
  return seconds;
}

/** The share of messages allowed to fail (1 − target), rounded so that 1 − 0.995 prints as 0.005 in PromQL. */
export function errorBudget(config: ResolvedMonitoringConfig): number {
  return Number((1 - config.sloTarget).toPrecision(12));
}

export interface BurnRateTier {
  readonly severity: 'critical' | 'warning';
  readonly long: SloWindow;
  readonly short: SloWindow;
  /** Share of the period's error budget the tier lets burn within its long window before it fires. */
  readonly budgetPercent: number;
}

/** Multi-window, multi-burn-rate tiers of the Google SRE workbook: fire when both windows burn faster than the factor. */
export const BURN_RATE_TIERS: readonly BurnRateTier[] = [
  { severity: 'critical', long: '1h', short: '5m', budgetPercent: 2 },
  { severity: 'critical', long: '6h', short: '30m', budgetPercent: 5 },
  { severity: 'warning', long: '1d', short: '2h', budgetPercent: 10 },
  { severity: 'warning', long: '3d', short: '6h', budgetPercent: 10 },
];

/** budget% × period ÷ long window: 14.4 for 2% of 30 days in 1 h. Rounded to keep float noise out of the JSON. */
export function burnRateFactor(config: ResolvedMonitoringConfig, tier: BurnRateTier): number {
  return Number(
    ((tier.budgetPercent / 100) * (durationSeconds(config.sloPeriod) / durationSeconds(tier.long))).toPrecision(12),
  );
}

/** `<runbookUrlBase><alert-name-in-kebab-case>.md`, the link every alert's runbook_url annotation carries. */
export function runbookUrl(config: ResolvedMonitoringConfig, alert: string): string {
  return `${config.runbookUrlBase}${alert.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.md`;
}

/**
 * The confirmed-delivery ratio: delivered receipts devices posted over messages the providers accepted, per (job,
 * provider, app) over `window`. No series for a sender whose app sends no receipts, nor for a window with nothing
 * accepted (receipts still arriving for earlier sends would make it +Inf).
 */
export function confirmedDeliveryRatio(config: ResolvedMonitoringConfig, window: string): string {
  const by = `sum ${BY}`;
  return (
    `${by} (increase(${METRIC_NAMES.deviceReceipts}${matchers(config, 'event="delivered"')}[${window}]))\n/\n` +
    `(${by} (increase(${MESSAGES}${matchers(config, 'outcome="accepted"')}[${window}])) > 0)`
  );
}

/** PushConfirmedDeliveryLow compares the last hour (now) against the mean of the past day's hourly ratios (usual). */
export const CONFIRMED_DELIVERY_WINDOWS = { now: '1h', usual: '1d' } as const;
