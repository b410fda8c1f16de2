/**
 * `push-telemetry/kubernetes`: the alerts, dashboards, scrape config and routing as kube-prometheus-stack manifests,
 * and the mixin's generated files. Not re-exported from the root: nothing on the send path needs it.
 */
export { kubernetesManifests } from './manifests.js';
export { kubernetesFiles, toKubernetesYaml } from './files.js';
export { mixinFiles } from './mixin.js';
export {
  DEFAULT_NAMESPACE,
  DEFAULT_RECEIVER_SECRET,
  DEFAULT_RELEASE,
  resolveKubernetesOptions,
} from './options.js';
export type { AlertmanagerReceiverOptions, KubernetesOptions, ResolvedKubernetesOptions } from './options.js';
export { INHIBITIONS, ROUTING } from './routing.js';
export type { InhibitionSpec, ReceiverName, RouteSpec } from './routing.js';
export type {
  AlertmanagerConfigManifest,
  AlertmanagerReceiver,
  AlertmanagerRoute,
  DashboardConfigMapManifest,
  KubernetesManifests,
  Matcher,
  NamespaceSelector,
  ObjectMeta,
  PodMonitorManifest,
  PrometheusRuleManifest,
  RelabelConfig,
  ScrapeEndpoint,
  SecretKeySelector,
  ServiceMonitorManifest,
} from './types.js';
export type { MonitoringConfig } from '../config.js';
