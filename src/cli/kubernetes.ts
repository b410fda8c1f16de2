import path from 'node:path';
import type { KubernetesOptions } from '../monitoring/kubernetes/index.js';
import { alertFlags, ALERTS_SPEC } from './alerts.js';
import { stringFlag, UsageError, type CommandSpec, type Flags } from './args.js';
import { DASHBOARDS_SPEC } from './dashboards.js';
import { generate, monitoringConfig, writeOut } from './monitoring-flags.js';

/**
 * `push-telemetry k8s`: the alerts, dashboards, scrape config and routing as kube-prometheus-stack manifests, from the
 * same flags (or --config) as `alerts` and `dashboards`, so the three always agree.
 */

const { out: _alertsOut, format: _format, name: _name, namespace: _namespace, ...ALERT_FLAGS } = ALERTS_SPEC.flags;
const { out: _dashboardsOut, ...DASHBOARD_FLAGS } = DASHBOARDS_SPEC.flags;

export const KUBERNETES_SPEC: CommandSpec = {
  name: 'k8s',
  brief: 'kube-prometheus-stack manifests: PrometheusRule, dashboard ConfigMaps, monitors, AlertmanagerConfig',
  summary:
    "Writes the alerts as a PrometheusRule, one ConfigMap per dashboard for Grafana's sidecar, a ServiceMonitor (and a\n" +
    'PodMonitor for senders without a Service), an AlertmanagerConfig with the routing, and a kustomization.yaml.\n' +
    'deploy/kubernetes/ is this with the defaults. Apply with: kubectl apply --server-side -k DIR',
  flags: {
    ...ALERT_FLAGS,
    ...DASHBOARD_FLAGS,
    out: { type: 'string', value: 'DIR', description: 'directory to write the manifests into (default ./kubernetes)' },
    stdout: { type: 'boolean', description: 'write one YAML stream to stdout instead (for kubectl apply -f -)' },
    namespace: { type: 'string', value: 'NS', description: 'namespace of every manifest (default monitoring)' },
    name: {
      type: 'string',
      value: 'NAME',
      description: 'name of the manifests, prefix of the ConfigMaps (default push-telemetry)',
    },
    release: {
      type: 'string',
      value: 'NAME',
      description: 'your kube-prometheus-stack Helm release, set as the release label\n(default kube-prometheus-stack)',
    },
    'no-release': { type: 'boolean', description: 'no release label (your Prometheus selects on --object-labels)' },
    'object-labels': { type: 'string', value: 'K=V,…', description: 'further metadata labels on every manifest' },
    'no-alert-namespace': {
      type: 'boolean',
      description: "don't label alerts namespace=NS (the AlertmanagerConfig then receives none of them)",
    },
    'dashboard-labels': {
      type: 'string',
      value: 'K=V,…',
      description: "labels Grafana's sidecar selects dashboard ConfigMaps by (default grafana_dashboard=1)",
    },
    'dashboard-folder': {
      type: 'string',
      value: 'NAME',
      description: 'Grafana folder, as the grafana_folder annotation (default "Push notifications")',
    },
    'target-labels': {
      type: 'string',
      value: 'K=V,…',
      description: "labels of your senders' Service and Pods (default app.kubernetes.io/name=push-sender)",
    },
    'target-namespaces': { type: 'string', value: 'NS,…', description: 'namespaces your senders run in (default any)' },
    port: { type: 'string', value: 'NAME', description: 'name of the port serving /metrics (default metrics)' },
    path: { type: 'string', value: 'PATH', description: 'metrics path (default /metrics)' },
    interval: { type: 'string', value: 'D', description: 'scrape interval; the alerts assume 15s (default 15s)' },
    job: {
      type: 'string',
      value: 'NAME',
      description: 'job label the monitors give the targets (default: the job of --selector, push-sender)',
    },
    'bearer-token-secret': {
      type: 'string',
      value: 'SECRET/KEY',
      description: "Secret and key of the bearer token your metrics server's auth requires (default none)",
    },
    'pagerduty-secret': {
      type: 'string',
      value: 'SECRET/KEY',
      description:
        'Secret and key of the PagerDuty routing key\n(default push-telemetry-alertmanager/pagerduty-routing-key)',
    },
    'no-pagerduty': { type: 'boolean', description: 'page without PagerDuty (through --webhook-url only)' },
    'webhook-url': { type: 'string', value: 'URL', description: 'a webhook that gets every page too' },
    'no-webhook': { type: 'boolean', description: 'no page webhook (the default)' },
    'slack-secret': {
      type: 'string',
      value: 'SECRET/KEY',
      description:
        'Secret and key of the Slack webhook URL for tickets\n(default push-telemetry-alertmanager/slack-webhook-url)',
    },
    'slack-channel': {
      type: 'string',
      value: 'CHANNEL',
      description: 'Slack channel of the tickets (default #push-notifications-tickets)',
    },
  },
  details:
    'Before applying, create the Secret the AlertmanagerConfig reads (docs/kubernetes.md):\n' +
    '  kubectl -n monitoring create secret generic push-telemetry-alertmanager \\\n' +
    '    --from-literal=pagerduty-routing-key=… --from-literal=slack-webhook-url=https://hooks.slack.com/…',
};

