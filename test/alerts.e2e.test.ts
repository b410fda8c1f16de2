import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import webpush from 'web-push';
import { generateAlertRules, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';
import { PushTelemetry, instrumentWebPush, startMetricsServer } from '../src/index.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../src/monitoring/config.js';
import { startSimulator, webPushSubscription } from '../src/simulator/index.js';
import { testRouting } from './alerts-routing.js';
import { startAlertmanager, startPrometheus } from './prometheus.js';

/**
 * End to end: a web-push sender instrumented by push-telemetry sends steadily through the fake push service; a real
 * Prometheus (1 s scrape and evaluation) scrapes it with the generated rules; a real Alertmanager, configured from
 * alerts/alertmanager.example.yml, delivers to a webhook on loopback. The fake then fails every send (503), and the
 * page must arrive with the right labels and annotations, then resolve once the fault is cleared.
 *
 * Test variant of the rules: PushProviderOutage holds for 5 s instead of 1 m, through the generator's own config
 * (`alerts.PushProviderOutage.for`). Range windows are not configurable, so the test divides every `[…]` range by 12
 * in the generated YAML (2m → 10s, 5m → 25s): the same expressions at a 1 s scrape instead of 15 s.
 */

const SCALE = 12;
const APP = 'com.example.web';
const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

function shortenWindows(yaml: string): string {
  return yaml.replace(/\[(\d+)([smhd])\]/g, (_, amount: string, unit: string) => `[${Math.max(1, Math.round((Number(amount) * (UNITS[unit] as number)) / SCALE))}s]`);
}

interface Notification {
  readonly receiver: string;
  readonly body: { status: string; alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, deadlineMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

describe('end to end: outage → Prometheus → Alertmanager → webhook', () => {
  it('pages PushProviderOutage with its labels and annotations, then resolves it', { timeout: 90_000 }, async (t) => {
    // Everything started is stopped, last started first, even when a step fails.
    const started: Array<() => unknown> = [];
    t.after(async () => {
      const errors: unknown[] = [];
      for (const stop of started.reverse()) await Promise.resolve().then(stop).catch((error: unknown) => errors.push(error));
      if (errors.length > 0) throw errors[0];
    });
    const simulator = await startSimulator({ providers: ['webpush'] });
    started.push(() => simulator.close());
    const fake = simulator.fake('webpush');

    // The sender: web-push through push-telemetry, one message every 50 ms until the test ends.
    const telemetry = new PushTelemetry({ app: APP });
    const client = instrumentWebPush(webpush, telemetry);
    const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
    const vapid = webpush.generateVAPIDKeys();
    const options = { agent, TTL: 60, timeout: 2000, vapidDetails: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey } };
    const subscription = webPushSubscription(fake.url, 'e2e-device');
    let sending = true;
    const sender = (async () => {
      while (sending) {
        await client.sendNotification(subscription, 'hello', options).catch(() => undefined);
        await sleep(50);
      }
    })();
    started.push(async () => {
      sending = false;
      await sender;
      agent.destroy();
    });
    const metrics = await startMetricsServer({ telemetry, port: 0 });
    started.push(() => metrics.close());

    // The on-call's webhook: every receiver of the example posts here, under its own name.
    const notifications: Notification[] = [];
    const webhook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        notifications.push({ receiver: decodeURIComponent((req.url ?? '').slice(1)), body: JSON.parse(body) as Notification['body'] });
        res.end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    started.push(() => new Promise<void>((resolve) => {
      webhook.close(() => resolve());
      webhook.closeAllConnections();
    }));
    const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;

    const alertmanager = await startAlertmanager(testRouting(webhookUrl));
    started.push(() => alertmanager.close());
    const rules = generateAlertRules({ extraLabels: { team: 'mobile' }, alerts: { PushProviderOutage: { for: '5s' } } });
    const prometheus = await startPrometheus({ targets: [new URL(metrics.url).host], rules: [shortenWindows(toPrometheusRulesYaml(rules))], alertmanager: alertmanager.url });
    started.push(() => prometheus.close());

    // Healthy traffic first: the recorded 10 s rate exists, and nothing pages.
    await until('recorded traffic', 20_000, async () => ((await prometheus.query('push:messages:rate2m{provider="webpush"} > 0')).length > 0 ? true : undefined));
    assert.deepEqual((await prometheus.alerts()).filter((a) => a.state === 'firing'), []);

    const faultAt = Date.now();
    fake.faults.set({ rules: [{ fault: 'provider_unavailable' }] });
    const outage = (n: Notification, status: string) => n.body.alerts.find((a) => a.labels.alertname === 'PushProviderOutage' && a.status === status);
    const paged = await until('the page', 30_000, () => {
      const pages = notifications.filter((n) => outage(n, 'firing') !== undefined);
      return pages.length >= 2 ? pages : undefined;
    });
    const pagedAfter = (Date.now() - faultAt) / 1000;

    assert.deepEqual(paged.map((n) => n.receiver).sort(), ['oncall-pagerduty', 'oncall-webhook'], 'critical goes to PagerDuty and the on-call webhook');
    const alert = outage(paged[0] as Notification, 'firing') as Notification['body']['alerts'][number];
    assert.deepEqual(alert.labels, { alertname: 'PushProviderOutage', severity: 'critical', team: 'mobile', job: 'push-sender', provider: 'webpush', app: APP });
    assert.equal(alert.annotations.summary, 'Push provider webpush is failing most messages.');
    assert.equal(alert.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-provider-outage.md`);
    const description = /^(\d+(?:\.\d+)?)% of the messages webpush \(com\.example\.web\) from push-sender sends are failing: above 50% with provider_unavailable/.exec(alert.annotations.description ?? '');
    assert.ok(description, alert.annotations.description);
    assert.ok(Number(description[1]) > 50, `the value in the description: ${description[1]}%`);

    const clearedAt = Date.now();
    fake.faults.set({});
    await until('the resolution', 30_000, () => notifications.find((n) => n.receiver === 'oncall-webhook' && outage(n, 'resolved') !== undefined));
    const resolvedAfter = (Date.now() - clearedAt) / 1000;
    t.diagnostic(`paged ${pagedAfter.toFixed(1)} s after the fault, resolved ${resolvedAfter.toFixed(1)} s after it was cleared`);
    assert.ok(fake.stats.refused > 0 && fake.stats.accepted > 0);
  });
});
