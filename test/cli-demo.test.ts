import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ERROR_TYPES } from '../src/index.js';
import { parseExposition, valueOf, type Sample } from './helpers.js';
import { freePort, requireBinary } from './prometheus.js';
import { runCli, startCli, type Running } from './cli-run.js';

/**
 * `push-telemetry demo` end to end, non-interactively (stdout a pipe): real SDKs through the simulator, the
 * fcm-outage scenario (FCM answers 503 to everything from 10 s), asserted from the demo's own /metrics and, with
 * --prometheus, from the real Prometheus it starts.
 */

const PROVIDERS = ['fcm', 'apns', 'webpush', 'expo', 'sns'] as const;
const APP = 'com.example.pushdemo';
const OWNED_BY_PROVIDER = ['provider_unavailable', 'timeout', 'network'];

const running: Running[] = [];
after(() => {
  for (const run of running) run.kill();
});

function messages(samples: readonly Sample[], provider: string, outcome: string, errorType?: string): number {
  return (
    valueOf(samples, 'push_messages_total', {
      provider,
      app: APP,
      outcome,
      ...(errorType !== undefined && { error_type: errorType }),
    }) ?? 0
  );
}

async function scrape(url: string): Promise<Sample[]> {
  return parseExposition(await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).text());
}

describe('push-telemetry demo --scenario fcm-outage', () => {
  it('classifies FCM failures as provider_unavailable while the other providers stay healthy (20 s, plain output)', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const demo = startCli([
      'demo',
      '--scenario',
      'fcm-outage',
      '--duration',
      '20s',
      '--rate',
      '50',
      '--port',
      String(port),
      '--no-prometheus',
    ]);
    running.push(demo);
    const [, metricsUrl] = await demo.waitFor(/^metrics: (\S+)$/m, 20_000);
    assert.equal(metricsUrl, `http://127.0.0.1:${port}/metrics`);

    // Scrape until the demo stops; the last scrape holds ten seconds of outage.
    let samples: Sample[] = [];
    while (!/--duration reached/.test(demo.stdout())) {
      try {
        samples = await scrape(metricsUrl as string);
      } catch {
        break; // shutting down
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(await demo.exited, 0, demo.stderr());

    const fcmUnavailable = messages(samples, 'fcm', 'failed', 'provider_unavailable');
    assert.ok(fcmUnavailable > 0, 'fcm failures counted as provider_unavailable');
    for (const type of ERROR_TYPES.filter((t) => t !== 'provider_unavailable'))
      assert.equal(messages(samples, 'fcm', 'failed', type), 0, `fcm ${type}`);
    for (const provider of PROVIDERS.filter((p) => p !== 'fcm')) {
      assert.ok(messages(samples, provider, 'accepted') > 50, `${provider} accepted messages`);
      for (const type of OWNED_BY_PROVIDER)
        assert.equal(messages(samples, provider, 'failed', type), 0, `${provider} ${type}`);
    }

    // The fake devices confirm what the providers accepted, through the demo's own receipts endpoint.
    const delivered = (provider: string) =>
      samples.find(
        (s) =>
          s.name === 'push_device_receipts_total' && s.labels.provider === provider && s.labels.event === 'delivered',
      )?.value ?? 0;
    for (const provider of PROVIDERS) assert.ok(delivered(provider) > 0, `${provider} delivered receipts`);

    const out = demo.stdout();
    assert.doesNotMatch(out, /\x1b\[/, 'no escape codes when stdout is not a terminal');
    assert.match(out, /\] +apns +delivered +[\d.]+% +displayed/);
    assert.match(out, /phase: FCM outage/);
    assert.match(out, /\] fcm +[\d.]+ msg\/s .*errors provider_unavailable \d+%.*fault provider_unavailable 100%/);
    assert.match(out, /\] apns +[\d.]+ msg\/s +accepted 100\.0%/);
    assert.match(out, /summary after 20 s/);
    assert.match(out, /stopped; every process and temp file is gone/);
  });
});

