import { describe, rejectUnknownOptions } from '../core/options.js';

/** The alerts push-telemetry ships; every one can be tuned or switched off through MonitoringConfig.alerts. */
export const ALERT_NAMES = [
  'PushSenderDown',
  'PushSendingStalled',
  'PushProviderHung',
  'PushProviderOutage',
  'PushProviderErrorRateHigh',
  'PushCredentialsRejected',
  'PushPayloadRejected',
  'PushRateLimited',
  'PushInvalidTokenSurge',
  'PushInvalidTokensHeld',
  'PushLatencyHigh',
  'PushConfirmedDeliveryLow',
  'PushRecipientsOverSendCap',
  'PushErrorBudgetBurn',
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

export type Severity = 'critical' | 'warning' | 'info';

export interface AlertOverride {
  readonly severity?: Severity;
  /** How long the condition must hold, as a Prometheus duration (`5m`). */
  readonly for?: string;
  /** The alert's threshold, in the unit its runbook gives (a ratio, seconds, a factor). */
  readonly threshold?: number;
  readonly disabled?: boolean;
}

/** One shape for the alert and dashboard generators, so a team's labels and SLO are said once. */
export interface MonitoringConfig {
  /** Label matchers selecting the instrumented senders' scrape targets, without braces. Default `job="push-sender"`. */
  readonly selector?: string;
  /** Further matchers ANDed into every query (`cluster="eu-1"`). Default none. */
  readonly labelFilters?: string;
  /** Share of messages the provider must accept (audience-owned failures excepted). Default 0.995. */
  readonly sloTarget?: number;
  /** SLO period as a Prometheus duration. Default `30d`. */
  readonly sloPeriod?: string;
  /** Ratio alerts stay silent below this many messages per second per provider, so one failure of a trickle never pages. Default 0.1. */
  readonly minMessagesPerSecond?: number;
  /** Base URL of the runbooks; each alert links to `<base><alert-name-in-kebab-case>.md`. */
  readonly runbookUrlBase?: string;
  /** Labels added to every alert (`{ team: 'mobile' }`). */
  readonly extraLabels?: Readonly<Record<string, string>>;
  /** Per-alert tuning. */
  readonly alerts?: Readonly<Partial<Record<AlertName, AlertOverride>>>;
  /** Dashboards: the Prometheus datasource variable's default (a datasource name). Default none: Grafana's default datasource. */
  readonly datasource?: string;
  /** Dashboards: title prefix. Default `Push notifications`. */
  readonly titlePrefix?: string;
}

export interface ResolvedMonitoringConfig {
  readonly selector: string;
  readonly labelFilters: string;
  readonly sloTarget: number;
  readonly sloPeriod: string;
  readonly minMessagesPerSecond: number;
  readonly runbookUrlBase: string;
  readonly extraLabels: Readonly<Record<string, string>>;
  readonly alerts: Readonly<Partial<Record<AlertName, AlertOverride>>>;
  readonly datasource: string | undefined;
  readonly titlePrefix: string;
}

export const DEFAULT_RUNBOOK_URL_BASE = 'https://github.com/push-telemetry/push-telemetry/blob/main/docs/runbooks/';

const OPTIONS = [
  'selector',
  'labelFilters',
  'sloTarget',
  'sloPeriod',
  'minMessagesPerSecond',
  'runbookUrlBase',
  'extraLabels',
  'alerts',
  'datasource',
  'titlePrefix',
] as const;
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
// A comma-separated list of label matchers; the values may hold anything but an unescaped quote.
const MATCHERS =
  /^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isDuration(value: unknown): value is string {
  return typeof value === 'string' && DURATION.test(value);
}

function checkMatchers(value: unknown, option: string, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (value === '' ? !allowEmpty : !MATCHERS.test(value))) {
    throw new TypeError(
      `${option} must be PromQL label matchers without braces, like job="push-sender", got ${describe(value)}`,
    );
  }
  return value.trim();
}

