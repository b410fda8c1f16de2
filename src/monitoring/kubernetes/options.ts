import { describe, rejectUnknownOptions } from '../../core/options.js';
import { isDuration, resolveMonitoringConfig, type ResolvedMonitoringConfig } from '../config.js';
import { annotationKey, labelMap, namespaceName, objectName, portName, secretKey } from './names.js';
import type { SecretKeySelector } from './types.js';

export interface AlertmanagerReceiverOptions {
  /** Secret (in `namespace`) holding the PagerDuty Events API v2 routing key that pages; null for no PagerDuty. */
  readonly pagerduty?: SecretKeySelector | null;
  /** A webhook that gets every page too (an incident bot, a second pager). Default none (null says so too). */
  readonly webhookUrl?: string | null;
  /** Secret (in `namespace`) holding the Slack incoming-webhook URL that tickets go to. */
  readonly slack?: SecretKeySelector;
  /** Slack channel of the tickets. Default `#push-notifications-tickets`. */
  readonly slackChannel?: string;
}

/** Where and how the manifests land; every default is what a stock kube-prometheus-stack install selects. */
export interface KubernetesOptions {
  /** metadata.namespace of every manifest (and of the Secrets the receivers read). Default `monitoring`. */
  readonly namespace?: string;
  /** metadata.name of the PrometheusRule, monitors and AlertmanagerConfig; prefix of the dashboard ConfigMaps. Default `push-telemetry`. */
  readonly name?: string;
  /**
   * The `release` label kube-prometheus-stack's Prometheus selects PrometheusRules, ServiceMonitors and PodMonitors by
   * (the Helm release name). Default `kube-prometheus-stack`; null leaves it off (your selectors match `labels`).
   */
  readonly release?: string | null;
  /** Further metadata labels on every manifest. */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Adds `namespace: <namespace>` to every alert. The operator scopes an AlertmanagerConfig to alerts carrying its
   * namespace, and the rules aggregate the label away, so without it the routing receives nothing. Default true.
   */
  readonly alertNamespaceLabel?: boolean;
  /** Labels on the dashboard ConfigMaps that Grafana's sidecar looks for. Default `{ grafana_dashboard: '1' }`. */
  readonly dashboardLabels?: Readonly<Record<string, string>>;
  /** Grafana folder of the dashboards (the sidecar's folderAnnotation); null for none. Default `Push notifications`. */
  readonly dashboardFolder?: string | null;
  /** The annotation the sidecar reads the folder from. Default `grafana_folder`. */
  readonly dashboardFolderAnnotation?: string;
  /** Labels of your senders' Service (ServiceMonitor) and Pods (PodMonitor). Default `{ 'app.kubernetes.io/name': 'push-sender' }`. */
  readonly targetLabels?: Readonly<Record<string, string>>;
  /** Namespaces the senders run in. Default: any namespace. */
  readonly targetNamespaces?: readonly string[];
  /** Name of the Service or container port serving /metrics. Default `metrics`. */
  readonly port?: string;
  /** Default `/metrics`. */
  readonly path?: string;
  /** Scrape interval; the alerts' timings assume 15 s. Default `15s`. */
  readonly interval?: string;
  /**
   * The `job` label the monitors give the targets, so they match the rules' selector. Default: the value of the
   * selector's `job="…"` matcher; null keeps the operator's own (the Service name, or `<namespace>/<PodMonitor name>`).
   */
  readonly job?: string | null;
  /** Secret (in `namespace`) holding the bearer token of startMetricsServer's `auth`, sent with every scrape. Default none. */
  readonly bearerTokenSecret?: SecretKeySelector;
  readonly receivers?: AlertmanagerReceiverOptions;
}

export interface ResolvedKubernetesOptions {
  readonly namespace: string;
  readonly name: string;
  /** Metadata labels of every manifest, the release label included. */
  readonly labels: Readonly<Record<string, string>>;
  readonly alertNamespaceLabel: boolean;
  readonly dashboardLabels: Readonly<Record<string, string>>;
  readonly dashboardAnnotations: Readonly<Record<string, string>>;
  readonly targetLabels: Readonly<Record<string, string>>;
  readonly targetNamespaces: readonly string[];
  readonly port: string;
  readonly path: string;
  readonly interval: string;
  readonly job: string | undefined;
  readonly bearerTokenSecret: SecretKeySelector | undefined;
  readonly receivers: {
    readonly pagerduty: SecretKeySelector | undefined;
    readonly webhookUrl: string | undefined;
    readonly slack: SecretKeySelector;
    readonly slackChannel: string;
  };
}

export const DEFAULT_RELEASE = 'kube-prometheus-stack';
export const DEFAULT_NAMESPACE = 'monitoring';
/** One Secret for both receivers: `kubectl create secret generic push-telemetry-alertmanager --from-literal=…`. */
export const DEFAULT_RECEIVER_SECRET = 'push-telemetry-alertmanager';

const OPTIONS = [
  'namespace',
  'name',
  'release',
  'labels',
  'alertNamespaceLabel',
  'dashboardLabels',
  'dashboardFolder',
  'dashboardFolderAnnotation',
  'targetLabels',
  'targetNamespaces',
  'port',
  'path',
  'interval',
  'job',
  'bearerTokenSecret',
  'receivers',
] as const;

function secretRef(value: unknown, option: string): SecretKeySelector {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`${option} must be a Secret reference { name, key }, got ${describe(value)}`);
  rejectUnknownOptions(value, ['name', 'key'], option);
  const { name, key } = value as Record<string, unknown>;
  return { name: objectName(name, `${option}.name`), key: secretKey(key, `${option}.key`) };
}

