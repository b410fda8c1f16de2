import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import webpush from 'web-push';
import { generateDashboards } from '../src/monitoring/dashboards/index.js';
import { PushTelemetry, startMetricsServer, type MetricsServer } from '../src/index.js';
import { resolveMonitoringConfig } from '../src/monitoring/config.js';
import { recordingRules } from '../src/monitoring/promql.js';
import { instrumentExpo } from '../src/providers/expo.js';
import { instrumentWebPush } from '../src/providers/webpush.js';
import { startSimulator, webPushSubscription, type Simulator } from '../src/simulator/index.js';
import { createServer, type Server } from 'node:http';
import { createReceiptsHandler } from '../src/delivery/receipts-handler.js';
import {
  apnsDeliveryMetrics,
  fcmDeliveryData,
  startDeliveryReportPoller,
  type DeliveryReportPoller,
} from '../src/delivery/delivery-reports.js';
import { dateIn } from '../src/delivery/delivery-report.js';
import { apnsDeliveryMetricsCsv } from '../src/simulator/index.js';
import { everyTarget, substitute, type Located } from './dashboard-model.js';
import { startPrometheus, type Prometheus } from './prometheus.js';

/**
 * Every panel's PromQL against a real Prometheus (Debian package) that scrapes a sender instrumented with the real
 * web-push and expo-server-sdk clients, driven through the fake providers into accepted sends, six error types,
 * partial batches, latency and Expo receipts, and then one web-push call the fake never answers (in flight to the
 * end). Prometheus also loads the recording rules (so the burn-rate panels have data) and two test alerts (one
 * firing, one pending) so that the ALERTS panels do too.
 */

/** Panels that may be empty (or all zero) for a given provider, by design; everything else must show a value. */
const CONDITIONAL: ReadonlyArray<{ readonly panel: string; readonly when: string; readonly reason: string }> = [
  {
    panel: 'Receipts',
    when: 'webpush',
    reason: 'only providers with delivery receipts (Expo) have push_receipts_total',
  },
  {
    panel: 'Calls in flight vs completed',
    when: 'expo',
    reason: 'every Expo call has settled: the one call held in flight is a web-push one',
  },
];

// $__rate_interval is max(4 × scrape interval, step + scrape); 1m covers the whole run at a 1 s scrape.
const WINDOW = '1m';
const APP = 'com.example.app';
const WAVES = 5;

const TEST_ALERTS = `groups:
  - name: dashboard-test-alerts
    rules:
      - alert: PushDashboardTestFiring
        expr: push:provider_errors:ratio_rate5m > 0
        labels: { severity: warning }
      - alert: PushDashboardTestPending
        expr: push:provider_errors:ratio_rate5m > 0
        for: 1h
        labels: { severity: info }
`;

function recordingRulesYaml(): string {
  // JSON strings are YAML double-quoted scalars, so multi-line expressions need no YAML library.
  const rules = recordingRules(resolveMonitoringConfig()).map(
    (rule) => `      - record: ${rule.record}\n        expr: ${JSON.stringify(rule.expr)}`,
  );
  return `groups:\n  - name: push-recording\n    interval: 1s\n    rules:\n${rules.join('\n')}\n`;
}

let simulator: Simulator;
let telemetry: PushTelemetry;
let server: MetricsServer;
let prometheus: Prometheus;
let receipts: Server;
let reports: DeliveryReportPoller;
const agent = new https.Agent({ rejectUnauthorized: false });