/** Which flag sets which option, so "options.port must be…" names --port. Longest paths first. */
const FLAG_OF_OPTION: ReadonlyArray<readonly [string, string]> = [
  ['receivers.pagerduty', '--pagerduty-secret'],
  ['receivers.webhookUrl', '--webhook-url'],
  ['receivers.slackChannel', '--slack-channel'],
  ['receivers.slack', '--slack-secret'],
  ['receivers', '--no-pagerduty/--no-webhook'],
  ['dashboardLabels', '--dashboard-labels'],
  ['dashboardFolder', '--dashboard-folder'],
  ['targetLabels', '--target-labels'],
  ['targetNamespaces', '--target-namespaces'],
  ['namespace', '--namespace'],
  ['release', '--release'],
  ['labels', '--object-labels'],
  ['name', '--name'],
  ['port', '--port'],
  ['path', '--path'],
  ['interval', '--interval'],
  ['job', '--job'],
  ['bearerTokenSecret', '--bearer-token-secret'],
];

/** `app.kubernetes.io/name=push-sender,tier=1`; the names and values are checked by the generator. */
function parseObjectLabels(flag: string, value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const match = /^\s*([^=\s]+)=(.*)$/.exec(pair);
    if (!match) throw new UsageError(`--${flag} must be name=value pairs separated by commas, got "${pair}"`);
    labels[match[1] as string] = (match[2] as string).trim();
  }
  return labels;
}

function parseSecret(flag: string, value: string): { name: string; key: string } {
  const match = /^([^/]+)\/([^/]+)$/.exec(value);
  if (!match)
    throw new UsageError(
      `--${flag} must be SECRET/KEY, like push-telemetry-alertmanager/slack-webhook-url, got "${value}"`,
    );
  return { name: match[1] as string, key: match[2] as string };
}

