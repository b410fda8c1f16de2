import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import webpush from 'web-push';
import { scaleWindows } from '../src/cli/alert-rules.js';
import { generateAlertRules, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';
import { PushTelemetry, instrumentWebPush, startMetricsServer } from '../src/index.js';
import { DEFAULT_RUNBOOK_URL_BASE, type MonitoringConfig } from '../src/monitoring/config.js';
import { RECORDED } from '../src/monitoring/promql.js';
import { startSimulator, webPushSubscription, type FakeProvider } from '../src/simulator/index.js';
import { testRouting } from './alerts-routing.js';
import { startAlertmanager, startPrometheus, type Prometheus } from './prometheus.js';

/**
 * End to end: a web-push sender instrumented by push-telemetry sends steadily through the fake push service; a real
 * Prometheus scrapes it with the generated rules; a real Alertmanager, configured from alerts/alertmanager.example.yml,
 * delivers to a webhook on loopback. Then something goes wrong, and the page must reach the on-call receivers with
 * the right labels and annotations, then resolve once it is over:
 * - an outage: the fake fails every send (503) → PushProviderOutage;
 * - a hang: the fake takes every send and never answers, and the sender has no timeout → PushProviderHung;
 * - a stall: the sender stops sending, its process still up and scraped → PushSendingStalled.
 *
 * Test variants of the rules: each alert's `for:` shortened through the generator's own config
 * (`alerts.<name>.for`), and every range window divided by a scale in the generated YAML (scaleWindows, as the demo
 * does for its stall scenario): at a 1 s scrape and /12, 2m → 10s and 5m → 25s, the same expressions a 12 s scrape
 * sees over the shipped windows. PushSendingStalled wants 3 hours of steady traffic: its test scrapes every 250 ms
 * with windows /240 (3h → 45s, 5m → 1.25s, 15m → 3.75s).
 */

const APP = 'com.example.web';
const BASE_LABELS = { severity: 'critical', team: 'mobile', job: 'push-sender', provider: 'webpush', app: APP };

interface Alert {
  readonly status: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

interface Notification {
  readonly receiver: string;
  readonly body: { status: string; alerts: Alert[] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(
  what: string,
  deadlineMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

interface SenderOptions {
  /** web-push's request timeout; undefined for none (a hung call then stays in flight). */
  readonly timeoutMs: number | undefined;
}

/**
 * The sender: web-push through push-telemetry, one message every 50 ms, not waiting for the ones in flight (at most
 * 20 of them, as a sender's bounded worker pool would). `paused` stops it sending, its process and /metrics still up.
 */
class Sender {
  paused = false;
  inFlight = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });

  constructor(telemetry: PushTelemetry, fake: FakeProvider, options: SenderOptions) {
    const client = instrumentWebPush(webpush, telemetry);
    const vapid = webpush.generateVAPIDKeys();
    const sendOptions = {
      agent: this.#agent,
      TTL: 60,
      vapidDetails: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }),
    };
    const subscription = webPushSubscription(fake.url, 'e2e-device');
    this.#timer = setInterval(() => {
      if (this.paused || this.inFlight >= 20) return;
      this.inFlight++;
      const call: Promise<unknown> = client
        .sendNotification(subscription, 'hello', sendOptions)
        .catch(() => undefined)
        .finally(() => {
          this.inFlight--;
          this.#pending.delete(call);
        });
      this.#pending.add(call);
    }, 50);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    // Whatever still hangs is let go by the fake's close (after this) or the agent's sockets going.
    this.#agent.destroy();
    await Promise.race([Promise.allSettled([...this.#pending]), sleep(3_000)]);
  }
}

interface Pipeline {
  readonly fake: FakeProvider;
  readonly sender: Sender;
  readonly prometheus: Prometheus;
  readonly notifications: Notification[];
}

interface PipelineOptions {
  readonly alerts: MonitoringConfig['alerts'];
  readonly sender: SenderOptions;
  /** Range windows divided by this. */
  readonly scale: number;
  /** Prometheus' scrape and evaluation interval. */
  readonly interval: '1s' | '250ms';
}

/** Simulator, sender, /metrics, webhook, Alertmanager and Prometheus; all stopped after the test, last started first. */
async function startPipeline(t: TestContext, options: PipelineOptions): Promise<Pipeline> {
  const started: Array<() => unknown> = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const stop of started.reverse())
      await Promise.resolve()
        .then(stop)
        .catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  });
  const simulator = await startSimulator({ providers: ['webpush'] });
  started.push(() => simulator.close());
  const fake = simulator.fake('webpush');

  const telemetry = new PushTelemetry({ app: APP });
  const sender = new Sender(telemetry, fake, options.sender);
  started.push(() => sender.stop());
  const metrics = await startMetricsServer({ telemetry, port: 0 });
  started.push(() => metrics.close());

  // The on-call's webhook: every receiver of the example posts here, under its own name.
  const notifications: Notification[] = [];
  const webhook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      notifications.push({
        receiver: decodeURIComponent((req.url ?? '').slice(1)),
        body: JSON.parse(body) as Notification['body'],
      });
      res.end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  started.push(
    () =>
      new Promise<void>((resolve) => {
        webhook.close(() => resolve());
        webhook.closeAllConnections();
      }),
  );
  const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;

  const alertmanager = await startAlertmanager(testRouting(webhookUrl));
  started.push(() => alertmanager.close());
  const rules = generateAlertRules({ extraLabels: { team: 'mobile' }, alerts: options.alerts });
  // Never below two scrapes: a rate needs two samples.
  const minWindowMs = options.interval === '1s' ? 1_000 : 500;
  const yaml = scaleWindows(toPrometheusRulesYaml(rules), options.scale, minWindowMs);
  const prometheus = await startPrometheus({
    targets: [new URL(metrics.url).host],
    rules: [yaml],
    alertmanager: alertmanager.url,
    interval: options.interval,
  });
  started.push(() => prometheus.close());
  return { fake, sender, prometheus, notifications };
}

