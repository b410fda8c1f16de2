import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateAlertRules, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../src/monitoring/config.js';
import { firings, JOB, phases, runScenario, STEP, steady, type Firing, type Scenario, type ScenarioResult, type Traffic } from './alerts-promtool.js';
import { requireBinary } from './prometheus.js';

/**
 * The shipped rules (generator defaults) against the issue's detection targets, with a 15 s scrape and evaluation
 * interval. Each scenario asserts the exact labels and annotations on-call sees at one moment (promtool
 * alert_rule_test), then its measured timeline: when each alert first fired, when it resolved, and that it never flapped.
 */

const M = 60;
const H = 3600;
const INSTANCE = 'sender-0:9464';
const runbook = (file: string) => `${DEFAULT_RUNBOOK_URL_BASE}${file}.md`;

/** One message every `every` seconds, the nth of them (from 1) failing with what `fail(n)` says, else accepted. */
function trickle(every: number, fail: (n: number) => string | undefined): Traffic {
  return (t) => (t % every === 0 ? { [fail(t / every) ?? 'accepted']: 1 } : {});
}

const healthy = (rate: number) => steady(rate);

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'total outage of one provider',
    duration: 60 * M,
    senders: [
      { provider: 'fcm', app: 'com.example.app', messages: phases([0, healthy(10)], [20 * M, steady(10, { provider_unavailable: 1 })], [35 * M, healthy(10)]) },
      { provider: 'apns', app: 'com.example.app', messages: healthy(5) },
    ],
    expect: [
      { alertname: 'PushProviderOutage', at: 19 * M, alerts: [] },
      {
        alertname: 'PushProviderOutage',
        at: 25 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'fcm', app: 'com.example.app' },
            annotations: {
              summary: 'Push provider fcm is failing most messages.',
              description:
                '100% of the messages fcm (com.example.app) from push-sender sends are failing: above 50% with provider_unavailable, timeout or network errors over 2 minutes, or with those, rate_limited or unknown errors while none was accepted for 5 minutes. Users are not receiving these notifications.',
              runbook_url: runbook('push-provider-outage'),
            },
          },
        ],
      },
      { alertname: 'PushProviderOutage', at: 45 * M, alerts: [] },
    ],
  },
  {
    name: 'nothing accepted, errors unclassified',
    duration: 40 * M,
    senders: [{ provider: 'webpush', messages: phases([0, healthy(4)], [10 * M, steady(4, { unknown: 1 })], [25 * M, healthy(4)]) }],
    expect: [
      {
        alertname: 'PushProviderOutage',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'webpush' },
            annotations: {
              summary: 'Push provider webpush is failing most messages.',
              description:
                '100% of the messages webpush from push-sender sends are failing: above 50% with provider_unavailable, timeout or network errors over 2 minutes, or with those, rate_limited or unknown errors while none was accepted for 5 minutes. Users are not receiving these notifications.',
              runbook_url: runbook('push-provider-outage'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'credentials rejected on every send',
    duration: 40 * M,
    senders: [{ provider: 'apns', app: 'com.example.app', messages: phases([0, healthy(5)], [10 * M, steady(5, { auth: 1 })], [25 * M, healthy(5)]) }],
    expect: [
      {
        alertname: 'PushCredentialsRejected',
        at: 15 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Push provider apns rejects the sender credentials.',
              description:
                '100% of the messages apns (com.example.app) from push-sender sends are refused with auth or config errors (alert above 20%): an expired APNs key or certificate, a revoked FCM credential, a wrong sender id, topic or environment. Every such send fails until someone fixes the credentials.',
              runbook_url: runbook('push-credentials-rejected'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'a trickle sender with a revoked key',
    duration: 3 * H,
    senders: [{ provider: 'fcm', messages: trickle(5 * M, (n) => (n * 5 * M > 1 * H ? 'auth' : undefined)) }],
  },
  {
    name: '10% provider errors',
    duration: 60 * M,
    senders: [{ provider: 'fcm', app: 'com.example.app', messages: phases([0, healthy(20)], [10 * M, steady(20, { provider_unavailable: 0.05, timeout: 0.05 })]) }],
    expect: [
      {
        alertname: 'PushProviderErrorRateHigh',
        at: 30 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'fcm', app: 'com.example.app' },
            annotations: {
              summary: 'Push provider fcm is failing more messages than usual.',
              description:
                '10% of the messages fcm (com.example.app) from push-sender sent in the last 5 minutes failed with provider_unavailable, timeout or network errors (alert above 5%). Retries may hide it from users for now.',
              runbook_url: runbook('push-provider-error-rate-high'),
            },
          },
        ],
      },
    ],
  },
  {
    name: '0.3% provider errors and 30% unregistered for 24 h',
    duration: 24 * H,
    senders: [
      {
        provider: 'fcm',
        app: 'com.example.app',
        // A day of traffic between 2 and 18 messages/s; 0.2% provider_unavailable always, plus 1% timeouts two minutes in every twenty.
        messages: (t) => {
          const rate = 10 + 8 * Math.sin((2 * Math.PI * t) / (24 * H));
          const burst = t % (20 * M) <= 2 * M && t % (20 * M) > 0 ? 0.01 : 0;
          return steady(rate, { provider_unavailable: 0.002, timeout: burst, unregistered: 0.3 })(t);
        },
        // Churn the surge guard lets through: the held counter stays at its wrap-time 0.
        held: () => 0,
      },
    ],
  },
  {
    name: 'one message every 5 minutes with an occasional failure',
    duration: 6 * H,
    senders: [{ provider: 'webpush', messages: trickle(5 * M, (n) => (n % 6 === 0 ? 'provider_unavailable' : n === 25 ? 'auth' : n === 40 ? 'payload_invalid' : undefined)) }],
  },
  {
    name: 'sender process gone',
    duration: 40 * M,
    senders: [{ provider: 'fcm', messages: healthy(10) }],
    up: (t) => (t > 10 * M && t <= 25 * M ? 0 : 1),
    expect: [
      {
        alertname: 'PushSenderDown',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, instance: INSTANCE },
            annotations: {
              summary: 'A push sender is down or no longer instrumented.',
              description: `Prometheus cannot scrape push-sender/${INSTANCE} (up = 0). Nothing shows whether notifications are going out.`,
              runbook_url: runbook('push-sender-down'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'sender gone from service discovery',
    duration: 30 * M,
    senders: [{ provider: 'fcm', messages: healthy(10) }],
    up: (t) => (t > 10 * M ? undefined : 1),
    expect: [
      {
        alertname: 'PushSenderDown',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB },
            annotations: {
              summary: 'A push sender is down or no longer instrumented.',
              description: 'No target of job push-sender is left to scrape. Nothing shows whether notifications are going out.',
              runbook_url: runbook('push-sender-down'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'sender runs without push-telemetry',
    duration: 30 * M,
    senders: [],
    up: () => 1,
    instrumented: (t) => t <= 10 * M,
    expect: [
      {
        alertname: 'PushSenderDown',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, instance: INSTANCE },
            annotations: {
              summary: 'A push sender is down or no longer instrumented.',
              description: `push-sender/${INSTANCE} answers scrapes but exposes no push_telemetry_info (up = 1). Nothing shows whether notifications are going out.`,
              runbook_url: runbook('push-sender-down'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'payloads rejected after a deploy',
    duration: 40 * M,
    senders: [{ provider: 'fcm', messages: phases([0, steady(40, { payload_too_large: 0.005 })], [10 * M, steady(40, { payload_too_large: 0.005, payload_invalid: 0.05 })]) }],
    expect: [
      {
        alertname: 'PushPayloadRejected',
        at: 30 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'fcm' },
            annotations: {
              summary: 'Push provider fcm rejects message payloads.',
              description:
                '5.5% of the messages fcm from push-sender sent in the last 5 minutes were refused as payload_invalid or payload_too_large (alert above 1%). Usually a deploy changed the message format; those users get nothing.',
              runbook_url: runbook('push-payload-rejected'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'rate limited',
    duration: 50 * M,
    senders: [{ provider: 'expo', messages: phases([0, healthy(20)], [10 * M, steady(20, { rate_limited: 0.1 })]) }],
    expect: [
      {
        alertname: 'PushRateLimited',
        at: 40 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'expo' },
            annotations: {
              summary: 'Push provider expo is rate limiting the sender.',
              description:
                '10% of the messages expo from push-sender sent in the last 5 minutes were refused as rate_limited (alert above 5%). They arrive late, or never unless the sender backs off and retries.',
              runbook_url: runbook('push-rate-limited'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'invalid token surge',
    duration: 3 * H,
    senders: [{ provider: 'apns', app: 'com.example.app', messages: phases([0, steady(20, { unregistered: 0.05 })], [2 * H, steady(20, { unregistered: 0.05, invalid_token: 0.4 })]) }],
    expect: [
      {
        alertname: 'PushInvalidTokenSurge',
        at: 2 * H + 40 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Invalid push tokens for apns jumped above their baseline.',
              description:
                '45% of the messages apns (com.example.app) from push-sender sent in the last 15 minutes were refused as unregistered or invalid_token: over 2 times the share of the past day and 5% above it. A sudden wave usually means tokens sent to the wrong environment (APNs sandbox vs production) or the wrong app.',
              runbook_url: runbook('push-invalid-token-surge'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'invalid-token verdicts held',
    duration: 60 * M,
    senders: [
      {
        provider: 'apns',
        app: 'com.example.app',
        // The wrong APNs environment from 10 to 20 minutes: 90% BadDeviceToken, which the surge guard holds (with the churn of those calls).
        messages: phases([0, steady(20, { unregistered: 0.02 })], [10 * M, steady(20, { unregistered: 0.02, invalid_token: 0.9 })], [20 * M, steady(20, { unregistered: 0.02 })]),
        held: (t) => (t > 10 * M && t <= 20 * M ? 20 * STEP * 0.92 : 0),
      },
      // 30% stale tokens every minute of the hour, never a mass verdict: the counter stays flat at 0.
      { provider: 'fcm', app: 'com.example.app', messages: steady(20, { unregistered: 0.3 }), held: () => 0 },
    ],
    expect: [
      { alertname: 'PushInvalidTokensHeld', at: 10 * M, alerts: [] },
      {
        alertname: 'PushInvalidTokensHeld',
        at: 15 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Invalid-token verdicts for apns are held back from token pruning.',
              // 20 steps of 276 held verdicts since 10 minutes in.
              description:
                'The surge guard of apns (com.example.app) from push-sender held about 5520 unregistered or invalid_token verdicts back from onInvalidToken in the last 15 minutes: one call or one window of calls said most of its recipients were gone, which is likelier a bad key, the wrong APNs environment or a provider fault than real uninstalls. No token is pruned until a person calls release() or discard() on telemetry.heldInvalidTokens(); /healthz lists the open holds. This alert resolving does not close them.',
              runbook_url: runbook('push-invalid-tokens-held'),
            },
          },
        ],
      },
      { alertname: 'PushInvalidTokensHeld', at: 40 * M, alerts: [] },
    ],
  },
  {
    name: 'one held batch on a quiet sender',
    duration: 60 * M,
    senders: [{ provider: 'webpush', messages: trickle(5 * M, () => undefined), held: (t) => (t === 30 * M ? 25 : 0) }],
    expect: [
      {
        alertname: 'PushInvalidTokensHeld',
        at: 32 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'webpush' },
            annotations: {
              summary: 'Invalid-token verdicts for webpush are held back from token pruning.',
              description:
                'The surge guard of webpush from push-sender held about 25 unregistered or invalid_token verdicts back from onInvalidToken in the last 15 minutes: one call or one window of calls said most of its recipients were gone, which is likelier a bad key, the wrong APNs environment or a provider fault than real uninstalls. No token is pruned until a person calls release() or discard() on telemetry.heldInvalidTokens(); /healthz lists the open holds. This alert resolving does not close them.',
              runbook_url: runbook('push-invalid-tokens-held'),
            },
          },
        ],
      },
      { alertname: 'PushInvalidTokensHeld', at: 50 * M, alerts: [] },
    ],
  },
  {
    name: 'provider latency',
    duration: 40 * M,
    senders: [{ provider: 'fcm', messages: healthy(20), calls: (t) => ({ calls: 20 * STEP, slow: t > 10 * M ? 0.05 : 0.005 }) }],
    expect: [
      {
        alertname: 'PushLatencyHigh',
        at: 30 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'fcm' },
            annotations: {
              summary: 'Push provider fcm is slow to answer.',
              description:
                'The p99 latency of the calls fcm from push-sender makes is 4.5s over the last 5 minutes (alert above 2.5s). Notifications arrive late and senders may time out.',
              runbook_url: runbook('push-latency-high'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'slow error budget burn',
    duration: 4 * H,
    senders: [{ provider: 'sns', messages: steady(20, { unknown: 0.02, unregistered: 0.1 }) }],
    expect: [
      {
        alertname: 'PushErrorBudgetBurn',
        at: 3 * H + 30 * M,
        alerts: ['1d', '3d'].map((tier) => ({
          labels: { severity: 'warning', tier, job: JOB, provider: 'sns' },
          annotations: {
            summary: 'The push error budget of sns is burning too fast.',
            // 2% failed of the 90% that count: the 10% unregistered are outside the SLO, so the burn is 2/90 ÷ 0.5% = 4.444.
            description: `sns from push-sender is failing messages 4.444 times faster than its 99.5% SLO over 30d allows, over the last ${tier} and ${tier === '1d' ? '2h' : '6h'} (alert above ${tier === '1d' ? 3 : 1}×, which spends 10% of the budget in ${tier}). Every failure counts except unregistered, invalid_token and canceled (the audience's or the caller's).`,
            runbook_url: runbook('push-error-budget-burn'),
          },
        })),
      },
    ],
  },
];

/** The single firing episode of an alert: fails when it never fired or fired more than once (flapped). */
function episode(result: ScenarioResult, alertname: string, labels: Record<string, string> = {}): Firing {
  const found = firings(result, alertname, labels);
  assert.equal(found.length, 1, `${alertname} ${JSON.stringify(labels)} fired as ${found.length} series: ${JSON.stringify(result.firing)}`);
  const [only] = found as [Firing];
  assert.equal(only.evaluations, (only.last - only.first) / STEP + 1, `${alertname} resolved and fired again (flapped)`);
  return only;
}

const clock = (seconds: number) => `${Math.floor(seconds / 60)}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;

describe('alert rules under promtool (15 s scrape and evaluation)', () => {
  let dir: string;
  const results = new Map<string, Promise<{ result?: ScenarioResult; error?: unknown }>>();

  before(() => {
    requireBinary('promtool');
    dir = mkdtempSync(path.join(os.tmpdir(), 'push-alerts-'));
    writeFileSync(path.join(dir, 'rules.yaml'), toPrometheusRulesYaml(generateAlertRules()));
    // Scenarios run concurrently, a few at a time; each test awaits its own. Settled into values so none is unhandled.
    const queue = [...SCENARIOS];
    const workers = Math.max(2, os.availableParallelism());
    const slots: Array<Promise<void>> = [];
    const resolvers = new Map<string, (value: { result?: ScenarioResult; error?: unknown }) => void>();
    for (const scenario of SCENARIOS) results.set(scenario.name, new Promise((resolve) => resolvers.set(scenario.name, resolve)));
    for (let i = 0; i < workers; i++) {
      slots.push(
        (async () => {
          for (let scenario = queue.shift(); scenario !== undefined; scenario = queue.shift()) {
            const settle = resolvers.get(scenario.name) as (value: { result?: ScenarioResult; error?: unknown }) => void;
            await runScenario(dir, 'rules.yaml', scenario).then((result) => settle({ result }), (error: unknown) => settle({ error }));
          }
        })(),
      );
    }
  });
  after(async () => {
    await Promise.all(results.values());
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(name: string): Promise<ScenarioResult> {
    const settled = await (results.get(name) as Promise<{ result?: ScenarioResult; error?: unknown }>);
    if (settled.error !== undefined) throw settled.error;
    return settled.result as ScenarioResult;
  }

  const critical = (result: ScenarioResult) => result.firing.filter((f) => f.labels.severity === 'critical');

  it('promtool check rules accepts the shipped defaults and a tuned config', () => {
    const tuned = generateAlertRules({
      selector: 'namespace="push", job=~"sender-.*"',
      labelFilters: 'cluster="eu-1"',
      sloTarget: 0.999,
      sloPeriod: '28d',
      extraLabels: { team: 'mobile' },
      alerts: { PushLatencyHigh: { threshold: 1, for: '5m', severity: 'critical' }, PushRateLimited: { disabled: true } },
    });
    for (const [name, groups] of [['defaults', generateAlertRules()], ['tuned', tuned]] as const) {
      const file = path.join(dir, `check-${name}.yaml`);
      writeFileSync(file, toPrometheusRulesYaml(groups));
      const output = execFileSync(requireBinary('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
      assert.match(output, /SUCCESS: \d+ rules found/, name);
    }
  });

  it('total outage of one provider: critical within 3 minutes, resolved within 10 minutes of recovery', async (t) => {
    const result = await run('total outage of one provider');
    const outage = episode(result, 'PushProviderOutage', { provider: 'fcm' });
    const [onset, recovery] = [20 * M, 35 * M];
    const resolved = outage.last + STEP;
    t.diagnostic(`PushProviderOutage fired ${clock(outage.first - onset)} after onset, resolved ${clock(resolved - recovery)} after recovery`);
    assert.ok(outage.first > onset && outage.first - onset <= 3 * M, `fired at ${clock(outage.first)}`);
    assert.ok(resolved - recovery <= 10 * M, `resolved at ${clock(resolved)}`);
    assert.deepEqual(result.firing.filter((f) => f.labels.provider !== 'fcm'), [], 'the healthy provider stays quiet');
    // The outage also burns the fast error-budget tiers; they keep their own reset times (Alertmanager inhibits them under the outage).
    for (const tier of ['1h', '6h']) t.diagnostic(`PushErrorBudgetBurn tier ${tier} fired ${clock(episode(result, 'PushErrorBudgetBurn', { tier }).first - onset)} after onset`);
  });

  it('nothing accepted with unclassified errors: PushProviderOutage within 7 minutes', async (t) => {
    const result = await run('nothing accepted, errors unclassified');
    const outage = episode(result, 'PushProviderOutage');
    t.diagnostic(`fired ${clock(outage.first - 10 * M)} after onset, resolved ${clock(outage.last + STEP - 25 * M)} after recovery`);
    assert.ok(outage.first > 10 * M && outage.first - 10 * M <= 7 * M);
    assert.ok(outage.last + STEP - 25 * M <= 10 * M);
    assert.deepEqual(firings(result, 'PushProviderErrorRateHigh'), [], 'unknown errors are not provider-owned');
  });

  it('credentials rejected on every send: critical within 3 minutes, and it is not called an outage', async (t) => {
    const result = await run('credentials rejected on every send');
    const credentials = episode(result, 'PushCredentialsRejected');
    t.diagnostic(`PushCredentialsRejected fired ${clock(credentials.first - 10 * M)} after onset, resolved ${clock(credentials.last + STEP - 25 * M)} after the fix`);
    assert.ok(credentials.first > 10 * M && credentials.first - 10 * M <= 3 * M);
    assert.deepEqual(firings(result, 'PushProviderOutage'), []);
  });

  it('a trickle sender whose key is revoked still pages: 3 rejections and nothing accepted in 30 minutes', async (t) => {
    const result = await run('a trickle sender with a revoked key');
    const credentials = episode(result, 'PushCredentialsRejected');
    t.diagnostic(`fired ${clock(credentials.first - 1 * H)} after the first rejected send`);
    assert.ok(credentials.first > 1 * H + 30 * M && credentials.first - 1 * H <= 40 * M);
    assert.deepEqual(critical(result).filter((f) => f.alertname !== 'PushCredentialsRejected'), []);
  });

  it('10% provider errors: an alert within 15 minutes, no outage page', async (t) => {
    const result = await run('10% provider errors');
    const errors = episode(result, 'PushProviderErrorRateHigh');
    t.diagnostic(`PushProviderErrorRateHigh fired ${clock(errors.first - 10 * M)} after onset`);
    assert.ok(errors.first - 10 * M <= 15 * M && errors.first - 10 * M >= 10 * M, 'not before its 10m hold');
    assert.deepEqual(firings(result, 'PushProviderOutage'), []);
    // 10% is 20× the 0.5% budget: the 1h tier pages once the hour's ratio passes 14.4× (~43 minutes in with a long
    // healthy history; sooner here, where the 1h window holds only 10 healthy minutes).
    for (const burn of firings(result, 'PushErrorBudgetBurn')) t.diagnostic(`PushErrorBudgetBurn tier ${burn.labels.tier} fired ${clock(burn.first - 10 * M)} after onset`);
  });

  it('0.3% background provider errors and 30% unregistered for 24 h: no alert at all, so no critical ever', async () => {
    const result = await run('0.3% provider errors and 30% unregistered for 24 h');
    assert.deepEqual(result.firing, []);
  });

  it('one message every 5 minutes with an occasional failure: no alert at all, so no critical ever', async () => {
    const result = await run('one message every 5 minutes with an occasional failure');
    assert.deepEqual(result.firing, []);
  });

  it('sender process gone: critical within 5 minutes, resolved when it is back', async (t) => {
    const result = await run('sender process gone');
    const down = episode(result, 'PushSenderDown', { instance: INSTANCE });
    t.diagnostic(`PushSenderDown fired ${clock(down.first - 10 * M)} after the process died, resolved ${clock(down.last + STEP - 25 * M)} after it came back`);
    assert.ok(down.first > 10 * M && down.first - 10 * M <= 5 * M);
    assert.ok(down.last < 26 * M);
    assert.deepEqual(result.firing.filter((f) => f.alertname !== 'PushSenderDown'), [], 'no symptom alerts from the missing data');
  });

  it('sender gone from service discovery: critical within 5 minutes', async (t) => {
    const result = await run('sender gone from service discovery');
    const down = episode(result, 'PushSenderDown');
    t.diagnostic(`PushSenderDown (absent) fired ${clock(down.first - 10 * M)} after the target vanished`);
    assert.ok(down.first > 10 * M && down.first - 10 * M <= 5 * M);
  });

  it('sender runs without push-telemetry: critical within 5 minutes', async (t) => {
    const result = await run('sender runs without push-telemetry');
    const down = episode(result, 'PushSenderDown', { instance: INSTANCE });
    t.diagnostic(`PushSenderDown (no push_telemetry_info) fired ${clock(down.first - 10 * M)} after it vanished`);
    assert.ok(down.first > 10 * M && down.first - 10 * M <= 5 * M);
  });

  /** Pages that only the error budget sends: sender- and capacity-owned failures count against the SLO. */
  function budgetPages(t: { diagnostic(message: string): void }, result: ScenarioResult, onset: number): void {
    assert.deepEqual(critical(result).filter((f) => f.alertname !== 'PushErrorBudgetBurn'), []);
    for (const burn of firings(result, 'PushErrorBudgetBurn')) t.diagnostic(`PushErrorBudgetBurn tier ${burn.labels.tier} fired ${clock(burn.first - onset)} after onset`);
  }

  it('payloads rejected after a deploy: a ticket within 10 minutes (0.5% before it stays quiet); only the error budget pages', async (t) => {
    const result = await run('payloads rejected after a deploy');
    const payload = episode(result, 'PushPayloadRejected');
    t.diagnostic(`PushPayloadRejected fired ${clock(payload.first - 10 * M)} after the deploy`);
    assert.ok(payload.first > 10 * M + 5 * M && payload.first - 10 * M <= 10 * M);
    // 5.5% lost is 11× the budget: the 6h tier pages within the hour, the only page.
    budgetPages(t, result, 10 * M);
  });

  it('10% rate limited: a ticket within 15 minutes; only the error budget pages', async (t) => {
    const result = await run('rate limited');
    const limited = episode(result, 'PushRateLimited');
    t.diagnostic(`PushRateLimited fired ${clock(limited.first - 10 * M)} after onset`);
    assert.ok(limited.first - 10 * M >= 10 * M && limited.first - 10 * M <= 15 * M);
    budgetPages(t, result, 10 * M);
  });

  it('invalid tokens jump from 5% to 45%: a ticket within 35 minutes, never a page', async (t) => {
    const result = await run('invalid token surge');
    const surge = episode(result, 'PushInvalidTokenSurge');
    t.diagnostic(`PushInvalidTokenSurge fired ${clock(surge.first - 2 * H)} after the jump`);
    assert.ok(surge.first > 2 * H + 15 * M && surge.first - 2 * H <= 35 * M);
    assert.deepEqual(critical(result), [], 'audience-owned failures never page');
  });

  it('verdicts held for 10 minutes: a ticket within 2 minutes that stays open while they are held, resolved 15 minutes after; flat 0 stays quiet', async (t) => {
    const result = await run('invalid-token verdicts held');
    const held = episode(result, 'PushInvalidTokensHeld', { provider: 'apns' });
    const [onset, stop] = [10 * M, 20 * M];
    const resolved = held.last + STEP;
    t.diagnostic(`PushInvalidTokensHeld fired ${clock(held.first - onset)} after the first held verdict, resolved ${clock(resolved - stop)} after the last`);
    assert.ok(held.first > onset && held.first - onset <= 2 * M, `fired at ${clock(held.first)}`);
    // One episode from onset to past the last held verdict: no resolve-and-reopen while the guard keeps holding.
    assert.ok(held.last > stop, `resolved at ${clock(resolved)}, while verdicts were still being held`);
    assert.ok(resolved - stop >= 14 * M && resolved - stop <= 16 * M, `resolved at ${clock(resolved)}`);
    assert.deepEqual(firings(result, 'PushInvalidTokensHeld', { provider: 'fcm' }), [], 'steady churn with the counter flat at 0 stays quiet');
    assert.deepEqual(critical(result), [], 'held verdicts are a ticket, never a page');
    for (const surge of firings(result, 'PushInvalidTokenSurge')) t.diagnostic(`PushInvalidTokenSurge (${surge.labels.provider}) fired ${clock(surge.first - onset)} after onset`);
  });

  it('one held batch on a sender far below the traffic guard: a ticket all the same, for 15 minutes', async (t) => {
    const result = await run('one held batch on a quiet sender');
    const held = episode(result, 'PushInvalidTokensHeld');
    t.diagnostic(`fired ${clock(held.first - 30 * M)} after the batch, resolved ${clock(held.last + STEP - 30 * M)} after it`);
    assert.ok(held.first > 30 * M && held.first - 30 * M <= 2 * M);
    assert.ok(held.last + STEP - 30 * M <= 16 * M);
    assert.deepEqual(result.firing.filter((f) => f.alertname !== 'PushInvalidTokensHeld'), []);
  });

  it('p99 latency from 0.25 s to 4.5 s: a ticket within 15 minutes', async (t) => {
    const result = await run('provider latency');
    const slow = episode(result, 'PushLatencyHigh');
    t.diagnostic(`PushLatencyHigh fired ${clock(slow.first - 10 * M)} after onset`);
    assert.ok(slow.first - 10 * M >= 10 * M && slow.first - 10 * M <= 15 * M);
  });

  it('a 4× budget burn opens the 1d and 3d ticket tiers, never the paging ones', async (t) => {
    const result = await run('slow error budget burn');
    for (const tier of ['1d', '3d']) t.diagnostic(`PushErrorBudgetBurn tier ${tier} fired at ${clock(episode(result, 'PushErrorBudgetBurn', { tier }).first)}`);
    assert.deepEqual(critical(result), []);
  });
});
