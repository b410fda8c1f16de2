import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
  type VariableOption,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { METRIC_NAMES } from '../../metrics/contract.js';
import type { ResolvedMonitoringConfig } from '../config.js';
import { MESSAGES, runbookUrl } from '../promql.js';
import { DATASOURCE, type Link } from './panels.js';
import { alerts, labelValues } from './queries.js';

/** Stable uids: links, bookmarks and provisioning keep working across regenerations. */
export const DASHBOARD_UIDS = {
  overview: 'push-overview',
  providerHealth: 'push-provider-health',
  slo: 'push-slo-alerts',
  delivery: 'push-delivery',
} as const;
export type DashboardKey = keyof typeof DASHBOARD_UIDS;

/** The dashboards find each other by this tag. */
export const DASHBOARD_TAG = 'push-telemetry';

/** Panel links to the runbooks of the alerts a panel is evidence for. */
export function runbookLinks(config: ResolvedMonitoringConfig, ...alertNames: string[]): Link[] {
  return alertNames.map((name) => ({ title: `Runbook: ${name}`, url: runbookUrl(config, name) }));
}

/** 0.995 → "99.5%", without float noise. */
export function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(12))}%`;
}

const ALL: VariableOption = { selected: true, text: ['All'], value: ['$__all'] };

function labelVariable(name: string, label: string, query: string, description: string): QueryVariableBuilder {
  return (
    new QueryVariableBuilder(name)
      .label(label)
      .description(description)
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .current(ALL)
      // `app` is absent on senders without one; `.*` (unlike Grafana's default list of values) also matches "no label".
      .allValue(name === 'job' ? '.+' : '.*')
  );
}

function variables(
  config: ResolvedMonitoringConfig,
  group: boolean,
): Array<DatasourceVariableBuilder | QueryVariableBuilder> {
  const datasource = new DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type('prometheus')
    .description('The Prometheus that scrapes the push senders.');
  if (config.datasource !== undefined)
    datasource.current({ selected: true, text: config.datasource, value: config.datasource });
  return [
    datasource,
    labelVariable(
      'job',
      'Job',
      labelValues(config, METRIC_NAMES.info, 'job'),
      'Scrape jobs of the instrumented senders.',
    ),
    labelVariable(
      'provider',
      'Provider',
      labelValues(config, MESSAGES, 'provider', 'job=~"$job"'),
      'Push providers (fcm, apns, webpush, expo, sns, onesignal, custom).',
    ),
    labelVariable(
      'app',
      'App',
      labelValues(config, MESSAGES, 'app', 'job=~"$job"', 'provider=~"$provider"'),
      'The app label of wrapped senders; All includes senders without one.',
    ),
    ...(group
      ? [
          labelVariable(
            'group',
            'Group',
            labelValues(config, MESSAGES, 'group', 'job=~"$job"', 'provider=~"$provider"', 'app=~"$app"'),
            'The opt-in group label (new PushTelemetry({ groups })) of messages and call durations; empty without groups. All includes messages without a group.',
          ),
        ]
      : []),
  ];
}

function links(config: ResolvedMonitoringConfig): DashboardLinkBuilder[] {
  return [
    new DashboardLinkBuilder('Push dashboards')
      .type(DashboardLinkType.Dashboards)
      .tags([DASHBOARD_TAG])
      .includeVars(true)
      .keepTime(true),
    new DashboardLinkBuilder('Runbooks')
      .type(DashboardLinkType.Link)
      .url(config.runbookUrlBase)
      .icon('doc')
      .tooltip('What to do when a Push* alert fires')
      .targetBlank(true),
  ];
}

/** Firing Push* alerts, marked on every time series panel. */
function alertAnnotation(): AnnotationQueryBuilder {
  return new AnnotationQueryBuilder()
    .name('Push alerts firing')
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor('red')
    .expr(alerts('alertstate="firing"'))
    .step('60s')
    .titleFormat('{{alertname}}')
    .textFormat('{{severity}} {{provider}} {{app}}')
    .tagKeys('severity,provider,app')
    .useValueForTime(false);
}

/**
 * The frame every dashboard shares: title, uid, variables, links, alert annotations, time settings. `group: false`
 * leaves out the group picker, for a dashboard none of whose queries can filter by the group label.
 */
export function dashboardShell(
  config: ResolvedMonitoringConfig,
  key: DashboardKey,
  name: string,
  description: string,
  { group = true }: { readonly group?: boolean } = {},
): DashboardBuilder {
  return new DashboardBuilder([config.titlePrefix, name].filter((part) => part !== '').join(' / '))
    .uid(DASHBOARD_UIDS[key])
    .description(description)
    .tags([DASHBOARD_TAG])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .tooltip(DashboardCursorSync.Crosshair)
    .variables(variables(config, group))
    .annotation(alertAnnotation())
    .links(links(config));
}
