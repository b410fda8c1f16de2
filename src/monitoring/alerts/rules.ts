import { METRIC_NAMES } from '../../metrics/contract.js';
import {
  ALERT_NAMES,
  resolveMonitoringConfig,
  type AlertName,
  type MonitoringConfig,
  type ResolvedMonitoringConfig,
  type Severity,
} from '../config.js';
import {
  BURN_RATE_TIERS,
  burnRateFactor,
  CONFIRMED_DELIVERY_WINDOWS,
  CREDENTIAL_ERRORS,
  DURATION,
  durationSeconds,
  errorBudget,
  errorTypesOf,
  matchers,
  messageRate,
  MESSAGES,
  NOT_SLO_ERRORS,
  OVER_SEND_CAP_SHARE,
  PAYLOAD_ERRORS,
  PROVIDER_ERRORS,
  RECORDED,
  recordingRules,
  runbookUrl,
  STEADY,
  type RecordingRule,
  type SloWindow,
} from '../promql.js';
import { describe } from '../../core/options.js';

/**
 * The alerting rules, as data. Every ratio is per (job, provider, app) — the labels the recording rules keep — and
 * every ratio alert is ANDed with a traffic guard, so a sender pushing one message every few minutes cannot page on
 * one failure. Thresholds, `for:` and severities are the defaults of config.alerts; docs/runbooks/ explains each.
 */