function receivers(value: unknown): ResolvedKubernetesOptions['receivers'] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`options.receivers must be an object, got ${describe(value)}`);
  rejectUnknownOptions(value, ['pagerduty', 'webhookUrl', 'slack', 'slackChannel'], 'options.receivers');
  const given = value as AlertmanagerReceiverOptions;
  const pagerduty =
    given.pagerduty === null
      ? undefined
      : secretRef(
          given.pagerduty ?? { name: DEFAULT_RECEIVER_SECRET, key: 'pagerduty-routing-key' },
          'options.receivers.pagerduty',
        );
  // No default URL: a placeholder would fail every critical notification of a stock install.
  const webhookUrl = given.webhookUrl ?? undefined;
  if (webhookUrl !== undefined && (typeof webhookUrl !== 'string' || !/^https?:\/\/[^\s/]+\S*$/.test(webhookUrl)))
    throw new TypeError(`options.receivers.webhookUrl must be an http(s) URL or null, got ${describe(webhookUrl)}`);
  if (pagerduty === undefined && webhookUrl === undefined)
    throw new TypeError('options.receivers: pages need somewhere to go; keep pagerduty or give webhookUrl');
  const slackChannel = given.slackChannel ?? '#push-notifications-tickets';
  if (typeof slackChannel !== 'string' || slackChannel.trim() === '')
    throw new TypeError(`options.receivers.slackChannel must be a channel name, got ${describe(slackChannel)}`);
  return {
    pagerduty,
    webhookUrl,
    slack: secretRef(
      given.slack ?? { name: DEFAULT_RECEIVER_SECRET, key: 'slack-webhook-url' },
      'options.receivers.slack',
    ),
    slackChannel,
  };
}

/** `job="push-sender"` in the selector: the job the targets must get for the rules to see them. */
function jobOfSelector(config: ResolvedMonitoringConfig): string | undefined {
  const match = /(?:^|,)\s*job\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(config.selector);
  return match === null ? undefined : (JSON.parse(`"${match[1] as string}"`) as string);
}

/** Fills in the defaults and rejects bad values with a TypeError naming the option. */
export function resolveKubernetesOptions(
  options: KubernetesOptions = {},
  config: ResolvedMonitoringConfig = resolveMonitoringConfig(),
): ResolvedKubernetesOptions {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  rejectUnknownOptions(options, OPTIONS, 'options');
  const release = options.release === undefined ? DEFAULT_RELEASE : options.release;
  const labels = {
    'app.kubernetes.io/name': 'push-telemetry',
    ...labelMap(options.labels ?? {}, 'options.labels'),
    ...(release !== null && labelMap({ release }, 'options')),
  };
  if (options.alertNamespaceLabel !== undefined && typeof options.alertNamespaceLabel !== 'boolean')
    throw new TypeError(`options.alertNamespaceLabel must be a boolean, got ${describe(options.alertNamespaceLabel)}`);
  const folder = options.dashboardFolder === undefined ? 'Push notifications' : options.dashboardFolder;
  if (folder !== null && (typeof folder !== 'string' || folder.trim() === ''))
    throw new TypeError(`options.dashboardFolder must be a folder name or null, got ${describe(folder)}`);
  const folderAnnotation = annotationKey(
    options.dashboardFolderAnnotation ?? 'grafana_folder',
    'options.dashboardFolderAnnotation',
  );
  const targetNamespaces = options.targetNamespaces ?? [];
  if (!Array.isArray(targetNamespaces))
    throw new TypeError(`options.targetNamespaces must be an array of namespaces, got ${describe(targetNamespaces)}`);
  const path = options.path ?? '/metrics';
  if (typeof path !== 'string' || !/^\/\S*$/.test(path))
    throw new TypeError(`options.path must be an absolute URL path like /metrics, got ${describe(path)}`);
  const interval = options.interval ?? '15s';
  if (!isDuration(interval))
    throw new TypeError(`options.interval must be a Prometheus duration like 15s, got ${describe(interval)}`);
  const job = options.job === undefined ? jobOfSelector(config) : (options.job ?? undefined);
  if (job !== undefined && (typeof job !== 'string' || job === ''))
    throw new TypeError(`options.job must be a job name or null, got ${describe(job)}`);
  const targetLabels = labelMap(
    options.targetLabels ?? { 'app.kubernetes.io/name': 'push-sender' },
    'options.targetLabels',
  );
  if (Object.keys(targetLabels).length === 0)
    throw new TypeError('options.targetLabels must name at least one label: an empty selector scrapes every Service');
  return {
    namespace: namespaceName(options.namespace ?? DEFAULT_NAMESPACE, 'options.namespace'),
    name: objectName(options.name ?? 'push-telemetry', 'options.name'),
    labels,
    alertNamespaceLabel: options.alertNamespaceLabel ?? true,
    dashboardLabels: labelMap(options.dashboardLabels ?? { grafana_dashboard: '1' }, 'options.dashboardLabels'),
    dashboardAnnotations: folder === null ? {} : { [folderAnnotation]: folder },
    targetLabels,
    targetNamespaces: targetNamespaces.map((namespace, i) =>
      namespaceName(namespace, `options.targetNamespaces[${i}]`),
    ),
    port: portName(options.port ?? 'metrics', 'options.port'),
    path,
    interval,
    job,
    bearerTokenSecret:
      options.bearerTokenSecret === undefined
        ? undefined
        : secretRef(options.bearerTokenSecret, 'options.bearerTokenSecret'),
    receivers: receivers(options.receivers ?? {}),
  };
}