function checkAlerts(alerts: unknown): Readonly<Partial<Record<AlertName, AlertOverride>>> {
  if (alerts === null || typeof alerts !== 'object')
    throw new TypeError(`config.alerts must be an object keyed by alert name, got ${describe(alerts)}`);
  rejectUnknownOptions(alerts, ALERT_NAMES, 'config.alerts');
  for (const [name, override] of Object.entries(alerts as Record<string, unknown>)) {
    const where = `config.alerts.${name}`;
    if (override === null || typeof override !== 'object')
      throw new TypeError(`${where} must be an object, got ${describe(override)}`);
    rejectUnknownOptions(override, ['severity', 'for', 'threshold', 'disabled'], where);
    const { severity, for: holdFor, threshold, disabled } = override as AlertOverride;
    if (severity !== undefined && !['critical', 'warning', 'info'].includes(severity))
      throw new TypeError(`${where}.severity must be critical, warning or info, got ${describe(severity)}`);
    if (holdFor !== undefined && !isDuration(holdFor))
      throw new TypeError(`${where}.for must be a Prometheus duration like 5m, got ${describe(holdFor)}`);
    if (threshold !== undefined && !(typeof threshold === 'number' && Number.isFinite(threshold) && threshold > 0))
      throw new TypeError(`${where}.threshold must be a number > 0, got ${describe(threshold)}`);
    if (disabled !== undefined && typeof disabled !== 'boolean')
      throw new TypeError(`${where}.disabled must be a boolean, got ${describe(disabled)}`);
  }
  return alerts as Readonly<Partial<Record<AlertName, AlertOverride>>>;
}

/** Fills in the defaults and rejects bad values with a TypeError naming the option. */
export function resolveMonitoringConfig(config: MonitoringConfig = {}): ResolvedMonitoringConfig {
  if (config === null || typeof config !== 'object')
    throw new TypeError(`config must be an object, got ${describe(config)}`);
  rejectUnknownOptions(config, OPTIONS, 'config');
  const {
    sloTarget = 0.995,
    sloPeriod = '30d',
    minMessagesPerSecond = 0.1,
    runbookUrlBase = DEFAULT_RUNBOOK_URL_BASE,
    extraLabels = {},
    titlePrefix = 'Push notifications',
  } = config;
  if (!(typeof sloTarget === 'number' && sloTarget > 0 && sloTarget < 1))
    throw new TypeError(
      `config.sloTarget must be a ratio between 0 and 1 exclusive (0.995 for 99.5%), got ${describe(sloTarget)}`,
    );
  if (!isDuration(sloPeriod))
    throw new TypeError(`config.sloPeriod must be a Prometheus duration like 30d, got ${describe(sloPeriod)}`);
  if (
    !(typeof minMessagesPerSecond === 'number' && minMessagesPerSecond >= 0 && Number.isFinite(minMessagesPerSecond))
  ) {
    throw new TypeError(`config.minMessagesPerSecond must be a number >= 0, got ${describe(minMessagesPerSecond)}`);
  }
  if (typeof runbookUrlBase !== 'string' || !/^https?:\/\/\S+$/.test(runbookUrlBase))
    throw new TypeError(`config.runbookUrlBase must be an http(s) URL, got ${describe(runbookUrlBase)}`);
  if (extraLabels === null || typeof extraLabels !== 'object')
    throw new TypeError(`config.extraLabels must be an object of label names to values, got ${describe(extraLabels)}`);
  for (const [name, value] of Object.entries(extraLabels)) {
    if (!LABEL_NAME.test(name) || typeof value !== 'string')
      throw new TypeError(`config.extraLabels.${name} must be a valid label name with a string value`);
  }
  if (config.datasource !== undefined && (typeof config.datasource !== 'string' || config.datasource === ''))
    throw new TypeError(`config.datasource must be a datasource name, got ${describe(config.datasource)}`);
  if (typeof titlePrefix !== 'string')
    throw new TypeError(`config.titlePrefix must be a string, got ${describe(titlePrefix)}`);
  return {
    selector: checkMatchers(config.selector ?? 'job="push-sender"', 'config.selector', false),
    labelFilters: checkMatchers(config.labelFilters ?? '', 'config.labelFilters', true),
    sloTarget,
    sloPeriod,
    minMessagesPerSecond,
    runbookUrlBase,
    extraLabels,
    alerts: checkAlerts(config.alerts ?? {}),
    datasource: config.datasource,
    titlePrefix,
  };
}