const alertIn = (n: Notification, name: string, status: string) =>
  n.body.alerts.find((a) => a.labels.alertname === name && a.status === status);

/** The page: delivered to both critical receivers (PagerDuty and the on-call webhook) as firing. */
async function page(pipeline: Pipeline, name: string, deadlineMs: number): Promise<Alert> {
  const paged = await until(`${name} paged`, deadlineMs, () => {
    const pages = pipeline.notifications.filter((n) => alertIn(n, name, 'firing') !== undefined);
    return new Set(pages.map((n) => n.receiver)).size >= 2 ? pages : undefined;
  });
  assert.deepEqual(
    [...new Set(paged.map((n) => n.receiver))].sort(),
    ['oncall-pagerduty', 'oncall-webhook'],
    'critical goes to PagerDuty and the on-call webhook',
  );
  return alertIn(paged[0] as Notification, name, 'firing') as Alert;
}

async function resolved(pipeline: Pipeline, name: string, deadlineMs: number): Promise<void> {
  await until(`${name} resolved`, deadlineMs, () =>
    pipeline.notifications.find((n) => n.receiver === 'oncall-webhook' && alertIn(n, name, 'resolved') !== undefined),
  );
}

/** Alert names that reached a receiver as firing. */
const pagedNames = (pipeline: Pipeline) =>
  new Set(
    pipeline.notifications.flatMap((n) =>
      n.body.alerts.filter((a) => a.status === 'firing').map((a) => a.labels.alertname),
    ),
  );

async function healthyFirst(pipeline: Pipeline): Promise<void> {
  // Healthy traffic first: the recorded rate exists, and nothing fires.
  await until('recorded traffic', 20_000, async () =>
    (await pipeline.prometheus.query('push:messages:rate2m{provider="webpush"} > 0')).length > 0 ? true : undefined,
  );
  assert.deepEqual(
    (await pipeline.prometheus.alerts()).filter((a) => a.state === 'firing'),
    [],
  );
}

