import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { generateAlertRules, type AlertingRule } from '../src/monitoring/alerts/index.js';
import { ALERT_NAMES } from '../src/monitoring/config.js';
import { dashboardFiles, generateDashboards } from '../src/monitoring/dashboards/index.js';
import {
  INHIBITIONS,
  kubernetesFiles,
  kubernetesManifests,
  ROUTING,
  toKubernetesYaml,
  type AlertmanagerConfigManifest,
  type AlertmanagerRoute,
  type Matcher,
} from '../src/monitoring/kubernetes/index.js';
import { generatedKubernetesFiles, KUBERNETES_DIR } from '../scripts/generate-kubernetes.js';
import { readExample } from './alerts-routing.js';
import { runCli } from './cli-run.js';
import { requireBinary } from './prometheus.js';

/**
 * deploy/kubernetes/ and `push-telemetry k8s`: every manifest passes the prometheus-operator's and Kubernetes' own
 * schemas, every rule inside passes promtool (the schemas take any string as PromQL), the routing is the example's,
 * and the committed files are what the generator writes.
 */

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** The schema model of each kind we write; validate() throws with the JSON path of every violation. */
const MODELS: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  'monitoring.coreos.com/v1 PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1 PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1alpha1 AlertmanagerConfig': AlertmanagerConfig,
  'v1 ConfigMap': ConfigMap,
};

function validate(manifest: Manifest, where: string): void {
  const Model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
  assert.ok(Model, `${where}: no schema for ${manifest.apiVersion} ${manifest.kind}`);
  try {
    new Model(manifest as never).validate();
  } catch (error) {
    assert.fail(`${where} (${manifest.kind}) fails its schema: ${(error as Error).message}`);
  }
}

/** deploy/kubernetes/ (or another dir) as file name → parsed document. */
async function readManifests(dir: string): Promise<Record<string, Manifest>> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.yaml')).sort();
  return Object.fromEntries(
    await Promise.all(files.map(async (file) => [file, parse(await readFile(path.join(dir, file), 'utf8'))] as const)),
  );
}

