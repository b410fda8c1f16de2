import type { ResolvedKubernetesOptions } from './options.js';
import type {
  NamespaceSelector,
  ObjectMeta,
  PodMonitorManifest,
  ScrapeEndpoint,
  ServiceMonitorManifest,
} from './types.js';

/**
 * The scrape side: a ServiceMonitor for senders behind a Service, and a PodMonitor for those without one. Both give
 * the targets the job the rules select, because the operator's own job (the Service name, or `<ns>/<PodMonitor>`)
 * rarely is `push-sender`, and a rule that selects nothing never fires.
 */

export function metadata(options: ResolvedKubernetesOptions, name = options.name): ObjectMeta {
  return { name, namespace: options.namespace, labels: { ...options.labels } };
}

function endpoint(options: ResolvedKubernetesOptions): ScrapeEndpoint {
  return {
    port: options.port,
    path: options.path,
    interval: options.interval,
    ...(options.bearerTokenSecret !== undefined && {
      authorization: { type: 'Bearer', credentials: { ...options.bearerTokenSecret } },
    }),
    ...(options.job !== undefined && {
      relabelings: [{ action: 'replace', targetLabel: 'job', replacement: options.job }],
    }),
  };
}

function namespaceSelector(options: ResolvedKubernetesOptions): NamespaceSelector {
  return options.targetNamespaces.length === 0 ? { any: true } : { matchNames: [...options.targetNamespaces] };
}

export function serviceMonitor(options: ResolvedKubernetesOptions): ServiceMonitorManifest {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: metadata(options),
    spec: {
      selector: { matchLabels: { ...options.targetLabels } },
      namespaceSelector: namespaceSelector(options),
      endpoints: [endpoint(options)],
    },
  };
}

export function podMonitor(options: ResolvedKubernetesOptions): PodMonitorManifest {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: metadata(options),
    spec: {
      selector: { matchLabels: { ...options.targetLabels } },
      namespaceSelector: namespaceSelector(options),
      podMetricsEndpoints: [endpoint(options)],
    },
  };
}
