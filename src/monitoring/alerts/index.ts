export { ALERTING_GROUP, generateAlertRules, RECORDING_GROUP } from './rules.js';
export type { AlertingRule, Rule, RuleGroup } from './rules.js';
export { toPrometheusRule, toPrometheusRuleYaml, toPrometheusRulesYaml } from './writers.js';
export type { PrometheusRuleManifest, PrometheusRuleOptions } from './writers.js';
// The config shape is shared with the dashboards; re-exported so `push-telemetry/alerts` alone can type one.
export { ALERT_NAMES, DEFAULT_RUNBOOK_URL_BASE } from '../config.js';
export type { AlertName, AlertOverride, MonitoringConfig, Severity } from '../config.js';
