import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { resolveMonitoringConfig, type MonitoringConfig } from '../config.js';
import { DASHBOARD_UIDS, type DashboardKey } from './common.js';
import { overviewDashboard } from './overview.js';
import { providerHealthDashboard } from './provider-health.js';
import { sloAlertsDashboard } from './slo-alerts.js';
import { deliveryDashboard } from './delivery.js';

export { DASHBOARD_TAG, DASHBOARD_UIDS } from './common.js';
export type { DashboardKey } from './common.js';
export type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';

/** The dashboards as Grafana JSON models, keyed like DASHBOARD_UIDS. */
export type GeneratedDashboards = Readonly<Record<DashboardKey, Dashboard>>;

/**
 * Builds the Overview, Provider health, SLO & alerts and Delivery dashboards from the config the alert generator shares.
 * Each result is a plain object: `JSON.stringify` it into a file for Grafana's import or file provisioning (the
 * file name `<uid>.json` is what dashboards/ uses).
 */
export function generateDashboards(config?: MonitoringConfig): GeneratedDashboards {
  const resolved = resolveMonitoringConfig(config);
  return {
    overview: asJson(overviewDashboard(resolved)),
    providerHealth: asJson(providerHealthDashboard(resolved)),
    slo: asJson(sloAlertsDashboard(resolved)),
    delivery: asJson(deliveryDashboard(resolved)),
  };
}

/**
 * The SDK tags each query with a marker method (`_implementsDataqueryVariant`) that JSON drops; returning the JSON
 * form makes the result what a file holds, equal to a parsed file and safe for structuredClone.
 */
function asJson(dashboard: Dashboard): Dashboard {
  return JSON.parse(JSON.stringify(dashboard)) as Dashboard;
}

/** `dashboards/<uid>.json` contents: two-space JSON with a final newline, as committed. */
export function dashboardFiles(dashboards: GeneratedDashboards): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(DASHBOARD_UIDS) as DashboardKey[]).map((key) => [
      `${DASHBOARD_UIDS[key]}.json`,
      `${JSON.stringify(dashboards[key], null, 2)}\n`,
    ]),
  );
}