export interface AlertingRule {
  readonly alert: AlertName;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

export const RECORDING_GROUP = 'push-telemetry.rules';
export const ALERTING_GROUP = 'push-telemetry.alerts';

const BY = 'job, provider, app';
const ON = `on (${BY})`;
/** Labels the generator sets or the series carry; extraLabels may not override them (inhibition relies on them). */
const RESERVED_LABELS = ['alertname', 'severity', 'tier', 'job', 'instance', 'provider', 'app'];
/**
 * When nothing gets through: failures the sender cannot have caused (provider, capacity, unclassified). Sender-owned
 * ones have their own alerts (credentials page; payloads ticket, and burn the budget), audience ones never page.
 */
const OUTAGE_ERRORS = errorTypesOf('provider', 'capacity', 'unknown');
/** The invalid-token share must also rise by this much (absolute) over its baseline, so 0.1% → 0.3% stays quiet. */
const SURGE_MIN_RISE = 0.05;
/**
 * How long one held verdict keeps PushInvalidTokensHeld firing: the surge guard holds in bursts (one big call, one
 * bad minute), so a shorter window would resolve and re-open the same ticket between bursts of one incident.
 */
const HELD_MINUTES = 15;
/**
 * PushRecipientsOverSendCap stays quiet below this many recipients in the last 24 h: the share of a handful is no
 * strategy, and the estimate of a sampled audience needs recipients behind it.
 */
export const OVER_CAP_MIN_RECIPIENTS = 100;
/** `for:` of each burn-rate tier, by long window (kubernetes-mixin's holds). */
const BURN_FOR: Readonly<Record<string, string>> = { '1h': '2m', '6h': '15m', '1d': '1h', '3d': '3h' };

/**
 * PushConfirmedDeliveryLow needs this many receipts expected in its hour (accepted × usual ratio): below it, half of
 * them missing is chance (a Poisson count of 50 falls to 25 with probability under 1 in 10,000).
 */
const CONFIRMED_MIN_RECEIPTS = 50;

const WHO = '{{ $labels.provider }}{{ with $labels.app }} ({{ . }}){{ end }} from {{ $labels.job }}';

/**
 * How long a process must hold calls in flight with none completing before PushProviderHung: far beyond any real
 * provider call with the SDK's own retries (seconds), and short enough that, with its `for:`, it pages within 10 min.
 */
const HUNG_WINDOW = '5m';
/**
 * PushSendingStalled: how long a steady sender's 5m message rate must stay at 0 (15m: no message for about 20 min),
 * how long a stop is remembered (a stall older than that resolves), and how recently the job must have been scraped
 * with push_telemetry_info (5m: a restart's missed scrape does not count as down, a dead process does).
 */
const STALL = { silence: '15m', memory: '1d', upWithin: '5m' } as const;
/** The silence on-call is told about: the 5m window of push:messages:rate5m, then STALL.silence at 0. */
const STALL_MINUTES = 5 + durationSeconds(STALL.silence) / 60;

/** A number as PromQL and prose print it, without float noise (1 - 0.995 is 0.0050000000000000044). */
function num(value: number): string {
  return String(Number(value.toPrecision(12)));
}

function percent(ratio: number): string {
  return `${num(ratio * 100)}%`;
}

function failedShare(types: string, window: '2m' | '5m'): string {
  const failed = window === '2m' ? RECORDED.failedRate2m : RECORDED.failedRate;
  const all = window === '2m' ? RECORDED.messagesRate2m : RECORDED.messagesRate;
  return `sum by (${BY}) (${failed}{error_type=~"${types}"})\n  / ${all}`;
}

/** Traffic guard: the ratio alerts stay silent below minMessagesPerSecond. */
function guard(config: ResolvedMonitoringConfig, series: string): string {
  return `and ${ON}\n  ${series} >= ${num(config.minMessagesPerSecond)}`;
}

function increase(config: ResolvedMonitoringConfig, window: string, ...extra: string[]): string {
  return `sum by (${BY}) (increase(${MESSAGES}${matchers(config, ...extra)}[${window}]))`;
}

function indent(expr: string): string {
  return expr.replace(/^/gm, '  ');
}

interface Definition {
  readonly severity: Severity;
  readonly for: string;
  /** The default threshold; `ratio` ones must lie in (0, 1]. Absent when there is nothing to tune. */
  readonly threshold?: { readonly value: number; readonly ratio: boolean };
  readonly summary: string;
  readonly description: (threshold: number) => string;
  readonly expr: (config: ResolvedMonitoringConfig, threshold: number) => string;
}

const DEFINITIONS: Readonly<Record<Exclude<AlertName, 'PushErrorBudgetBurn'>, Definition>> = {
  PushSenderDown: {
    severity: 'critical',
    for: '3m',
    summary: 'A push sender is down or no longer instrumented.',
    description: () =>
      '{{ if not $labels.instance }}No target of {{ with $labels.job }}job {{ . }}{{ else }}the push senders{{ end }} is left to scrape' +
      '{{ else if eq $value 0.0 }}Prometheus cannot scrape {{ $labels.job }}/{{ $labels.instance }} (up = {{ $value }})' +
      '{{ else }}{{ $labels.job }}/{{ $labels.instance }} answers scrapes but exposes no push_telemetry_info (up = {{ $value }}){{ end }}. ' +
      'Nothing shows whether notifications are going out.',
    // Target down; scraped but push-telemetry gone; or no target left at all (a deployment scaled to zero).
    expr: (config) =>
      `up${matchers(config)} == 0\nor\n(up${matchers(config)} == 1 unless on (job, instance) push_telemetry_info${matchers(config)})\nor\nabsent(up${matchers(config)})`,
  },
  PushSendingStalled: {
    severity: 'critical',
    // The expression holds a 20-minute silence already; the hold only covers a sender scraped again after a long gap,
    // whose rate needs two scrapes before it shows the traffic it resumed with.
    for: '5m',
    threshold: { value: STEADY.minRate, ratio: false },
    summary: 'Push sending to {{ $labels.provider }} stopped while the sender is up.',
    description: (t) =>
      `${WHO} has handed no message to the provider for ${STALL_MINUTES} minutes or more, after steady traffic: {{ $value | printf "%.3g" }} messages/s ` +
      `(the median of the ${durationSeconds(STEADY.history) / 3600} hours before), never under ${num(t)}/s in any 5 minutes. {{ $labels.job }} is up and scraped, and nothing fails, so ` +
      'no error alert fires: the send loop or its queue consumer has stopped, or a deploy left it off. Notifications are not going out.',
    // Reads the state recorded by push:messages:steady_stop (see promql.ts): the last thing written in a day is a stop
    // after steady traffic, nothing was sent for 20 minutes, and the job answers scrapes as push-telemetry.
    expr: (config) =>
      `last_over_time(${RECORDED.steadyStop}[${STALL.memory}]) > 0\n` +
      `unless ${ON}\n  max_over_time(${RECORDED.messagesRate}[${STALL.silence}]) > 0\n` +
      `and on (job)\n  group by (job) (max_over_time(${METRIC_NAMES.info}${matchers(config)}[${STALL.upWithin}]))`,
  },
  PushProviderHung: {
    severity: 'critical',
    // A Prometheus or sender restart leaves a few samples in the window: a busy sender's in-flight is > 0 at most
    // instants, and one sample has no increase to show. Two minutes of further evaluations rule that out.
    for: '2m',
    summary: 'Calls to push provider {{ $labels.provider }} hang: in flight, none completing.',
    description: () =>
      `At least {{ $value | printf "%.0f" }} calls of ${WHO} have been in flight for ${durationSeconds(HUNG_WINDOW) / 60} minutes, ` +
      'and not one completed: a provider connection that stalls with no client timeout. Hung calls count no failure, ' +
      'so the error alerts stay quiet; the messages in them are not delivered, and the sender stops once its concurrency is used up.',
    // Per process, then summed: one process whose connection hangs pages even while the others complete their calls.
    expr: (config) =>
      `sum by (${BY}) (\n  min_over_time(${METRIC_NAMES.inFlight}${matchers(config)}[${HUNG_WINDOW}]) > 0\n` +
      `  unless on (job, instance, provider, app)\n` +
      `    sum by (job, instance, provider, app) (increase(${DURATION}_count${matchers(config)}[${HUNG_WINDOW}])) > 0\n)`,
  },
  PushProviderOutage: {
    severity: 'critical',
    for: '1m',
    threshold: { value: 0.5, ratio: true },
    summary: 'Push provider {{ $labels.provider }} is failing most messages.',
    description: (t) =>
      `{{ $value | humanizePercentage }} of the messages ${WHO} sends are failing: above ${percent(t)} with provider_unavailable, timeout ` +
      'or network errors over 2 minutes, or with those, rate_limited or unknown errors while none was accepted for 5 minutes. ' +
      'Users are not receiving these notifications.',
    // Fast clause: provider-owned errors over 2m. Slow clause: nothing accepted for 5m, the provider refusing or failing in a way nobody classified.
    expr: (config, t) =>
      `(\n${indent(`${failedShare(PROVIDER_ERRORS, '2m')}\n> ${num(t)}\n${guard(config, RECORDED.messagesRate2m)}`)}\n)\nor\n(\n` +
      indent(
        `${failedShare(OUTAGE_ERRORS, '5m')}\n> ${num(t)}\nand ${ON}\n  ${messageRate(config, '5m', 'outcome="accepted"')} == 0\n${guard(config, RECORDED.messagesRate)}`,
      ) +
      '\n)',
  },
  PushProviderErrorRateHigh: {
    severity: 'warning',
    for: '10m',
    threshold: { value: 0.05, ratio: true },
    summary: 'Push provider {{ $labels.provider }} is failing more messages than usual.',
    description: (t) =>
      `{{ $value | humanizePercentage }} of the messages ${WHO} sent in the last 5 minutes failed with provider_unavailable, ` +
      `timeout or network errors (alert above ${percent(t)}). Retries may hide it from users for now.`,
    expr: (config, t) => `${RECORDED.providerErrorRatio} > ${num(t)}\n${guard(config, RECORDED.messagesRate)}`,
  },
  PushCredentialsRejected: {
    severity: 'critical',
    for: '1m',
    threshold: { value: 0.2, ratio: true },
    summary: 'Push provider {{ $labels.provider }} rejects the sender credentials.',
    description: (t) =>
      `{{ $value | humanizePercentage }} of the messages ${WHO} sends are refused with auth or config errors (alert above ${percent(t)}): ` +
      'an expired APNs key or certificate, a revoked FCM credential, a wrong sender id, topic or environment. ' +
      'Every such send fails until someone fixes the credentials.',
    // Credentials never heal by themselves, so a trickle pages too: 3+ rejections in 30m and nothing accepted.
    expr: (config, t) => {
      const rejected = increase(config, '30m', 'outcome="failed"', `error_type=~"${CREDENTIAL_ERRORS.join('|')}"`);
      return (
        `(\n${indent(`${failedShare(CREDENTIAL_ERRORS.join('|'), '2m')}\n> ${num(t)}\n${guard(config, RECORDED.messagesRate2m)}`)}\n)\nor\n(\n` +
        indent(
          `${rejected}\n  / ${increase(config, '30m')}\n> ${num(t)}\nand ${ON}\n  ${rejected} >= 3\nunless ${ON}\n  ${increase(config, '30m', 'outcome="accepted"')} > 0`,
        ) +
        '\n)'
      );
    },
  },
  PushPayloadRejected: {
    severity: 'warning',
    for: '5m',
    threshold: { value: 0.01, ratio: true },
    summary: 'Push provider {{ $labels.provider }} rejects message payloads.',
    description: (t) =>
      `{{ $value | humanizePercentage }} of the messages ${WHO} sent in the last 5 minutes were refused as payload_invalid or ` +
      `payload_too_large (alert above ${percent(t)}). Usually a deploy changed the message format; those users get nothing.`,
    expr: (config, t) =>
      `${failedShare(PAYLOAD_ERRORS.join('|'), '5m')}\n> ${num(t)}\n${guard(config, RECORDED.messagesRate)}`,
  },
  PushRateLimited: {
    severity: 'warning',
    for: '10m',
    threshold: { value: 0.05, ratio: true },
    summary: 'Push provider {{ $labels.provider }} is rate limiting the sender.',
    description: (t) =>
      `{{ $value | humanizePercentage }} of the messages ${WHO} sent in the last 5 minutes were refused as rate_limited ` +
      `(alert above ${percent(t)}). They arrive late, or never unless the sender backs off and retries.`,
    expr: (config, t) => `${failedShare('rate_limited', '5m')}\n> ${num(t)}\n${guard(config, RECORDED.messagesRate)}`,
  },
  PushInvalidTokenSurge: {
    severity: 'warning',
    for: '15m',
    threshold: { value: 2, ratio: false },
    summary: 'Invalid push tokens for {{ $labels.provider }} jumped above their baseline.',
    description: (t) =>
      `{{ $value | humanizePercentage }} of the messages ${WHO} sent in the last 15 minutes were refused as unregistered or ` +
      `invalid_token: over ${num(t)} times the share of the past day and ${percent(SURGE_MIN_RISE)} above it. ` +
      'A sudden wave usually means tokens sent to the wrong environment (APNs sandbox vs production) or the wrong app.',
    // A steady high share is churn, not an incident: only a jump against the sender's own last day counts.
    expr: (config, t) => {
      const [now, baseline] = [RECORDED.audienceErrorRatio('15m'), RECORDED.audienceErrorRatio('1d')];
      return `${now} > ${num(t)} * ${baseline}\nand ${ON}\n  ${now} - ${baseline} > ${num(SURGE_MIN_RISE)}\n${guard(config, RECORDED.messagesRate)}`;
    },
  },
  PushInvalidTokensHeld: {
    severity: 'warning',
    for: '1m',
    summary: 'Invalid-token verdicts for {{ $labels.provider }} are held back from token pruning.',
    description: () =>
      `The surge guard of ${WHO} held about {{ $value | printf "%.0f" }} unregistered or invalid_token verdicts back from ` +
      `onInvalidToken in the last ${HELD_MINUTES} minutes: one call or one window of calls said most of its recipients were gone, which is ` +
      'likelier a bad key, the wrong APNs environment or a provider fault than real uninstalls. No token is pruned until a person ' +
      'calls release() or discard() on telemetry.heldInvalidTokens(); /healthz lists the open holds. This alert resolving does not close them.',
    // No traffic guard and no threshold: every held verdict waits for a person, however quiet the sender.
    expr: (config) =>
      `sum by (${BY}) (increase(${METRIC_NAMES.invalidTokensHeld}${matchers(config)}[${HELD_MINUTES}m])) > 0`,
  },
  PushLatencyHigh: {
    severity: 'warning',
    for: '10m',
    threshold: { value: 2.5, ratio: false },
    summary: 'Push provider {{ $labels.provider }} is slow to answer.',
    description: (t) =>
      `The p99 latency of the calls ${WHO} makes is {{ $value | humanizeDuration }} over the last 5 minutes (alert above ${num(t)}s). ` +
      'Notifications arrive late and senders may time out.',
    // The guard counts calls, not messages: a p99 needs calls behind it, and a batch of 500 is one call.
    expr: (config, t) => `${RECORDED.latency('p99')} > ${num(t)}\n${guard(config, RECORDED.requestsRate)}`,
  },
  PushConfirmedDeliveryLow: {
    severity: 'warning',
    // Receipts trail their sends by minutes (devices asleep or offline): a campaign's first minutes dip the ratio.
    for: '30m',
    threshold: { value: 0.5, ratio: true },
    summary: 'Devices confirm far fewer {{ $labels.provider }} deliveries than usual.',
    description: (t) =>
      `Devices confirmed {{ $value | humanizePercentage }} of the messages ${WHO} had accepted in the last hour: under ${percent(t)} ` +
      'of its usual ratio (the mean over the past day). The provider takes the messages but they do not arrive: a wrong APNs environment or ' +
      'FCM project, expired tokens the provider still accepts, a payload the app drops, or a release that stopped posting receipts.',
    // Silent without receipts: no receipt series (or one at 0) makes no usual ratio to fall below.
    expr: (config, t) => {
      const { now, usual } = CONFIRMED_DELIVERY_WINDOWS;
      const ratio = RECORDED.confirmedDeliveryRatio;
      const accepted = (fn: 'increase' | 'rate') =>
        `sum by (${BY}) (${fn}(${MESSAGES}${matchers(config, 'outcome="accepted"')}[${now}]))`;
      return (
        `${ratio}\n< ${num(t)} * avg_over_time(${ratio}[${usual}])\n` +
        `and ${ON}\n  avg_over_time(${ratio}[${usual}]) * ${accepted('increase')} >= ${CONFIRMED_MIN_RECEIPTS}\n` +
        `and ${ON}\n  ${accepted('rate')} >= ${num(config.minMessagesPerSecond)}`
      );
    },
  },
  PushRecipientsOverSendCap: {
    severity: 'warning',
    for: '30m',
    threshold: { value: OVER_SEND_CAP_SHARE, ratio: true },
    summary: 'Too many recipients of {{ $labels.provider }} pushes are sent more than the cap.',
    description: (t) =>
      `{{ $value | humanizePercentage }} of the recipients ${WHO} pushed to in the last 24 hours received more pushes than ` +
      `sendFrequency.cap (alert above ${percent(t)}). Over-sent users turn notifications off or uninstall: expect the ` +
      'unregistered rate to climb in the days after. Find the group or campaign sending too often.',
    // A snapshot per process (the estimate of its own sends), averaged over the job's processes; the recipient guard
    // instead of a message rate, because a quiet hour after a blast is when the share is highest.
    expr: (config, t) =>
      `avg by (${BY}) (${METRIC_NAMES.recipientsOverSendCap}${matchers(config)}) > ${num(t)}\n` +
      `and ${ON}\n  sum by (${BY}) (${METRIC_NAMES.recipientDailySends}_count${matchers(config)}) >= ${OVER_CAP_MIN_RECIPIENTS}`,
  },
};

const SLO_NOTE = `Every failure counts except ${NOT_SLO_ERRORS.replace(/\|([^|]*)$/, ' and $1').replaceAll('|', ', ')} (the audience's or the caller's).`;

function labels(
  config: ResolvedMonitoringConfig,
  severity: Severity,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { severity, ...extra, ...config.extraLabels };
}

/** One rule per tier, all named PushErrorBudgetBurn; `tier` (the long window) is what Alertmanager inhibits on. */
function burnRateRules(config: ResolvedMonitoringConfig): AlertingRule[] {
  const override = config.alerts.PushErrorBudgetBurn ?? {};
  const budget = errorBudget(config);
  return BURN_RATE_TIERS.map((tier) => {
    const factor = burnRateFactor(config, tier);
    const over = (window: SloWindow) => `${RECORDED.sloErrorRatio(window)} / ${num(budget)} > ${num(factor)}`;
    return {
      alert: 'PushErrorBudgetBurn',
      expr: `${over(tier.long)}\nand ${ON}\n  ${over(tier.short)}\nand ${ON}\n  ${messageRate(config, tier.short)} >= ${num(config.minMessagesPerSecond)}`,
      for: override.for ?? (BURN_FOR[tier.long] as string),
      labels: labels(config, override.severity ?? tier.severity, { tier: tier.long }),
      annotations: {
        summary: 'The push error budget of {{ $labels.provider }} is burning too fast.',
        description:
          `${WHO} is failing messages {{ $value | humanize }} times faster than its ${percent(config.sloTarget)} SLO over ${config.sloPeriod} allows, ` +
          `over the last ${tier.long} and ${tier.short} (alert above ${num(factor)}×, which spends ${tier.budgetPercent}% of the budget in ${tier.long}). ${SLO_NOTE}`,
        runbook_url: runbookUrl(config, 'PushErrorBudgetBurn'),
      },
    };
  });
}

function checkConfig(config: ResolvedMonitoringConfig): void {
  for (const name of Object.keys(config.extraLabels)) {
    if (RESERVED_LABELS.includes(name))
      throw new TypeError(
        `config.extraLabels.${name}: ${name} is set by the alert rules or their series and cannot be overridden`,
      );
  }
  for (const [name, override] of Object.entries(config.alerts)) {
    if (override?.threshold === undefined) continue;
    const threshold =
      name === 'PushErrorBudgetBurn' ? undefined : DEFINITIONS[name as keyof typeof DEFINITIONS].threshold;
    if (threshold === undefined) {
      const why =
        name === 'PushErrorBudgetBurn'
          ? 'its thresholds follow from config.sloTarget and config.sloPeriod'
          : 'it fires on a state, not a value';
      throw new TypeError(`config.alerts.${name}.threshold: ${name} has no threshold to set (${why})`);
    }
    if (threshold.ratio && override.threshold > 1)
      throw new TypeError(
        `config.alerts.${name}.threshold must be a ratio from 0 to 1, got ${describe(override.threshold)}`,
      );
  }
}

/**
 * The rule groups to load into Prometheus: the shared recording rules, then the alerts. Throws a TypeError naming the
 * option when the config is invalid.
 */
export function generateAlertRules(config?: MonitoringConfig): RuleGroup[] {
  const resolved = resolveMonitoringConfig(config);
  checkConfig(resolved);
  const alerts: AlertingRule[] = [];
  for (const name of ALERT_NAMES) {
    const override = resolved.alerts[name] ?? {};
    if (override.disabled === true) continue;
    if (name === 'PushErrorBudgetBurn') {
      alerts.push(...burnRateRules(resolved));
      continue;
    }
    const definition = DEFINITIONS[name];
    const threshold = override.threshold ?? definition.threshold?.value ?? 0;
    alerts.push({
      alert: name,
      expr: definition.expr(resolved, threshold),
      for: override.for ?? definition.for,
      labels: labels(resolved, override.severity ?? definition.severity),
      annotations: {
        summary: definition.summary,
        description: definition.description(threshold),
        runbook_url: runbookUrl(resolved, name),
      },
    });
  }
  return [
    { name: RECORDING_GROUP, rules: recordingRules(resolved) },
    { name: ALERTING_GROUP, rules: alerts },
  ];
}