/** `promtool check rules` on the groups, written to `dir/name` as a rules file; throws with promtool's output. */
function promtoolCheck(groups: unknown, dir: string, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify({ groups }));
  try {
    return execFileSync(requireBinary('promtool'), ['check', 'rules', file], { encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool check rules failed:\n${stdout}${stderr}`);
  }
}

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-k8s-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('deploy/kubernetes/: the shipped manifests', () => {
  it('are exactly what the generator writes (npm run generate:kubernetes after changing alerts, dashboards or this)', async () => {
    const expected = await generatedKubernetesFiles();
    const committed = (await readdir(KUBERNETES_DIR)).sort();
    assert.deepEqual(committed, Object.keys(expected).sort(), 'the deploy/kubernetes/ files');
    for (const [file, text] of Object.entries(expected))
      assert.equal(
        await readFile(path.join(KUBERNETES_DIR, file), 'utf8'),
        text,
        `deploy/kubernetes/${file} drifted: run npm run generate:kubernetes`,
      );
  });

  it("each passes its schema: the operator's CRDs (PrometheusRule, ServiceMonitor, PodMonitor, AlertmanagerConfig) and core v1 ConfigMap", async () => {
    const manifests = await readManifests(KUBERNETES_DIR);
    const kinds = Object.values(manifests).map((m) => m.kind);
    for (const kind of ['PrometheusRule', 'ServiceMonitor', 'PodMonitor', 'AlertmanagerConfig', 'ConfigMap'])
      assert.ok(kinds.includes(kind), `a ${kind} is shipped`);
    for (const [file, manifest] of Object.entries(manifests)) {
      if (manifest.kind === 'Kustomization') continue;
      validate(manifest, file);
    }
  });

  it('the schemas are live: a wrong duration, an empty group name or a non-string ConfigMap value is rejected', async () => {
    const manifests = await readManifests(KUBERNETES_DIR);
    const rule = structuredClone(manifests['prometheusrule.yaml']) as Manifest;
    const groups = (rule.spec as { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> }).groups;
    (groups[1]?.rules[0] as Record<string, unknown>).for = '5 minutes';
    assert.throws(() => new PrometheusRule(rule as never).validate(), /for must match pattern/);
    (groups[1]?.rules[0] as Record<string, unknown>).for = '5m';
    (groups[0] as { name: string }).name = '';
    assert.throws(() => new PrometheusRule(rule as never).validate(), /name must NOT be shorter than 1/);
    const map = structuredClone(Object.values(manifests).find((m) => m.kind === 'ConfigMap')) as Manifest;
    (map.data as Record<string, unknown>).x = 1;
    assert.throws(() => new ConfigMap(map as never).validate(), /must be string/);
  });

  it('the PrometheusRule holds every generated rule, each alert labelled with its namespace, and promtool accepts them', async () => {
    const { 'prometheusrule.yaml': rule } = await readManifests(KUBERNETES_DIR);
    const groups =
      (rule?.spec as { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> } | undefined)?.groups ??
      [];
    const expected = generateAlertRules({ extraLabels: { namespace: 'monitoring' } });
    assert.deepEqual(JSON.parse(JSON.stringify(groups)), JSON.parse(JSON.stringify(expected)));
    // Against the shipped rules file too, so the two never disagree on which alerts exist.
    const shipped = parse(await readFile(new URL('../alerts/push-alerts.yaml', import.meta.url), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string }> }>;
    };
    const names = (g: typeof shipped.groups) => g.flatMap((group) => group.rules.flatMap((r) => r.alert ?? []));
    assert.deepEqual(names(groups), names(shipped.groups));
    for (const alert of groups.flatMap((group) => group.rules).filter((r) => 'alert' in r))
      assert.equal((alert.labels as Record<string, string>).namespace, 'monitoring', String(alert.alert));
    assert.equal(rule?.metadata.labels?.release, 'kube-prometheus-stack');
    const output = promtoolCheck(groups, tmp, 'shipped-rules.yaml');
    const count = groups.reduce((n, group) => n + group.rules.length, 0);
    assert.match(output, new RegExp(`SUCCESS: ${count} rules found`));
  });

  it('promtool catches what the schema cannot: bad PromQL passes the PrometheusRule schema and fails promtool', () => {
    const groups = [{ name: 'broken', rules: [{ alert: 'Broken', expr: 'sum(rate(push_messages_total[5m]' }] }];
    new PrometheusRule({ metadata: { name: 'x' }, spec: { groups } }).validate();
    assert.throws(() => promtoolCheck(groups, tmp, 'broken.yaml'), /parse error|unclosed/);
  });

  it('one ConfigMap per dashboard, labelled for the sidecar, holding exactly dashboards/<uid>.json', async () => {
    const manifests = Object.values(await readManifests(KUBERNETES_DIR)).filter((m) => m.kind === 'ConfigMap');
    const shipped = (await readdir(new URL('../dashboards/', import.meta.url))).filter((f) => f.endsWith('.json'));
    assert.deepEqual(manifests.flatMap((m) => Object.keys(m.data ?? {})).sort(), shipped.sort());
    for (const map of manifests) {
      assert.equal(map.metadata.labels?.grafana_dashboard, '1');
      assert.equal(map.metadata.annotations?.grafana_folder, 'Push notifications');
      const [[file, json] = []] = Object.entries(map.data ?? {});
      const onDisk = await readFile(new URL(`../dashboards/${file}`, import.meta.url), 'utf8');
      assert.equal(`${json}\n`, onDisk, `${file} is carried byte for byte`);
      // Client-side `kubectl apply` copies the object into a 256 KiB annotation.
      assert.ok(Buffer.byteLength(JSON.stringify(map)) < 256 * 1024, `${map.metadata.name} fits kubectl apply`);
    }
  });

  it('the monitors scrape the selected Services or Pods every 15 s and give them the job the rules select', async () => {
    const manifests = await readManifests(KUBERNETES_DIR);
    const service = manifests['servicemonitor.yaml']?.spec as Record<string, never>;
    const pod = manifests['podmonitor.yaml']?.spec as Record<string, never>;
    const expected = {
      port: 'metrics',
      path: '/metrics',
      interval: '15s',
      relabelings: [{ action: 'replace', targetLabel: 'job', replacement: 'push-sender' }],
    };
    assert.deepEqual(service.endpoints, [expected]);
    assert.deepEqual(pod.podMetricsEndpoints, [expected]);
    for (const spec of [service, pod]) {
      assert.deepEqual(spec.selector, { matchLabels: { 'app.kubernetes.io/name': 'push-sender' } });
      assert.deepEqual(spec.namespaceSelector, { any: true });
    }
    for (const file of ['servicemonitor.yaml', 'podmonitor.yaml'])
      assert.equal(manifests[file]?.metadata.labels?.release, 'kube-prometheus-stack', file);
  });

  it('kustomization.yaml lists every manifest but the PodMonitor (the ServiceMonitor scrapes the same targets)', async () => {
    const manifests = await readManifests(KUBERNETES_DIR);
    const kustomization = manifests['kustomization.yaml'] as unknown as { kind: string; resources: string[] };
    assert.equal(kustomization.kind, 'Kustomization');
    assert.deepEqual(
      [...kustomization.resources].sort(),
      Object.keys(manifests)
        .filter((file) => file !== 'kustomization.yaml' && file !== 'podmonitor.yaml')
        .sort(),
    );
  });
});

/** Alertmanager's `name="value"` text form of a structured matcher. */
const text = (m: Matcher) => `${m.name}${m.matchType}${JSON.stringify(m.value)}`;

describe('the AlertmanagerConfig', () => {
  it('routes and inhibits exactly as alerts/alertmanager.example.yml (update src/monitoring/kubernetes/routing.ts with it)', async () => {
    // The example has a page webhook; the shipped default has none (no placeholder URL to fail every page).
    const webhookUrl = 'https://oncall-bridge.example.com/alertmanager';
    const { spec } = (await kubernetesManifests({}, { receivers: { webhookUrl } })).alertmanagerConfig;
    const { 'alertmanagerconfig.yaml': shipped } = await readManifests(KUBERNETES_DIR);
    const shippedSpec = (shipped as unknown as AlertmanagerConfigManifest).spec;
    assert.deepEqual(
      shippedSpec.receivers.map((r) => r.name),
      spec.receivers.map((r) => r.name).filter((name) => name !== 'oncall-webhook'),
    );
    assert.ok(!JSON.stringify(shippedSpec).includes('example.com'), 'no placeholder URL ships');
    const example = readExample() as ReturnType<typeof readExample> & {
      route: { routes: Array<{ matchers: string[]; receiver: string; repeat_interval?: string; continue?: boolean }> };
    };
    assert.equal(spec.route.receiver, example.route.receiver);
    assert.deepEqual(spec.route.groupBy, example.route.group_by);
    assert.equal(spec.route.groupWait, example.route.group_wait);
    assert.equal(spec.route.groupInterval, example.route.group_interval);
    assert.equal(spec.route.repeatInterval, example.route.repeat_interval);
    assert.deepEqual(
      spec.route.routes?.map((r) => ({
        matchers: r.matchers?.map(text),
        receiver: r.receiver,
        ...(r.repeatInterval !== undefined && { repeat_interval: r.repeatInterval }),
        ...(r.continue !== undefined && { continue: r.continue }),
      })),
      example.route.routes,
    );
    assert.deepEqual(spec.receivers.map((r) => r.name).sort(), example.receivers.map((r) => r.name).sort());
    assert.deepEqual(
      spec.inhibitRules.map((rule) => ({
        source_matchers: rule.sourceMatch.map(text),
        target_matchers: rule.targetMatch.map(text),
        equal: rule.equal,
      })),
      example.inhibit_rules,
    );
  });

  it('names only alerts that exist in its inhibitions', () => {
    for (const rule of INHIBITIONS) {
      for (const matcher of [...rule.sourceMatchers, ...rule.targetMatchers].filter((m) => m.startsWith('alertname'))) {
        const [, value = ''] = /"(.*)"/.exec(matcher) ?? [];
        for (const name of value.split('|').filter((n) => /^\w+$/.test(n)))
          assert.ok((ALERT_NAMES as readonly string[]).includes(name), `${matcher}: ${name} is an alert`);
      }
    }
    assert.ok(ROUTING.routes.length > 0);
  });

  it('reads credentials from a Secret, never from the manifest', async () => {
    const manifest = (await kubernetesManifests()).alertmanagerConfig;
    const receivers = Object.fromEntries(manifest.spec.receivers.map((r) => [r.name, r]));
    assert.deepEqual(receivers['oncall-pagerduty']?.pagerdutyConfigs?.[0]?.routingKey, {
      name: 'push-telemetry-alertmanager',
      key: 'pagerduty-routing-key',
    });
    assert.deepEqual(receivers['push-tickets']?.slackConfigs?.[0]?.apiURL, {
      name: 'push-telemetry-alertmanager',
      key: 'slack-webhook-url',
    });
  });

  it("delivers the PrometheusRule's alerts once the operator scopes it to its namespace (amtool, on the config the operator would build)", async () => {
    const { alertmanagerConfig, prometheusRule } = await kubernetesManifests({}, { namespace: 'push' });
    const file = path.join(tmp, 'operator-alertmanager.yml');
    await writeFile(file, stringify(asOperatorWould(alertmanagerConfig)));
    const amtool = requireBinary('amtool');
    assert.match(execFileSync(amtool, ['check-config', file], { encoding: 'utf8' }), /SUCCESS/);
    const route = (labels: Record<string, string>) =>
      execFileSync(
        amtool,
        ['config', 'routes', 'test', `--config.file=${file}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)],
        {
          encoding: 'utf8',
        },
      )
        .trim()
        .split(',');
    const alerts = prometheusRule.spec.groups
      .flatMap((group) => group.rules)
      .filter((r): r is AlertingRule => 'alert' in r);
    const expected = {
      critical: ['push/push-telemetry/oncall-pagerduty'],
      warning: ['push/push-telemetry/push-tickets'],
      info: ['push/push-telemetry/blackhole'],
    };
    for (const alert of alerts) {
      const labels: Record<string, string> = { alertname: alert.alert, provider: 'fcm', ...alert.labels };
      assert.deepEqual(route(labels), expected[labels.severity as keyof typeof expected], alert.alert);
    }
    // Without the namespace label the operator's matcher drops every alert to the cluster's default receiver.
    const { namespace: _ns, ...unlabelled } = (alerts[0] as AlertingRule).labels;
    assert.deepEqual(route({ alertname: 'PushProviderOutage', ...unlabelled }), ['cluster-default']);
  });
});

