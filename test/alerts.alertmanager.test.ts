import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { generateAlertRules, type AlertingRule } from '../src/monitoring/alerts/index.js';
import { startAlertmanager, requireBinary } from './prometheus.js';
import { EXAMPLE, readExample, testRouting } from './alerts-routing.js';

/** alerts/alertmanager.example.yml: amtool accepts it, each severity reaches the right receivers, and the inhibitions hold in a real Alertmanager. */

const file = fileURLToPath(EXAMPLE);

function routesTest(labels: Record<string, string>): string[] {
  const args = [
    'config',
    'routes',
    'test',
    `--config.file=${file}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ];
  return execFileSync(requireBinary('amtool'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .trim()
    .split(',');
}

describe('alerts/alertmanager.example.yml', () => {
  it('passes amtool check-config', () => {
    const output = execFileSync(requireBinary('amtool'), ['check-config', file], { encoding: 'utf8' });
    assert.match(output, /SUCCESS/);
    assert.match(output, /4 receivers/);
    assert.match(output, /6 inhibit rules/);
  });

  it('groups by alertname and provider, with a placeholder PagerDuty key and a webhook for the page', () => {
    const config = readExample();
    assert.deepEqual(config.route.group_by, ['alertname', 'provider']);
    const receivers = Object.fromEntries(config.receivers.map((r) => [r.name, r]));
    assert.deepEqual(Object.keys(receivers['oncall-pagerduty'] ?? {}), ['name', 'pagerduty_configs']);
    assert.match(JSON.stringify(receivers['oncall-pagerduty']), /REPLACE_WITH_PAGERDUTY_INTEGRATION_KEY/);
    assert.deepEqual(Object.keys(receivers['oncall-webhook'] ?? {}), ['name', 'webhook_configs']);
  });

  it('routes critical to the pager (PagerDuty and webhook), warning to tickets, info nowhere (amtool config routes test)', () => {
    assert.deepEqual(routesTest({ severity: 'critical', alertname: 'PushProviderOutage', provider: 'fcm' }), [
      'oncall-pagerduty',
      'oncall-webhook',
    ]);
    // The silent failures count no error: they page like an outage.
    for (const alertname of ['PushProviderHung', 'PushSendingStalled']) {
      assert.deepEqual(
        routesTest({ severity: 'critical', alertname, job: 'push-sender', provider: 'fcm', app: 'com.example.app' }),
        ['oncall-pagerduty', 'oncall-webhook'],
        alertname,
      );
    }
    assert.deepEqual(routesTest({ severity: 'warning', alertname: 'PushRateLimited', provider: 'fcm' }), [
      'push-tickets',
    ]);
    // Held invalid-token verdicts wait for a person to release or discard them: a ticket, never the pager.
    assert.deepEqual(
      routesTest({
        severity: 'warning',
        alertname: 'PushInvalidTokensHeld',
        job: 'push-sender',
        provider: 'apns',
        app: 'com.example.app',
      }),
      ['push-tickets'],
    );
    assert.deepEqual(routesTest({ severity: 'info', alertname: 'PushLatencyHigh' }), ['blackhole']);
    assert.deepEqual(
      routesTest({ alertname: 'SomethingElse' }),
      ['push-tickets'],
      'no severity: a ticket, not silence',
    );
  });

  it('routes every shipped alert by its severity', () => {
    const expected = {
      critical: ['oncall-pagerduty', 'oncall-webhook'],
      warning: ['push-tickets'],
      info: ['blackhole'],
    };
    const alerts = generateAlertRules()
      .flatMap((group) => group.rules)
      .filter((rule): rule is AlertingRule => 'alert' in rule);
    for (const rule of alerts) {
      const severity = rule.labels.severity as keyof typeof expected;
      assert.deepEqual(
        routesTest({ ...rule.labels, alertname: rule.alert, provider: 'fcm' }),
        expected[severity],
        `${rule.alert} ${JSON.stringify(rule.labels)}`,
      );
    }
  });

  it('inhibits in a real Alertmanager: outage over its provider symptoms, sender-down over its job, fast burn tiers over slow ones, a hang over its stall', async (t) => {
    const alertmanager = await startAlertmanager(testRouting());
    t.after(() => alertmanager.close());
    const alert = (alertname: string, labels: Record<string, string>) => ({
      alertname,
      job: 'push-sender',
      severity: 'warning',
      ...labels,
    });
    const sent = {
      outage: alert('PushProviderOutage', { provider: 'fcm', app: 'a', severity: 'critical' }),
      fcmErrors: alert('PushProviderErrorRateHigh', { provider: 'fcm', app: 'a' }),
      fcmLatency: alert('PushLatencyHigh', { provider: 'fcm', app: 'b' }),
      fcmBurn: alert('PushErrorBudgetBurn', { provider: 'fcm', app: 'a', severity: 'critical', tier: '1h' }),
      fcmCredentials: alert('PushCredentialsRejected', { provider: 'fcm', app: 'a', severity: 'critical' }),
      apnsErrors: alert('PushProviderErrorRateHigh', { provider: 'apns', app: 'a' }),
      otherJobFcmErrors: alert('PushProviderErrorRateHigh', { job: 'other-sender', provider: 'fcm', app: 'a' }),
      burn1h: alert('PushErrorBudgetBurn', { provider: 'apns', severity: 'critical', tier: '1h' }),
      burn6h: alert('PushErrorBudgetBurn', { provider: 'apns', severity: 'critical', tier: '6h' }),
      burn1d: alert('PushErrorBudgetBurn', { provider: 'apns', tier: '1d' }),
      burn3d: alert('PushErrorBudgetBurn', { provider: 'apns', tier: '3d' }),
      burn3dOtherApp: alert('PushErrorBudgetBurn', { provider: 'apns', app: 'other', tier: '3d' }),
      senderDown: alert('PushSenderDown', { job: 'batch-sender', instance: 'batch:9464', severity: 'critical' }),
      batchRateLimited: alert('PushRateLimited', { job: 'batch-sender', provider: 'expo' }),
      // An outage does not explain verdicts held before or during it: they still wait for a person.
      fcmHeld: alert('PushInvalidTokensHeld', { provider: 'fcm', app: 'a' }),
      // A hang stops its own traffic: that stall is a symptom. Another app's stall, and a stall of a sender down, are not the hang's.
      apnsHung: alert('PushProviderHung', { provider: 'apns', app: 'a', severity: 'critical' }),
      apnsStalled: alert('PushSendingStalled', { provider: 'apns', app: 'a', severity: 'critical' }),
      apnsOtherAppStalled: alert('PushSendingStalled', { provider: 'apns', app: 'b', severity: 'critical' }),
      batchHung: alert('PushProviderHung', { job: 'batch-sender', provider: 'expo', severity: 'critical' }),
    };
    const suppressed = new Set([
      'fcmErrors',
      'fcmLatency',
      'fcmBurn',
      'burn6h',
      'burn1d',
      'burn3d',
      'batchRateLimited',
      'apnsStalled',
      'batchHung',
    ]);
    const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.values(sent).map((labels) => ({ labels, annotations: { summary: 'test' } }))),
    });
    assert.equal(response.status, 200);

    type Listed = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    const wanted = Object.entries(sent).map(([key]) => `${key}=${suppressed.has(key) ? 'suppressed' : 'active'}`);
    let seen: string[] = [];
    for (
      const deadline = Date.now() + 15_000;
      Date.now() < deadline;
      await new Promise((resolve) => setTimeout(resolve, 200))
    ) {
      const listed = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as Listed[];
      const state = (labels: Record<string, string>) =>
        listed.find(
          (a) => JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
        )?.status.state ?? 'missing';
      seen = Object.entries(sent).map(([key, labels]) => `${key}=${state(labels)}`);
      if (JSON.stringify(seen) === JSON.stringify(wanted)) break;
    }
    assert.deepEqual(seen, wanted);
  });
});