function kubernetesOptions(flags: Flags): KubernetesOptions {
  const string = (name: string) => stringFlag(flags, name);
  const labels = (name: string) => {
    const value = string(name);
    return value === undefined ? undefined : parseObjectLabels(name, value);
  };
  for (const [flag, negation] of [
    ['release', 'no-release'],
    ['pagerduty-secret', 'no-pagerduty'],
    ['webhook-url', 'no-webhook'],
  ] as const) {
    if (flags[negation] === true && string(flag) !== undefined)
      throw new UsageError(`--${flag} and --${negation} contradict each other: give one`);
  }
  const pagerduty = string('pagerduty-secret');
  const slack = string('slack-secret');
  const receivers = {
    ...(flags['no-pagerduty'] === true && { pagerduty: null }),
    ...(pagerduty !== undefined && { pagerduty: parseSecret('pagerduty-secret', pagerduty) }),
    ...(flags['no-webhook'] === true && { webhookUrl: null }),
    ...(string('webhook-url') !== undefined && { webhookUrl: string('webhook-url') }),
    ...(slack !== undefined && { slack: parseSecret('slack-secret', slack) }),
    ...(string('slack-channel') !== undefined && { slackChannel: string('slack-channel') }),
  };
  const targetNamespaces = string('target-namespaces');
  return {
    ...(string('namespace') !== undefined && { namespace: string('namespace') }),
    ...(string('name') !== undefined && { name: string('name') }),
    ...(string('release') !== undefined && { release: string('release') }),
    ...(flags['no-release'] === true && { release: null }),
    ...(labels('object-labels') !== undefined && { labels: labels('object-labels') }),
    ...(flags['no-alert-namespace'] === true && { alertNamespaceLabel: false }),
    ...(labels('dashboard-labels') !== undefined && { dashboardLabels: labels('dashboard-labels') }),
    ...(string('dashboard-folder') !== undefined && { dashboardFolder: string('dashboard-folder') }),
    ...(labels('target-labels') !== undefined && { targetLabels: labels('target-labels') }),
    ...(targetNamespaces !== undefined && { targetNamespaces: targetNamespaces.split(',').map((ns) => ns.trim()) }),
    ...(string('port') !== undefined && { port: string('port') }),
    ...(string('path') !== undefined && { path: string('path') }),
    ...(string('interval') !== undefined && { interval: string('interval') }),
    ...(string('job') !== undefined && { job: string('job') }),
    ...(string('bearer-token-secret') !== undefined && {
      bearerTokenSecret: parseSecret('bearer-token-secret', string('bearer-token-secret') as string),
    }),
    ...(Object.keys(receivers).length > 0 && { receivers }),
  };
}

/** A generator TypeError as a usage error naming the flag ("--port must be…"), or the --config file. */
function usage(flags: Flags, error: unknown): never {
  const option = error instanceof TypeError ? /^options[.:]([\w.]*)/.exec(error.message)?.[1] : undefined;
  if (option !== undefined) {
    const entry = FLAG_OF_OPTION.find(([path]) => option === path || option.startsWith(`${path}.`));
    throw new UsageError(
      entry === undefined
        ? (error as Error).message
        : (error as Error).message.replace(/^options\.[\w.]*/, entry[1]).replace(/^options:/, `${entry[1]}:`),
    );
  }
  return generate(flags, () => {
    throw error;
  });
}

export async function runKubernetes(flags: Flags, out: NodeJS.WriteStream): Promise<number> {
  const datasource = stringFlag(flags, 'datasource');
  const title = stringFlag(flags, 'title');
  const config = await monitoringConfig(flags, {
    ...alertFlags(flags),
    ...(datasource !== undefined && { datasource }),
    ...(title !== undefined && { titlePrefix: title }),
  });
  const options = kubernetesOptions(flags);
  if (flags.stdout === true && stringFlag(flags, 'out') !== undefined)
    throw new UsageError('--out and --stdout contradict each other: give one');
  // Loaded here: the other commands need neither the generator nor the Grafana SDK it loads.
  const { kubernetesFiles, kubernetesManifests, toKubernetesYaml } = await import('../monitoring/kubernetes/index.js');
  const manifests = await kubernetesManifests(config, options).catch((error: unknown) => usage(flags, error));
  const dir = stringFlag(flags, 'out') ?? 'kubernetes';
  if (flags.stdout === true) {
    out.write(toKubernetesYaml(manifests));
    return 0;
  }
  for (const [file, yaml] of Object.entries(kubernetesFiles(manifests)))
    await writeOut(path.join(dir, file), yaml, out);
  return 0;
}