/**
 * The Alertmanager configuration the operator generates from an AlertmanagerConfig with its default OnNamespace
 * matcher strategy: receivers prefixed `<namespace>/<name>/`, the route nested under the cluster's root with a
 * `namespace="<ns>"` matcher, and that matcher on both sides of every inhibit rule. Placeholder credentials.
 */
function asOperatorWould(config: AlertmanagerConfigManifest): Record<string, unknown> {
  const { namespace, name } = config.metadata;
  const prefix = (receiver: string) => `${namespace}/${name}/${receiver}`;
  const matchers = (list: readonly Matcher[] = []) => list.map(text);
  const route = (r: AlertmanagerRoute): Record<string, unknown> => ({
    receiver: prefix(r.receiver),
    ...(r.matchers && { matchers: matchers(r.matchers) }),
    ...(r.groupBy && { group_by: r.groupBy }),
    ...(r.groupWait && { group_wait: r.groupWait }),
    ...(r.groupInterval && { group_interval: r.groupInterval }),
    ...(r.repeatInterval && { repeat_interval: r.repeatInterval }),
    ...(r.continue !== undefined && { continue: r.continue }),
    ...(r.routes && { routes: r.routes.map(route) }),
  });
  const scoped = route(config.spec.route);
  const own = `namespace=${JSON.stringify(namespace)}`;
  return {
    route: {
      receiver: 'cluster-default',
      routes: [{ ...scoped, matchers: [own, ...((scoped.matchers as string[]) ?? [])], continue: true }],
    },
    receivers: [
      { name: 'cluster-default' },
      ...config.spec.receivers.map((r) => ({
        name: prefix(r.name),
        ...(r.pagerdutyConfigs && { pagerduty_configs: [{ routing_key: 'placeholder' }] }),
        ...(r.webhookConfigs && { webhook_configs: r.webhookConfigs.map((w) => ({ url: w.url })) }),
        ...(r.slackConfigs && {
          slack_configs: r.slackConfigs.map((s) => ({
            api_url: 'https://hooks.slack.com/services/X',
            channel: s.channel,
          })),
        }),
      })),
    ],
    inhibit_rules: config.spec.inhibitRules.map((rule) => ({
      source_matchers: [...matchers(rule.sourceMatch), own],
      target_matchers: [...matchers(rule.targetMatch), own],
      equal: rule.equal,
    })),
  };
}