describe('push-telemetry demo --scenario fcm-hang and --scenario stall', () => {
  it('fcm-hang: FCM calls pile up in flight with none completing, the others keep sending, and the demo still exits cleanly (18 s)', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const demo = startCli([
      'demo',
      '--scenario',
      'fcm-hang',
      '--duration',
      '18s',
      '--rate',
      '50',
      '--port',
      String(port),
      '--no-prometheus',
    ]);
    running.push(demo);
    const [, metricsUrl] = await demo.waitFor(/^metrics: (\S+)$/m, 20_000);
    await demo.waitFor(/phase: FCM hung/, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const early = await scrape(metricsUrl as string);
    await demo.waitFor(/\] fcm .* hung /, 10_000);
    const late = await scrape(metricsUrl as string);

    const inFlight = (samples: readonly Sample[], provider: string) =>
      valueOf(samples, 'push_requests_in_flight', { provider, app: APP }) ?? 0;
    const completed = (samples: readonly Sample[], provider: string) =>
      samples
        .filter((s) => s.name === 'push_messages_total' && s.labels.provider === provider)
        .reduce((sum, s) => sum + s.value, 0);
    assert.ok(
      inFlight(late, 'fcm') > inFlight(early, 'fcm') && inFlight(early, 'fcm') > 0,
      `fcm in flight ${inFlight(early, 'fcm')} → ${inFlight(late, 'fcm')}`,
    );
    assert.equal(completed(late, 'fcm'), completed(early, 'fcm'), 'no FCM call completes');
    assert.equal(
      messages(late, 'fcm', 'failed', 'timeout'),
      0,
      'nor times out: the scenario gives the FCM client no timeout',
    );
    for (const provider of PROVIDERS.filter((p) => p !== 'fcm'))
      assert.ok(completed(late, provider) > completed(early, provider), `${provider} keeps sending`);

    assert.equal(await demo.exited, 0, demo.stderr());
    assert.match(demo.stdout(), /\] fcm +0\.0 msg\/s .* in flight +\d+ +hung +errors - +fault hang 100%/);
    assert.match(demo.stdout(), /stopped; every process and temp file is gone/);
  });

  it('stall: reachable, and warms up with steady traffic before the sender stops (4 s)', {
    timeout: 30_000,
  }, async () => {
    const run = await runCli(['demo', '--scenario', 'stall', '--duration', '4s', '--port', '0', '--no-prometheus']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /scenario stall \(the sender stops sending from 4 min/);
    assert.match(run.stdout, /phase: all providers healthy \(steady traffic for 4 min before the incident\)/);
    assert.match(run.stdout, /\] sns +[\d.]+ msg\/s +accepted 100\.0% .* sending /);
  });
});

describe('push-telemetry demo --prometheus', () => {
  it('takes PushProviderOutage for fcm to firing in a real Prometheus, pages through Alertmanager, and cleans up on SIGTERM', {
    timeout: 90_000,
  }, async () => {
    requireBinary('prometheus');
    requireBinary('prometheus-alertmanager');
    const demo = startCli(['demo', '--scenario', 'fcm-outage', '--port', '0', '--prometheus', '--duration', '80s']);
    running.push(demo);
    const [, prometheusUrl] = await demo.waitFor(/^prometheus: (\S+)\/alerts/m, 45_000);
    const [, rulesNote] = await demo.waitFor(/^ {2}rules: (.*)$/m, 1_000);
    assert.match(rulesNote as string, /for: capped at 15s/);
    if (existsSync(new URL('../alerts/push-alerts.yaml', import.meta.url)))
      assert.match(rulesNote as string, /^alerts\/push-alerts\.yaml/);
    const [, routingNote] = await demo.waitFor(/^ {2}routing: (.*)$/m, 1_000);
    // The shipped routing, its receivers rewritten to the demo's webhook, not the one-route fallback.
    if (existsSync(new URL('../alerts/alertmanager.example.yml', import.meta.url)))
      assert.match(routingNote as string, /^alerts\/alertmanager\.example\.yml, receivers \S+/);

    // PushProviderOutage holds `for: 1m` as shipped; --alert-for's default 15s cap is what fits it in a test.
    let firing: Array<{ labels: Record<string, string>; state: string }> = [];
    for (let i = 0; i < 140 && firing.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const body = (await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as {
        data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
      };
      firing = body.data.alerts.filter((a) => a.labels.alertname === 'PushProviderOutage' && a.state === 'firing');
      const others = body.data.alerts.filter((a) => a.labels.provider !== undefined && a.labels.provider !== 'fcm');
      assert.deepEqual(others, [], 'no alert about a healthy provider');
    }
    assert.equal(firing.length, 1, `PushProviderOutage firing\n${demo.stdout().slice(-3000)}`);
    assert.equal(firing[0]?.labels.provider, 'fcm');
    assert.equal(firing[0]?.labels.severity, 'critical');
    await demo.waitFor(/alert FIRING: PushProviderOutage\{provider="fcm"\}/, 5_000);
    await demo.waitFor(/Alertmanager → \S+: firing PushProviderOutage\{provider="fcm"\}/, 15_000);

    demo.child.kill('SIGTERM');
    assert.equal(await demo.exited, 0, demo.stderr());
    await assert.rejects(fetch(`${prometheusUrl}/-/ready`), 'Prometheus is stopped');
    const [, tempDir] = demo.stdout().match(/^ {2}files: (\S+)/m) ?? [];
    assert.ok(tempDir !== undefined && !existsSync(tempDir), `${tempDir} removed`);
    assert.match(demo.stdout(), /stopped; every process and temp file is gone/);
  });
});
