import { METRIC_NAMES } from '../../metrics/contract.js';
import type { ResolvedMonitoringConfig } from '../config.js';
import {
  DURATION,
  durationQuantile,
  errorBudget,
  matchers,
  MESSAGES,
  NOT_SLO_ERRORS,
  RATE_INTERVAL,
  RECORDED,
  sumRate,
  type SloWindow,
} from '../promql.js';

/**
 * The dashboards' PromQL, on top of the shared helpers in monitoring/promql.ts. Raw series carry the config's
 * selector and filters plus the three variables; recorded series carry only the variables, because the recording
 * rules already applied the selector and aggregated every other label away.
 */

/** Every push_* selector carries these, so each panel follows the job, provider and app pickers. */
export const VARIABLE_MATCHERS = ['job=~"$job"', 'provider=~"$provider"', 'app=~"$app"'] as const;
/**
 * The group picker, on the two metrics that carry the opt-in `group` label only. Its All (`.*`) also matches series
 * without the label, so senders without groups, and Prometheus servers that never saw one, show as before.
 */
export const GROUP_MATCHER = 'group=~"$group"';
const MESSAGE_MATCHERS = [...VARIABLE_MATCHERS, GROUP_MATCHER] as const;

// An alert keeps only the labels its rule keeps: `|` lets one without job, provider or app show under any selection.
const ALERT_MATCHERS = ['alertname=~"Push.+"', 'job=~"$job|"', 'provider=~"$provider|"', 'app=~"$app|"'];

export const FAILED = 'outcome="failed"';
/** Messages that count toward the SLO: everything but failures the audience or the caller own. */
export const SLO_VALID = `error_type!~"${NOT_SLO_ERRORS}"`;

/** A per-second rate over the viewer's range, filtered by the variables. */
export function rate(
  config: ResolvedMonitoringConfig,
  metric: string,
  by: readonly string[],
  ...extra: string[]
): string {
  return sumRate(config, metric, by, RATE_INTERVAL, ...VARIABLE_MATCHERS, ...extra);
}

export function messages(config: ResolvedMonitoringConfig, by: readonly string[], ...extra: string[]): string {
  return rate(config, MESSAGES, by, GROUP_MATCHER, ...extra);
}

/** Share of messages matching `part` among those matching `whole`; 0 rather than no series when nothing matched `part`. */
export function messageRatio(
  config: ResolvedMonitoringConfig,
  by: readonly string[],
  part: readonly string[],
  whole: readonly string[] = [],
  window = RATE_INTERVAL,
): string {
  const of = (extra: readonly string[]) => sumRate(config, MESSAGES, by, window, ...MESSAGE_MATCHERS, ...extra);
  return `(\n  ${of([...whole, ...part])}\n  or 0 * ${of(whole)}\n)\n/\n${of(whole)}`;
}

/** The SLI (share of SLO-counted messages accepted) over `window`. */
export function sli(config: ResolvedMonitoringConfig, by: readonly string[], window = RATE_INTERVAL): string {
  return `1 - (\n${messageRatio(config, by, [FAILED], [SLO_VALID], window)}\n)`;
}

/** Share of the period's error budget not yet spent; below 0 once the SLO is missed. */
export function budgetRemaining(config: ResolvedMonitoringConfig, by: readonly string[]): string {
  return `1 - (\n${messageRatio(config, by, [FAILED], [SLO_VALID], config.sloPeriod)}\n) / ${errorBudget(config)}`;
}

export function latency(config: ResolvedMonitoringConfig, quantile: number, by: readonly string[]): string {
  return durationQuantile(config, quantile, by, RATE_INTERVAL, ...MESSAGE_MATCHERS);
}

/** Calls per second by `le`, for a heatmap of the duration histogram. */
export function latencyBuckets(config: ResolvedMonitoringConfig): string {
  return rate(config, `${DURATION}_bucket`, ['le'], GROUP_MATCHER);
}

export function requests(config: ResolvedMonitoringConfig, by: readonly string[]): string {
  return rate(config, `${DURATION}_count`, by, GROUP_MATCHER);
}

export function receipts(config: ResolvedMonitoringConfig, by: readonly string[]): string {
  return rate(config, METRIC_NAMES.receipts, by);
}

/** Invalid-token verdicts per second the surge guard held back from onInvalidToken. */
export function heldVerdicts(config: ResolvedMonitoringConfig, by: readonly string[]): string {
  return rate(config, METRIC_NAMES.invalidTokensHeld, by);
}

/** A gauge read as-is (no counter, so no rate), filtered like everything else. */
export function gauge(config: ResolvedMonitoringConfig, aggregation: string, metric: string): string {
  return `${aggregation}(${metric}${matchers(config, ...VARIABLE_MATCHERS)})`;
}

/** Seconds since each sender's last accepted message. */
export function sinceLastSuccess(config: ResolvedMonitoringConfig, by: readonly string[]): string {
  return `time() - max by (${by.join(', ')}) (${METRIC_NAMES.lastSuccess}${matchers(config, ...VARIABLE_MATCHERS)})`;
}

/** The recorded SLO error ratio over a fixed window, as a multiple of the budget-neutral rate. */
export function burnRate(config: ResolvedMonitoringConfig, window: SloWindow): string {
  return `${RECORDED.sloErrorRatio(window)}{${VARIABLE_MATCHERS.join(', ')}} / ${errorBudget(config)}`;
}

export function alerts(...extra: string[]): string {
  return `ALERTS{${[...ALERT_MATCHERS, ...extra].join(', ')}}`;
}

/** Options of a label for a template variable: Grafana's `label_values(series, label)`. */
export function labelValues(
  config: ResolvedMonitoringConfig,
  metric: string,
  label: string,
  ...extra: string[]
): string {
  return `label_values(${metric}${matchers(config, ...extra)}, ${label})`;
}
