import { importOptional } from '../../optional-package.js';
import { generateAlertRules } from '../alerts/rules.js';
import { toPrometheusRule } from '../alerts/writers.js';
import { resolveMonitoringConfig, type MonitoringConfig } from '../config.js';
import { alertmanagerConfig } from './alertmanager-config.js';
import { dashboardConfigMaps } from './dashboards.js';
import { podMonitor, serviceMonitor } from './monitors.js';
import { resolveKubernetesOptions, type KubernetesOptions } from './options.js';
import type { KubernetesManifests } from './types.js';

/**
 * Everything kube-prometheus-stack needs, from the one MonitoringConfig the `alerts` and `dashboards` generators take:
 * the rules as a PrometheusRule, the dashboards as sidecar ConfigMaps, the scrape config as a ServiceMonitor (or
 * PodMonitor), and the routing as an AlertmanagerConfig. Asynchronous because the dashboards need the optional
 * @grafana/grafana-foundation-sdk, loaded only here.
 */
export async function kubernetesManifests(
  config: MonitoringConfig = {},
  options: KubernetesOptions = {},
): Promise<KubernetesManifests> {
  const resolvedConfig = resolveMonitoringConfig(config);
  const resolved = resolveKubernetesOptions(options, resolvedConfig);
  const groups = generateAlertRules(
    resolved.alertNamespaceLabel
      ? { ...config, extraLabels: { namespace: resolved.namespace, ...resolvedConfig.extraLabels } }
      : config,
  );
  const { dashboardFiles, generateDashboards } = await importOptional(
    '@grafana/grafana-foundation-sdk',
    'kubernetesManifests (the Grafana dashboard ConfigMaps)',
    () => import('../dashboards/index.js'),
  );
  return {
    prometheusRule: toPrometheusRule(groups, {
      name: resolved.name,
      namespace: resolved.namespace,
      labels: resolved.labels,
    }),
    serviceMonitor: serviceMonitor(resolved),
    podMonitor: podMonitor(resolved),
    alertmanagerConfig: alertmanagerConfig(resolved),
    dashboards: dashboardConfigMaps(dashboardFiles(generateDashboards(config)), resolved),
  };
}