describe('kubernetesManifests(config, options)', () => {
  it('carries the shared config and every option into the manifests, which still pass their schemas', async () => {
    const manifests = await kubernetesManifests(
      { selector: 'job="mobile-push"', sloTarget: 0.999, extraLabels: { team: 'mobile' }, titlePrefix: 'Mobile' },
      {
        namespace: 'observability',
        name: 'mobile-push',
        release: 'prom',
        labels: { tier: 'one' },
        dashboardFolder: 'Mobile',
        targetLabels: { app: 'sender' },
        targetNamespaces: ['apps', 'jobs'],
        port: 'http-metrics',
        path: '/internal/metrics',
        interval: '30s',
        bearerTokenSecret: { name: 'metrics-auth', key: 'token' },
        receivers: { pagerduty: null, webhookUrl: 'https://pager.example.org/hook', slackChannel: '#mobile' },
      },
    );
    const all = [
      manifests.prometheusRule,
      manifests.serviceMonitor,
      manifests.podMonitor,
      manifests.alertmanagerConfig,
      ...manifests.dashboards,
    ];
    for (const manifest of all) {
      validate(JSON.parse(JSON.stringify(manifest)) as Manifest, manifest.kind);
      assert.equal(manifest.metadata.namespace, 'observability');
      assert.equal(manifest.metadata.labels.release, 'prom');
      assert.equal(manifest.metadata.labels.tier, 'one');
    }
    assert.equal(manifests.serviceMonitor.metadata.name, 'mobile-push');
    assert.deepEqual(manifests.serviceMonitor.spec.endpoints, [
      {
        port: 'http-metrics',
        path: '/internal/metrics',
        interval: '30s',
        authorization: { type: 'Bearer', credentials: { name: 'metrics-auth', key: 'token' } },
        relabelings: [{ action: 'replace', targetLabel: 'job', replacement: 'mobile-push' }],
      },
    ]);
    assert.deepEqual(manifests.podMonitor.spec.namespaceSelector, { matchNames: ['apps', 'jobs'] });
    assert.deepEqual(manifests.serviceMonitor.spec.selector, { matchLabels: { app: 'sender' } });
    const alerts = manifests.prometheusRule.spec.groups.flatMap((g) => g.rules).filter((r) => 'alert' in r);
    for (const alert of alerts as AlertingRule[]) {
      assert.equal(alert.labels.namespace, 'observability');
      assert.equal(alert.labels.team, 'mobile');
    }
    assert.ok(
      manifests.prometheusRule.spec.groups.flatMap((g) => g.rules).some((r) => r.expr.includes('job="mobile-push"')),
      'the selector reaches the rules',
    );
    const json = JSON.stringify(manifests.dashboards);
    assert.match(json, /Mobile \/ Overview/);
    assert.ok(manifests.dashboards.every((map) => map.metadata.annotations?.grafana_folder === 'Mobile'));
    // No PagerDuty: the page goes to the webhook alone, which then no longer needs `continue`.
    const receivers = manifests.alertmanagerConfig.spec.receivers.map((r) => r.name);
    assert.ok(!receivers.includes('oncall-pagerduty'));
    const critical = manifests.alertmanagerConfig.spec.route.routes?.filter(
      (r) => r.matchers?.[0]?.value === 'critical',
    );
    assert.deepEqual(
      critical?.map((r) => [r.receiver, r.continue]),
      [['oncall-webhook', undefined]],
    );
  });

  it('leaves out what is switched off: the release label, the alert namespace label, the folder, the job relabeling', async () => {
    const manifests = await kubernetesManifests(
      { selector: 'app_kubernetes_io_name="push"' },
      { release: null, alertNamespaceLabel: false, dashboardFolder: null },
    );
    assert.equal(manifests.prometheusRule.metadata.labels.release, undefined);
    for (const rule of manifests.prometheusRule.spec.groups.flatMap((g) => g.rules))
      assert.ok(!('labels' in rule) || !('namespace' in rule.labels));
    assert.ok(manifests.dashboards.every((map) => map.metadata.annotations === undefined));
    // A selector without job="…": the operator's job stays, and the selector must match what the targets carry.
    assert.equal(manifests.serviceMonitor.spec.endpoints[0]?.relabelings, undefined);
  });

  it('rejects bad options with a TypeError naming the option, before anything is built', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ namespace: 'Monitoring' }, /options.namespace must be a Kubernetes namespace name/],
      [{ name: 'push_telemetry' }, /options.name must be a Kubernetes object name/],
      [{ release: 'a b' }, /options.release must be a label value/],
      [{ labels: { 'bad key!': 'x' } }, /options.labels: "bad key!" is not a Kubernetes label name/],
      [{ targetLabels: {} }, /options.targetLabels must name at least one label/],
      [{ port: 'Metrics' }, /options.port must be the name of a Service or container port/],
      [{ path: 'metrics' }, /options.path must be an absolute URL path/],
      [{ interval: '15 seconds' }, /options.interval must be a Prometheus duration/],
      [{ targetNamespaces: 'apps' }, /options.targetNamespaces must be an array/],
      [{ receivers: { pagerduty: null, webhookUrl: null } }, /pages need somewhere to go/],
      [{ receivers: { pagerduty: null } }, /pages need somewhere to go; keep pagerduty or give webhookUrl/],
      [{ receivers: { slack: { name: 'x' } } }, /options.receivers.slack.key must be a Secret key/],
      [{ receivers: { webhookUrl: 'ftp://x' } }, /options.receivers.webhookUrl must be an http\(s\) URL/],
      [{ bogus: 1 }, /unknown option "bogus"/],
    ];
    for (const [options, message] of cases) await assert.rejects(kubernetesManifests({}, options as never), message);
    await assert.rejects(kubernetesManifests({ sloTarget: 2 }), /config.sloTarget/);
  });

  it('toKubernetesYaml is every file but the PodMonitor as one stream, for kubectl apply -f -', async () => {
    const manifests = await kubernetesManifests();
    const stream = parseAllDocuments(toKubernetesYaml(manifests)).map((doc) => doc.toJSON() as Manifest);
    const files = kubernetesFiles(manifests);
    const expected = Object.entries(files)
      .filter(([file]) => file !== 'kustomization.yaml' && file !== 'podmonitor.yaml')
      .map(([, yaml]) => parse(yaml) as Manifest);
    assert.deepEqual(stream, expected);
  });

  it('is a subpath export, push-telemetry/kubernetes, and not part of the root entry', async () => {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, Record<string, string>>;
      files: string[];
      scripts: Record<string, string>;
    };
    assert.equal(manifest.exports['./kubernetes']?.import, './dist/monitoring/kubernetes/index.js');
    assert.ok(manifest.files.includes('deploy') && manifest.files.includes('mixin'), 'deploy/ and mixin/ are packed');
    assert.match(manifest.scripts['generate:kubernetes'] ?? '', /scripts\/generate-kubernetes\.ts/);
    const root = (await import('../src/index.js')) as Record<string, unknown>;
    assert.equal(root.kubernetesManifests, undefined);
  });

  it('builds the dashboards from the same generator: a new dashboard gets its ConfigMap with no change here', async () => {
    const manifests = await kubernetesManifests();
    assert.deepEqual(
      manifests.dashboards.map((map) => Object.keys(map.data)[0]),
      Object.keys(dashboardFiles(generateDashboards())),
    );
  });
});