describe('end to end: provider and sender failures → Prometheus → Alertmanager → webhook', () => {
  it('an outage pages PushProviderOutage with its labels and annotations, then resolves it', {
    timeout: 90_000,
  }, async (t) => {
    const pipeline = await startPipeline(t, {
      alerts: { PushProviderOutage: { for: '5s' } },
      sender: { timeoutMs: 2_000 },
      scale: 12,
      interval: '1s',
    });
    const { fake } = pipeline;
    await healthyFirst(pipeline);

    const faultAt = Date.now();
    fake.faults.set({ rules: [{ fault: 'provider_unavailable' }] });
    const alert = await page(pipeline, 'PushProviderOutage', 30_000);
    const pagedAfter = (Date.now() - faultAt) / 1000;
    assert.deepEqual(alert.labels, { alertname: 'PushProviderOutage', ...BASE_LABELS });
    assert.equal(alert.annotations.summary, 'Push provider webpush is failing most messages.');
    assert.equal(alert.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-provider-outage.md`);
    const description =
      /^(\d+(?:\.\d+)?)% of the messages webpush \(com\.example\.web\) from push-sender sends are failing: above 50% with provider_unavailable/.exec(
        alert.annotations.description ?? '',
      );
    assert.ok(description, alert.annotations.description);
    assert.ok(Number(description[1]) > 50, `the value in the description: ${description[1]}%`);

    const clearedAt = Date.now();
    fake.faults.set({});
    await resolved(pipeline, 'PushProviderOutage', 30_000);
    const resolvedAfter = (Date.now() - clearedAt) / 1000;
    t.diagnostic(
      `paged ${pagedAfter.toFixed(1)} s after the fault, resolved ${resolvedAfter.toFixed(1)} s after it was cleared`,
    );
    assert.ok(fake.stats.refused > 0 && fake.stats.accepted > 0);
  });

  it('a hang (calls in flight, none completing, no error) pages PushProviderHung, then resolves it', {
    timeout: 90_000,
  }, async (t) => {
    // No client timeout: with one, every hung call would end as a timeout, and that is an outage, not a hang.
    const pipeline = await startPipeline(t, {
      alerts: { PushProviderHung: { for: '5s' } },
      sender: { timeoutMs: undefined },
      scale: 12,
      interval: '1s',
    });
    const { fake, sender } = pipeline;
    await healthyFirst(pipeline);

    const hangAt = Date.now();
    fake.faults.set({ rules: [{ fault: 'hang' }] });
    await until('calls piling up in flight', 10_000, () => (sender.inFlight >= 20 ? true : undefined));
    const alert = await page(pipeline, 'PushProviderHung', 60_000);
    const pagedAfter = (Date.now() - hangAt) / 1000;
    assert.deepEqual(alert.labels, { alertname: 'PushProviderHung', ...BASE_LABELS });
    assert.match(alert.annotations.summary ?? '', /webpush/);
    assert.equal(alert.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-provider-hung.md`);
    const inFlight = (await pipeline.prometheus.query('push_requests_in_flight{provider="webpush"}'))[0]?.value[1];
    assert.equal(inFlight, '20', 'every call the sender allows itself is in flight');
    assert.equal(fake.faults.hanging, 20, 'and held by the fake');
    // Hung calls complete nothing, so fail nothing: no error alert speaks for them.
    assert.deepEqual([...pagedNames(pipeline)], ['PushProviderHung']);

    // The provider answers again and drops what it held: those calls fail (reset), new ones succeed.
    const clearedAt = Date.now();
    fake.faults.set({});
    fake.faults.dropHanging();
    await resolved(pipeline, 'PushProviderHung', 30_000);
    t.diagnostic(
      `paged ${pagedAfter.toFixed(1)} s after the hang began, resolved ${((Date.now() - clearedAt) / 1000).toFixed(1)} s after it ended`,
    );
    assert.deepEqual([...pagedNames(pipeline)], ['PushProviderHung']);
  });

  it('a stall (steady traffic stops, the sender up, nothing failing) pages PushSendingStalled, then resolves it', {
    timeout: 120_000,
  }, async (t) => {
    const pipeline = await startPipeline(t, {
      alerts: { PushSendingStalled: { for: '1s' } },
      sender: { timeoutMs: 2_000 },
      scale: 240,
      interval: '250ms',
    });
    const { sender, prometheus } = pipeline;
    await healthyFirst(pipeline);

    // Steady means every 5m rate of the last 3h (here 1.25 s and 45 s) at the floor, with history reaching back that far.
    await until('steady traffic on record', 70_000, async () =>
      (await prometheus.query(`${RECORDED.steadyRate}{provider="webpush"}`)).length > 0 ? true : undefined,
    );
    const stallAt = Date.now();
    sender.paused = true;
    const alert = await page(pipeline, 'PushSendingStalled', 30_000);
    const pagedAfter = (Date.now() - stallAt) / 1000;
    assert.deepEqual(alert.labels, { alertname: 'PushSendingStalled', ...BASE_LABELS });
    assert.match(alert.annotations.summary ?? '', /webpush/);
    assert.equal(alert.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-sending-stalled.md`);
    assert.equal(
      (await prometheus.query('up{job="push-sender"} == 1')).length,
      1,
      'the sender is up and scraped all along',
    );
    assert.deepEqual([...pagedNames(pipeline)], ['PushSendingStalled'], 'a stall fails nothing: no other alert');

    const resumedAt = Date.now();
    sender.paused = false;
    await resolved(pipeline, 'PushSendingStalled', 30_000);
    t.diagnostic(
      `paged ${pagedAfter.toFixed(1)} s after the sender stopped, resolved ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after it resumed`,
    );
  });
});
