import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { ALERT_NAMES, type ResolvedMonitoringConfig } from '../config.js';
import { BURN_RATE_TIERS, burnRateFactor } from '../promql.js';
import { dashboardShell, percent, runbookLinks } from './common.js';
import { PanelIds, stat, table, timeseries } from './panels.js';
import { alerts, budgetRemaining, burnRate, sli } from './queries.js';

/**
 * Push notifications / SLO & alerts. The burn rates come from the recording rules of the alert generator (fixed
 * windows, the ones its alerts use), each tier drawn against the factor it fires at; everything else follows the
 * viewer's range.
 */
export function sloAlertsDashboard(config: ResolvedMonitoringConfig): Dashboard {
  const ids = new PanelIds();
  const series = '{{provider}} {{app}}';
  const target = percent(config.sloTarget);
  const burnRunbook = runbookLinks(config, 'PushErrorBudgetBurn');
  const builder = dashboardShell(
    config,
    'slo',
    'SLO & alerts',
    `The acceptance SLO (${target} over ${config.sloPeriod}): SLI, error budget, burn rates against the alert thresholds, and the Push* alerts firing or pending.`,
  )
    .withPanel(
      timeseries(ids, {
        title: `SLI vs ${target} target`,
        unit: 'percentunit',
        w: 16,
        h: 8,
        thresholdLines: [
          ['red', null],
          ['green', config.sloTarget],
        ],
        description: `Share of SLO-counted messages accepted, per provider and app (unregistered, invalid_token and canceled do not count). The dashed line is the ${target} target: time spent below it spends error budget.`,
        targets: [{ expr: sli(config, ['provider', 'app']), legend: series }],
      }),
    )
    .withPanel(
      stat(ids, {
        title: `Error budget remaining (${config.sloPeriod})`,
        unit: 'percentunit',
        w: 8,
        h: 8,
        background: true,
        steps: [
          ['red', null],
          ['orange', 0],
          ['green', 0.25],
        ],
        description: `Share of the error budget (${percent(1 - config.sloTarget)} of messages over ${config.sloPeriod}) not yet spent, per provider and app. Below 0 (red) the SLO is missed for the period; under 25 % (orange) freeze risky changes.`,
        targets: [{ expr: budgetRemaining(config, ['provider', 'app']), legend: series, instant: true }],
        links: burnRunbook,
      }),
    );
  for (const tier of BURN_RATE_TIERS) {
    const factor = burnRateFactor(config, tier);
    const burn = config.alerts.PushErrorBudgetBurn;
    const severity = burn?.severity ?? tier.severity;
    const kind = burn?.disabled
      ? 'alert off'
      : severity === 'critical'
        ? 'page'
        : severity === 'warning'
          ? 'ticket'
          : 'info';
    const shown = Math.round(factor * 100) / 100;
    builder.withPanel(
      timeseries(ids, {
        title: `Burn rate ${tier.long} & ${tier.short} vs ${shown}× (${kind})`,
        unit: 'none',
        w: 12,
        h: 8,
        thresholdLines: [
          ['green', null],
          ['red', factor],
        ],
        description: `How many times faster than budget-neutral the error budget burns, over ${tier.long} and ${tier.short} (recording rules). When both lines cross the dashed ${shown}× line, ${tier.budgetPercent} % of the ${config.sloPeriod} budget goes in ${tier.long} and PushErrorBudgetBurn ${burn?.disabled ? 'would fire, but it is switched off in the config' : `fires (${kind})`}.`,
        targets: [tier.long, tier.short].map((window) => ({
          expr: burnRate(config, window),
          legend: `${series} ${window}`,
        })),
        links: burnRunbook,
      }),
    );
  }
  return builder
    .withPanel(
      table(ids, {
        title: 'Push alerts firing and pending',
        unit: 'none',
        w: 12,
        h: 8,
        description:
          'Every Push* alert Prometheus holds now (its ALERTS series), with its state and labels. Pending alerts have met their condition but not yet for long enough. The runbooks are in the panel links.',
        targets: [{ expr: alerts(), legend: '{{alertname}}', instant: true, format: PromQueryFormat.Table }],
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true, Value: true, __name__: true },
              indexByName: { alertname: 0, alertstate: 1, severity: 2, provider: 3, app: 4, job: 5 },
            },
          },
        ],
        links: runbookLinks(config, ...ALERT_NAMES),
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Push alerts over time',
        unit: 'short',
        w: 12,
        h: 8,
        description:
          'How many Push* alerts of each name were pending or firing over the range: flapping shows as a comb, a long outage as a plateau.',
        targets: [{ expr: `count by (alertname, alertstate) (${alerts()})`, legend: '{{alertname}} {{alertstate}}' }],
      }),
    )
    .build();
}