describe('push-telemetry k8s', () => {
  it('--help lists every flag, the ones it shares with alerts and dashboards too; push-telemetry --help lists k8s', async () => {
    const run = await runCli(['k8s', '--help']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: push-telemetry k8s /);
    for (const flag of [
      '--selector',
      '--slo',
      '--labels',
      '--datasource',
      '--namespace',
      '--release',
      '--port',
      '--stdout',
    ])
      assert.match(run.stdout, new RegExp(`^ {2}${flag} `, 'm'), flag);
    assert.match((await runCli(['--help'])).stdout, /^ {2}k8s +kube-prometheus-stack manifests/m);
  });

  it('writes the same files as deploy/kubernetes/ with the defaults', async () => {
    const dir = path.join(tmp, 'cli-defaults');
    const run = await runCli(['k8s', '--out', dir]);
    assert.equal(run.code, 0, run.stderr);
    const written = (await readdir(dir)).sort();
    assert.deepEqual(written, (await readdir(KUBERNETES_DIR)).sort());
    for (const file of written)
      assert.equal(
        await readFile(path.join(dir, file), 'utf8'),
        await readFile(path.join(KUBERNETES_DIR, file), 'utf8'),
        file,
      );
    assert.match(run.stdout, /wrote .*prometheusrule\.yaml/);
  });

  it('takes the alerts, dashboards and Kubernetes flags, and its output passes the schemas and promtool', async () => {
    const dir = path.join(tmp, 'cli-custom');
    const run = await runCli([
      'k8s',
      '--out',
      dir,
      '--namespace',
      'obs',
      '--release',
      'prometheus',
      '--slo',
      '99.9',
      '--labels',
      'team=mobile',
      '--title',
      'Mobile',
      '--target-labels',
      'app.kubernetes.io/name=sender,tier=1',
      '--target-namespaces',
      'apps,jobs',
      '--port',
      'http',
      '--no-webhook',
      '--slack-secret',
      'alerting/slack',
      '--dashboard-folder',
      'Mobile',
      '--bearer-token-secret',
      'metrics/token',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const manifests = await readManifests(dir);
    for (const [file, manifest] of Object.entries(manifests)) {
      if (manifest.kind === 'Kustomization') continue;
      validate(manifest, file);
      assert.equal(manifest.metadata.namespace, 'obs', file);
      assert.equal(manifest.metadata.labels?.release, 'prometheus', file);
    }
    const rule = manifests['prometheusrule.yaml'];
    const groups = (rule?.spec as { groups: unknown[] } | undefined)?.groups ?? [];
    assert.match(promtoolCheck(groups, tmp, 'cli-rules.yaml'), /SUCCESS/);
    assert.match(JSON.stringify(groups), /"team":"mobile"/);
    assert.match(JSON.stringify(groups), /"namespace":"obs"/);
    const monitor = manifests['servicemonitor.yaml']?.spec as Record<string, unknown>;
    assert.deepEqual(monitor.selector, { matchLabels: { 'app.kubernetes.io/name': 'sender', tier: '1' } });
    assert.deepEqual(monitor.namespaceSelector, { matchNames: ['apps', 'jobs'] });
    assert.deepEqual((monitor.endpoints as Array<Record<string, unknown>>)[0]?.authorization, {
      type: 'Bearer',
      credentials: { name: 'metrics', key: 'token' },
    });
    const amc = manifests['alertmanagerconfig.yaml'] as unknown as AlertmanagerConfigManifest;
    assert.ok(!amc.spec.receivers.some((r) => r.name === 'oncall-webhook'));
    assert.deepEqual(amc.spec.receivers.find((r) => r.name === 'push-tickets')?.slackConfigs?.[0]?.apiURL, {
      name: 'alerting',
      key: 'slack',
    });
  });

  it('--stdout writes one stream for kubectl apply -f -', async () => {
    const run = await runCli(['k8s', '--stdout', '--namespace', 'obs']);
    assert.equal(run.code, 0, run.stderr);
    const documents = parseAllDocuments(run.stdout).map((doc) => doc.toJSON() as Manifest);
    assert.deepEqual(
      documents.map((d) => d.kind),
      ['PrometheusRule', 'ServiceMonitor', 'AlertmanagerConfig', ...documents.slice(3).map(() => 'ConfigMap')],
    );
    assert.ok(documents.length > 3);
    for (const document of documents) validate(document, document.kind);
  });

  it('exits 2 naming the flag for every kind of mistake', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--namespace', 'Obs'], /--namespace must be a Kubernetes namespace name/],
      [['--port', 'Metrics'], /--port must be the name of a Service or container port/],
      [['--target-labels', 'bad@label=x'], /--target-labels: "bad@label" is not a Kubernetes label name/],
      [['--target-labels', 'novalue'], /--target-labels must be name=value pairs/],
      [['--pagerduty-secret', 'nokey'], /--pagerduty-secret must be SECRET\/KEY/],
      [['--no-pagerduty', '--no-webhook'], /--no-pagerduty\/--no-webhook: pages need somewhere to go/],
      [['--release', 'x', '--no-release'], /--release and --no-release contradict/],
      [['--interval', '15'], /--interval must be a Prometheus duration/],
      [['--slo', '200'], /--slo must be a target/],
      [['--out', 'x', '--stdout'], /--out and --stdout contradict/],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const run = await runCli(['k8s', '--stdout', ...args.filter((a) => a !== '--stdout')]);
        assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
        assert.match(run.stderr, message, args.join(' '));
        assert.equal(run.stdout, '');
      }),
    );
  });
});
