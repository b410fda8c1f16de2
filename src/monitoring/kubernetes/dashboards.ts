import { objectName } from './names.js';
import type { ResolvedKubernetesOptions } from './options.js';
import type { DashboardConfigMapManifest } from './types.js';

/**
 * One ConfigMap per dashboard, which Grafana's sidecar (kube-prometheus-stack's Grafana runs it, watching every
 * namespace for `grafana_dashboard: "1"`) loads as a file. One per dashboard keeps each far below the 256 KiB that
 * client-side `kubectl apply` can annotate.
 */
export function dashboardConfigMaps(
  files: Readonly<Record<string, string>>,
  options: ResolvedKubernetesOptions,
): DashboardConfigMapManifest[] {
  return Object.entries(files).map(([file, json]) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: objectName(`${options.name}-dashboard-${file.replace(/\.json$/, '')}`, `the ConfigMap of ${file}`),
      namespace: options.namespace,
      labels: { ...options.labels, ...options.dashboardLabels },
      ...(Object.keys(options.dashboardAnnotations).length > 0 && {
        annotations: { ...options.dashboardAnnotations },
      }),
    },
    // The file without its final newline, so the YAML can carry it as a readable block.
    data: { [file]: json.replace(/\n$/, '') },
  }));
}
