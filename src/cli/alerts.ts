import { generateAlertRules, toPrometheusRulesYaml, toPrometheusRuleYaml } from '../monitoring/alerts/index.js';
import type { MonitoringConfig } from '../monitoring/config.js';
import { parseChoice, parseNumber, stringFlag, type CommandSpec, type Flags } from './args.js';
import { COMMON_FLAGS, generate, monitoringConfig, parseLabels, parseSlo, writeOut } from './monitoring-flags.js';

export const ALERTS_SPEC: CommandSpec = {
  name: 'alerts',
  brief: 'Prometheus rules (or a PrometheusRule) for your labels and SLO',
  summary:
    "Writes push-telemetry's Prometheus recording and alerting rules for your labels and SLO: a rules file for\n" +
    'rule_files:, or a prometheus-operator PrometheusRule. alerts/push-alerts.yaml is this with the defaults.',
  flags: {
    ...COMMON_FLAGS,
    slo: {
      type: 'string',
      value: 'TARGET',
      description: 'share of messages providers must accept: 99.5, 99.5% or 0.995 (default 99.5%)',
    },
    'slo-period': { type: 'string', value: 'D', description: 'SLO period as a Prometheus duration (default 30d)' },
    'min-rate': {
      type: 'string',
      value: 'N',
      description: 'ratio alerts stay silent below N messages/s per provider (default 0.1)',
    },
    'runbook-url': {
      type: 'string',
      value: 'URL',
      description: 'base URL of your copy of the runbooks (docs/runbooks/)',
    },
    labels: { type: 'string', value: 'K=V,…', description: 'labels added to every alert, e.g. team=mobile' },
    format: {
      type: 'string',
      value: 'FORMAT',
      description: 'rules (a Prometheus rules file, default) or prometheus-rule (a PrometheusRule manifest)',
    },
    name: {
      type: 'string',
      value: 'NAME',
      description: 'metadata.name of the PrometheusRule (default push-telemetry)',
    },
    namespace: { type: 'string', value: 'NS', description: 'metadata.namespace of the PrometheusRule' },
    out: { type: 'string', value: 'FILE', description: 'write to FILE instead of stdout' },
  },
  details: 'Check the output with: promtool check rules FILE',
};

const FORMATS = ['rules', 'prometheus-rule'] as const;

export function alertFlags(flags: Flags): MonitoringConfig {
  const slo = stringFlag(flags, 'slo');
  const period = stringFlag(flags, 'slo-period');
  const minRate = stringFlag(flags, 'min-rate');
  const runbooks = stringFlag(flags, 'runbook-url');
  const labels = stringFlag(flags, 'labels');
  return {
    ...(slo !== undefined && { sloTarget: parseSlo(slo) }),
    ...(period !== undefined && { sloPeriod: period }),
    ...(minRate !== undefined && {
      minMessagesPerSecond: parseNumber('min-rate', minRate, 0, 1e6, 'messages per second'),
    }),
    ...(runbooks !== undefined && { runbookUrlBase: runbooks }),
    ...(labels !== undefined && { extraLabels: parseLabels(labels) }),
  };
}

export async function runAlerts(flags: Flags, out: NodeJS.WriteStream): Promise<number> {
  const format = parseChoice('format', stringFlag(flags, 'format') ?? 'rules', FORMATS);
  const name = stringFlag(flags, 'name');
  const namespace = stringFlag(flags, 'namespace');
  const config = await monitoringConfig(flags, alertFlags(flags));
  const groups = generate(flags, () => generateAlertRules(config));
  const yaml =
    format === 'rules'
      ? toPrometheusRulesYaml(groups)
      : generate(flags, () =>
          toPrometheusRuleYaml(groups, {
            ...(name !== undefined && { name }),
            ...(namespace !== undefined && { namespace }),
          }),
        );
  const file = stringFlag(flags, 'out');
  if (file === undefined) out.write(yaml);
  else await writeOut(file, yaml, out);
  return 0;
}