/** One round of traffic through both providers: every outcome the panels show. */
async function wave(
  i: number,
  web: typeof webpush,
  expo: InstanceType<typeof import('expo-server-sdk')['Expo']>,
  simulatorUrl: string,
): Promise<void> {
  const options = { agent, vapidDetails: { subject: 'mailto:ops@example.com', ...vapid }, TTL: 60 };
  const ids = ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5', 'ok-6', 'down', 'auth', 'gone', 'bad', 'limit', 'teapot', 'big'];
  await Promise.allSettled(
    // ok-1 is one subscription every wave: five pushes to it put one recipient over the send cap of 1.
    ids.map((id) =>
      web.sendNotification(webPushSubscription(simulatorUrl, id === 'ok-1' ? id : `${id}-${i}`), 'hello', options),
    ),
  );
  const token = (name: string) => `ExponentPushToken[${name}-${i}]`;
  const tickets = await expo.sendPushNotificationsAsync([
    { to: ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ok-5', 'gone', 'limit', 'err', 'late'].map(token), body: 'hello' },
  ]);
  await expo.getPushNotificationReceiptsAsync(tickets.flatMap((ticket) => (ticket.status === 'ok' ? [ticket.id] : [])));
}

const vapid = (() => {
  const keys = webpush.generateVAPIDKeys();
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
})();

/** Device receipts for Expo's app, as its devices would post them; one malformed, which the endpoint refuses. */
async function postReceipts(url: string): Promise<void> {
  const sentAt = Date.now() - 3000;
  const receipt = (event: string) => ({ provider: 'expo', app: APP, sentAt, event });
  const body = [
    ...Array.from({ length: 4 }, () => receipt('delivered')),
    ...Array.from({ length: 3 }, () => receipt('displayed')),
    receipt('opened'),
    { provider: 'expo', app: APP, event: 'delivered' },
  ];
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
}

/** The providers' daily reports, from the simulator's fake FCM Data API and an APNs export as text. */
function reportSources(fcmData: NonNullable<Simulator['deliveryReports']>['fcmData']) {
  const day = (zone: string) =>
    new Date(Date.parse(`${dateIn(zone, Date.now())}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const [year, month, date] = day('America/Los_Angeles').split('-').map(Number) as [number, number, number];
  fcmData.setDeliveryData('demo-project', '1:1:android:1', [
    {
      date: { year, month, day: date },
      data: {
        countMessagesAccepted: '900',
        messageOutcomePercents: { delivered: 85, pending: 10, droppedDeviceInactive: 5 },
        deliveryPerformancePercents: { deliveredNoDelay: 70, delayedDeviceDoze: 15 },
      },
    },
  ]);
  const csv = apnsDeliveryMetricsCsv([
    { status: 'Received by APNs', date: day('UTC'), count: 100 },
    { status: 'Delivered to Device', date: day('UTC'), count: 90 },
    { status: 'Discarded – Token Unregistered', date: day('UTC'), count: 10 },
  ]);
  return [
    fcmDeliveryData({
      project: 'demo-project',
      appId: '1:1:android:1',
      app: APP,
      getAccessToken: () => fcmData.accessToken,
      baseUrl: fcmData.url,
    }),
    apnsDeliveryMetrics({ app: APP, text: csv }),
  ];
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Prometheus never had ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

before(async () => {
  simulator = await startSimulator({
    providers: ['webpush', 'expo'],
    deliveryReports: true,
    faults: {
      webpush: {
        latencyMs: 20,
        rules: [
          { match: 'down-*', fault: 'provider_unavailable' },
          { match: 'auth-*', fault: 'auth' },
          { match: 'gone-*', fault: 'unregistered' },
          { match: 'bad-*', fault: 'invalid_token' },
          { match: 'limit-*', fault: 'rate_limited' },
          { match: 'teapot-*', fault: { status: 418, reason: 'Teapot' } },
          { match: 'big-*', fault: 'payload_too_large' },
          // Taken and never answered: a hung call, in flight until the fake closes.
          { match: 'hold-*', fault: 'hang' },
        ],
      },
      expo: {
        latencyMs: 5,
        rules: [
          { match: 'ExponentPushToken[gone*', fault: 'unregistered' },
          { match: 'ExponentPushToken[limit*', fault: 'rate_limited' },
          { match: 'ExponentPushToken[err*', fault: { status: 200, reason: 'ticket:ProviderError' } },
          { match: 'ExponentPushToken[late*', fault: { status: 200, reason: 'DeviceNotRegistered' } },
        ],
      },
    },
  });
  // expo-server-sdk reads EXPO_BASE_URL once, when first imported: this file is its own process under node --test.
  process.env.EXPO_BASE_URL = simulator.fake('expo').url;
  const { Expo } = await import('expo-server-sdk');
  // A guard this sensitive trips on the waves' two stale web-push subscriptions out of thirteen, so the held-verdicts
  // panel has something to show; Expo has no onInvalidToken, so its held series stays at 0.
  // Groups and send frequency on: web-push's messages are `marketing`, Expo's carry no group (its sender has none).
  telemetry = new PushTelemetry({
    invalidTokenGuard: { windowMinVerdicts: 2, windowShare: 0.1 },
    groups: ['transactional', 'marketing'],
    sendFrequency: { cap: 1 },
  });
  // web-push without an app label, Expo with one: the `.*` of "All" must match both.
  const web = instrumentWebPush(webpush, telemetry, { onInvalidToken: () => {}, group: 'marketing' });
  const expo = instrumentExpo(new Expo({ retryMinTimeout: 1 }), telemetry, { app: APP });
  server = await startMetricsServer({ telemetry, port: 0 });
  receipts = createServer(createReceiptsHandler(telemetry, { apps: [APP] }));
  await new Promise<void>((resolve) => receipts.listen(0, '127.0.0.1', resolve));
  const receiptsUrl = `http://127.0.0.1:${(receipts.address() as { port: number }).port}/v1/receipts`;
  const reportFakes = simulator.deliveryReports;
  assert.ok(reportFakes, 'the simulator started the delivery report fakes');
  reports = startDeliveryReportPoller({ telemetry, sources: reportSources(reportFakes.fcmData), runOnStart: false });
  const imported = await reports.runNow();
  assert.deepEqual(imported.errors, []);
  prometheus = await startPrometheus({
    targets: [new URL(server.url).host],
    rules: [recordingRulesYaml(), TEST_ALERTS],
  });
  const scraped = async (expr: string, count = 1) => (await prometheus.query(expr)).length >= count;
  // Prometheus's first scrape comes some seconds after it is ready (target discovery): traffic before it would be
  // one flat sample, with no increase for rate() to see.
  await until('a first scrape', () => scraped('up{job="push-sender"} == 1'));
  // Waves a second apart, so that every rate has increases between scrapes to work with.
  for (let i = 0; i < WAVES; i++) {
    await wave(i, web, expo, simulator.fake('webpush').url);
    await postReceipts(receiptsUrl);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await until(
    'the last wave',
    async () => (await prometheus.query('sum(push_receipts_total)'))[0]?.value[1] === String(WAVES * 6),
  );
  // What a hang looks like on the in-flight panels; it rejects when the fake closes at the end.
  const held = web.sendNotification(webPushSubscription(simulator.fake('webpush').url, 'hold-0'), 'hello', {
    agent,
    vapidDetails: { subject: 'mailto:ops@example.com', ...vapid },
    TTL: 60,
  });
  held.catch(() => undefined);
  await until('a call held in flight', () => scraped('push_requests_in_flight{provider="webpush"} == 1'));
  await until('the burn-rate recording rules', () => scraped('push:slo_errors:ratio_rate3d', 2));
  await until('a firing and a pending test alert', () =>
    scraped('count by (alertstate) (ALERTS{alertname=~"PushDashboardTest.+"})', 2),
  );
});

after(async () => {
  await reports?.stop();
  await new Promise((resolve) => (receipts ? receipts.close(resolve) : resolve(undefined)));
  await prometheus?.close();
  await server?.close();
  await simulator?.close();
  agent.destroy();
});

async function evaluate(located: Located, values: Record<string, string>): Promise<number[]> {
  const result = await prometheus.query(substitute(located.target.expr, values)).catch((error: Error) => {
    throw new Error(`${located.dashboard}: ${located.panel} ${located.target.refId}: ${error.message}`);
  });
  return result.map((sample) => Number(sample.value[1])).filter(Number.isFinite);
}

const dashboards = generateDashboards();
const ALL = { __rate_interval: WINDOW, job: 'push-sender', provider: '.*', app: '.*', group: '.*' };

describe('every dashboard query against a real Prometheus', () => {
  it('parses and returns finite, non-zero data for every target of every panel, with all providers and apps selected', async () => {
    const targets = everyTarget(Object.values(dashboards));
    assert.ok(targets.length >= 35);
    const empty: string[] = [];
    const zero: string[] = [];
    for (const located of targets) {
      const values = await evaluate(located, ALL);
      const name = `${located.dashboard}: ${located.panel} ${located.target.refId}`;
      if (values.length === 0) empty.push(name);
      // The senders expose every error_type at 0 from the start, so "has a series" alone would prove little.
      else if (values.every((value) => value === 0)) zero.push(name);
    }
    assert.deepEqual(empty, []);
    assert.deepEqual(zero, []);
  });

  for (const provider of ['webpush', 'expo']) {
    it(`Provider health, as its row repeated for ${provider} shows it: data in every panel but the documented conditional ones`, async () => {
      const empty: string[] = [];
      for (const located of everyTarget([dashboards.providerHealth])) {
        if ((await evaluate(located, { ...ALL, provider })).every((value) => value === 0)) empty.push(located.panel);
      }
      assert.deepEqual(
        empty,
        CONDITIONAL.filter((entry) => entry.when === provider).map((entry) => entry.panel),
      );
    });
  }

  it('shows the held web-push call in flight, and completions per second beside it, per provider', async () => {
    const located = everyTarget([dashboards.providerHealth]).filter((t) => t.panel === 'Calls in flight vs completed');
    const byProvider = async (refId: string) =>
      Object.fromEntries(
        (await prometheus.query(substitute(located.find((t) => t.target.refId === refId)?.target.expr ?? '', ALL))).map(
          (s) => [s.metric.provider, Number(s.value[1])],
        ),
      );
    assert.deepEqual(await byProvider('A'), { webpush: 1, expo: 0 });
    const completed = await byProvider('B');
    assert.ok((completed.webpush as number) > 0 && (completed.expo as number) > 0, JSON.stringify(completed));
  });

  it('shows refused receipts (they carry only a reason) whatever provider and app are picked', async () => {
    const refused = everyTarget([dashboards.delivery]).filter((t) => t.panel.startsWith('Receipts refused'));
    assert.equal(refused.length, 2);
    for (const located of refused)
      for (const picked of [ALL, { ...ALL, provider: 'expo', app: APP }, { ...ALL, provider: 'webpush' }]) {
        const values = await evaluate(located, picked);
        assert.ok(values.length > 0 && values.some((value) => value > 0), `${located.panel} ${JSON.stringify(picked)}`);
      }
  });

  it("filters by app: Expo's app alone, and a made-up app gives nothing", async () => {
    const overview = everyTarget([dashboards.overview]).find((t) => t.panel === 'Messages by outcome') as Located;
    assert.ok((await evaluate(overview, { ...ALL, app: APP })).length > 0);
    assert.deepEqual(await evaluate(overview, { ...ALL, app: 'com.example.nothing' }), []);
  });

  it("Delivery: the funnel per provider (receipts only for Expo's app) and the providers' reports as imported", async () => {
    const byLegend = async (panel: string) => {
      const found: Record<string, number> = {};
      for (const located of everyTarget([dashboards.delivery]).filter((t) => t.panel === panel)) {
        for (const sample of await prometheus.query(substitute(located.target.expr, ALL))) {
          const legend = (located.target.legendFormat ?? '').replace(
            /\{\{(\w+)\}\}/g,
            (_, name: string) => sample.metric[name] ?? '',
          );
          found[legend.trim()] = Number(sample.value[1]);
        }
      }
      return found;
    };
    const funnel = await byLegend('Delivery funnel');
    // The endpoint allows web push too, so its receipt series sit at 0; no device of it posted, so it draws no line.
    assert.deepEqual(Object.keys(funnel).sort(), [
      'expo accepted',
      'expo delivered',
      'expo displayed',
      'expo opened',
      'expo sent',
      'webpush accepted',
      'webpush sent',
    ]);
    assert.ok(
      Object.values(funnel).every((value) => value > 0),
      JSON.stringify(funnel),
    );
    const outcomes = await byLegend('Provider-reported outcomes');
    assert.equal(outcomes[`fcm ${APP} delivered`], 0.85);
    assert.equal(outcomes[`apns ${APP} delivered`], 0.9);
    assert.equal(outcomes[`apns ${APP} discarded_token_unregistered`], 0.1);
    assert.equal((await byLegend('Provider-reported delays'))[`${APP} delayed_device_doze`], 0.15);
  });

  it('the variable queries list the job, both providers and the app', async () => {
    const found: Record<string, string[]> = {};
    for (const variable of dashboards.overview.templating.list ?? []) {
      const match = /^label_values\((.+), (\w+)\)$/.exec(String(variable.query));
      if (variable.type !== 'query' || match === null) continue;
      const series = await prometheus.query(substitute(match[1] as string, ALL));
      found[variable.name] = [
        ...new Set(series.map((s) => s.metric[match[2] as string]).filter((v) => v !== undefined)),
      ].sort() as string[];
    }
    assert.deepEqual(found, {
      job: ['push-sender'],
      provider: ['expo', 'webpush'],
      app: [APP],
      group: ['marketing'],
    });
  });

  it('filters by group: marketing is web-push alone, All keeps the ungrouped Expo messages', async () => {
    const byProvider = async (group: string) => {
      const located = everyTarget([dashboards.overview]).find(
        (t) => t.panel === 'Failure ratio by provider',
      ) as Located;
      return (await prometheus.query(substitute(located.target.expr, { ...ALL, group })))
        .map((s) => s.metric.provider)
        .sort();
    };
    assert.deepEqual(await byProvider('marketing'), ['webpush']);
    assert.deepEqual(await byProvider('.*'), ['expo', 'webpush']);
    const groups = everyTarget([dashboards.overview]).find((t) => t.panel === 'Failures by group') as Located;
    const series = await prometheus.query(substitute(groups.target.expr, ALL));
    assert.deepEqual(series.map((s) => s.metric.group ?? '(none)').sort(), ['(none)', 'marketing']);
  });

  it('shows the share of recipients over the send cap beside the unregistered share', async () => {
    const panel = everyTarget([dashboards.overview]).filter(
      (t) => t.panel === 'Recipients over the send cap, and unregistered',
    );
    const [overCap, unregistered] = await Promise.all(
      panel.map(async (t) =>
        Object.fromEntries(
          (await prometheus.query(substitute(t.target.expr, ALL))).map((s) => [s.metric.provider, Number(s.value[1])]),
        ),
      ),
    );
    // web-push: ok-1 got a push every wave, every other subscription one; Expo's tokens are new every wave.
    assert.ok((overCap?.webpush as number) > 0 && (overCap?.webpush as number) < 0.1, JSON.stringify(overCap));
    assert.equal(overCap?.expo, 0);
    assert.ok(
      (unregistered?.webpush as number) > 0 && (unregistered?.expo as number) > 0,
      JSON.stringify(unregistered),
    );
  });

  it('the alert annotation finds the firing test alert, not the pending one', async () => {
    for (const dashboard of Object.values(dashboards)) {
      const annotation = (dashboard.annotations.list?.[0] ?? {}) as { expr?: string };
      const alerts = await prometheus.query(substitute(annotation.expr ?? '', ALL));
      assert.deepEqual([...new Set(alerts.map((a) => a.metric.alertname))], ['PushDashboardTestFiring']);
    }
  });

  it("shows the verdicts the surge guard held, per provider: web-push's, and Expo's series at 0", async () => {
    const located = everyTarget([dashboards.overview]).find(
      (t) => t.panel === 'Invalid-token verdicts held',
    ) as Located;
    const series = await prometheus.query(substitute(located.target.expr, ALL));
    const byProvider = Object.fromEntries(series.map((s) => [s.metric.provider, Number(s.value[1])]));
    assert.deepEqual(Object.keys(byProvider).sort(), ['expo', 'webpush']);
    assert.ok((byProvider.webpush as number) > 0 && byProvider.expo === 0, JSON.stringify(byProvider));
    const holds = telemetry.heldInvalidTokens();
    assert.deepEqual(
      holds.map((hold) => [hold.provider, hold.app, hold.trigger]),
      [['webpush', undefined, 'window']],
    );
    assert.ok((holds[0]?.count ?? 0) > 0);
  });

  it('reads the numbers the traffic implies: the SLI, the owners, the failure table', async () => {
    const one = async (panel: string, refId = 'A', values = ALL) => {
      const located = everyTarget(Object.values(dashboards)).find(
        (t) => t.panel === panel && t.target.refId === refId,
      ) as Located;
      return evaluate(located, values);
    };
    // Per wave, SLO-counted: webpush 6 ok + down, auth, limit, teapot, big (5 bad); Expo 5 ok + late (ok ticket) + limit, err (2 bad).
    const [acceptance] = await one('Acceptance vs SLO 99.5%');
    assert.ok(acceptance !== undefined && Math.abs(acceptance - 12 / 19) < 0.02, String(acceptance));
    const owners = await Promise.all(['A', 'B', 'C', 'D', 'E'].map((refId) => one('Failures by owner', refId)));
    assert.ok(
      owners.every((values) => values.length === 1 && (values[0] as number) > 0),
      JSON.stringify(owners),
    );
    const table = await prometheus.query(
      substitute(
        everyTarget([dashboards.overview]).find((t) => t.panel.startsWith('Failures: error_type'))?.target.expr ?? '',
        ALL,
      ),
    );
    assert.deepEqual(
      table
        .filter((s) => Number(s.value[1]) > 0)
        .map((s) => `${s.metric.error_type} ${s.metric.provider}`)
        .sort(),
      [
        'auth webpush',
        'invalid_token webpush',
        'payload_too_large webpush',
        'provider_unavailable expo',
        'provider_unavailable webpush',
        'rate_limited expo',
        'rate_limited webpush',
        'unknown webpush',
        'unregistered expo',
        'unregistered webpush',
      ],
    );
  });
});
