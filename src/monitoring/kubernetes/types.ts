import type { PrometheusRuleManifest } from '../alerts/writers.js';
import type { Matcher } from './routing.js';

/** The manifests kubernetesManifests() returns: plain objects, shaped as the API server and the operator read them. */

export type { PrometheusRuleManifest } from '../alerts/writers.js';
export type { Matcher } from './routing.js';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RelabelConfig {
  readonly action: 'replace';
  readonly targetLabel: string;
  readonly replacement: string;
}

export interface NamespaceSelector {
  readonly any?: true;
  readonly matchNames?: readonly string[];
}

export interface ScrapeEndpoint {
  /** A Service port name (ServiceMonitor) or container port name (PodMonitor). */
  readonly port: string;
  readonly path: string;
  readonly interval: string;
  /** The bearer token startMetricsServer's `auth` requires, read from a Secret in the monitor's namespace. */
  readonly authorization?: { readonly type: 'Bearer'; readonly credentials: SecretKeySelector };
  readonly relabelings?: readonly RelabelConfig[];
}

export interface ServiceMonitorManifest {
  readonly apiVersion: 'monitoring.coreos.com/v1';
  readonly kind: 'ServiceMonitor';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly namespaceSelector: NamespaceSelector;
    readonly endpoints: readonly ScrapeEndpoint[];
  };
}

export interface PodMonitorManifest {
  readonly apiVersion: 'monitoring.coreos.com/v1';
  readonly kind: 'PodMonitor';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly namespaceSelector: NamespaceSelector;
    readonly podMetricsEndpoints: readonly ScrapeEndpoint[];
  };
}

export interface SecretKeySelector {
  readonly name: string;
  readonly key: string;
}

export interface AlertmanagerRoute {
  readonly receiver: string;
  readonly matchers?: readonly Matcher[];
  readonly groupBy?: readonly string[];
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly repeatInterval?: string;
  readonly continue?: boolean;
  readonly routes?: readonly AlertmanagerRoute[];
}

export interface AlertmanagerReceiver {
  readonly name: string;
  readonly pagerdutyConfigs?: ReadonlyArray<{
    readonly routingKey: SecretKeySelector;
    readonly description: string;
    readonly pagerDutyLinkConfigs: ReadonlyArray<{ readonly href: string; readonly alt: string }>;
  }>;
  readonly webhookConfigs?: ReadonlyArray<{ readonly url: string; readonly sendResolved: boolean }>;
  readonly slackConfigs?: ReadonlyArray<{
    readonly apiURL: SecretKeySelector;
    readonly channel: string;
    readonly sendResolved: boolean;
    readonly title: string;
    readonly text: string;
  }>;
}

export interface AlertmanagerConfigManifest {
  readonly apiVersion: 'monitoring.coreos.com/v1alpha1';
  readonly kind: 'AlertmanagerConfig';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly route: AlertmanagerRoute;
    readonly receivers: readonly AlertmanagerReceiver[];
    readonly inhibitRules: ReadonlyArray<{
      readonly sourceMatch: readonly Matcher[];
      readonly targetMatch: readonly Matcher[];
      readonly equal: readonly string[];
    }>;
  };
}

/** One Grafana dashboard for Grafana's sidecar: `data` holds `<uid>.json`, the dashboard's JSON model. */
export interface DashboardConfigMapManifest {
  readonly apiVersion: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data: Readonly<Record<string, string>>;
}

export interface KubernetesManifests {
  readonly prometheusRule: PrometheusRuleManifest;
  readonly serviceMonitor: ServiceMonitorManifest;
  /** For senders without a Service; apply it instead of the ServiceMonitor, not beside it (each target twice). */
  readonly podMonitor: PodMonitorManifest;
  readonly alertmanagerConfig: AlertmanagerConfigManifest;
  readonly dashboards: readonly DashboardConfigMapManifest[];
}
