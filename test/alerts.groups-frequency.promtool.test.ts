import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateAlertRules, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../src/monitoring/config.js';
import {
  firings,
  JOB,
  phases,
  runScenario,
  STEP,
  steady,
  type Firing,
  type Scenario,
  type SenderSpec,
} from './alerts-promtool.js';
import { requireBinary } from './prometheus.js';

/**
 * The opt-in features under promtool: every shipped alert fires the same whether push_messages_total and the duration
 * histogram carry the `group` label or not, and PushRecipientsOverSendCap fires on the share over the cap.
 */

const M = 60;
const H = 3600;
/** Integer counts per 15 s step for these rates, so the split into groups rounds nowhere. */
const GROUPS = { transactional: 0.6, marketing: 0.4 } as const;

/** Alert scenarios of the shipped rules, each run as is and with its traffic split into groups. */
const BASE: readonly Scenario[] = [
  {
    name: 'outage',
    duration: 60 * M,
    senders: [
      {
        provider: 'fcm',
        app: 'com.example.app',
        messages: phases([0, steady(10)], [20 * M, steady(10, { provider_unavailable: 1 })], [35 * M, steady(10)]),
      },
      { provider: 'apns', app: 'com.example.app', messages: steady(10) },
    ],
  },
  {
    name: 'provider errors',
    duration: 40 * M,
    senders: [{ provider: 'webpush', messages: phases([0, steady(20)], [10 * M, steady(20, { network: 0.1 })]) }],
  },
  {
    name: 'invalid token surge',
    duration: 3 * H,
    senders: [
      {
        provider: 'apns',
        messages: phases(
          [0, steady(20, { unregistered: 0.05 })],
          [2 * H, steady(20, { unregistered: 0.05, invalid_token: 0.4 })],
        ),
      },
    ],
  },
  {
    name: 'latency',
    duration: 40 * M,
    senders: [
      {
        provider: 'fcm',
        messages: steady(20),
        calls: (t) => ({ calls: 20 * STEP, slow: t > 10 * M ? 0.05 : 0 }),
      },
    ],
  },
];

function grouped(scenario: Scenario): Scenario {
  return {
    ...scenario,
    name: `${scenario.name} (grouped)`,
    senders: scenario.senders.map((sender): SenderSpec => ({ ...sender, groups: GROUPS })),
  };
}

const OVER_CAP = 'PushRecipientsOverSendCap';
const FREQUENCY: Scenario = {
  name: 'recipients over the send cap',
  duration: 3 * H,
  senders: [
    {
      // A marketing blast from 1 h: the share over the cap climbs from 1% to 12% over half an hour.
      provider: 'fcm',
      app: 'shop',
      messages: steady(10),
      groups: GROUPS,
      sendFrequency: (t) => ({
        recipients: 5000,
        overCap: t <= H ? 0.01 : Math.min(0.12, 0.01 + ((t - H) / (30 * M)) * 0.11),
      }),
    },
    // Half of a handful over the cap is no strategy: under the recipient guard.
    { provider: 'apns', app: 'shop', messages: steady(1), sendFrequency: () => ({ recipients: 40, overCap: 0.5 }) },
    // At the threshold exactly, never above it.
    { provider: 'webpush', messages: steady(1), sendFrequency: () => ({ recipients: 2000, overCap: 0.05 }) },
  ],
  expect: [
    { alertname: OVER_CAP, at: H + 30 * M, alerts: [] },
    {
      alertname: OVER_CAP,
      at: 2 * H + 30 * M,
      alerts: [
        {
          labels: { severity: 'warning', job: JOB, provider: 'fcm', app: 'shop' },
          annotations: {
            summary: 'Too many recipients of fcm pushes are sent more than the cap.',
            description:
              '12% of the recipients fcm (shop) from push-sender pushed to in the last 24 hours received more pushes than sendFrequency.cap (alert above 5%). Over-sent users turn notifications off or uninstall: expect the unregistered rate to climb in the days after. Find the group or campaign sending too often.',
            runbook_url: `${DEFAULT_RUNBOOK_URL_BASE}push-recipients-over-send-cap.md`,
          },
        },
      ],
    },
  ],
};

const SCENARIOS = [...BASE, ...BASE.map(grouped), FREQUENCY];

function summary(firing: readonly Firing[]): string[] {
  return firing.map((f) => `${f.alertname} ${JSON.stringify(f.labels)} ${f.first}–${f.last}`).sort();
}

function key(f: Firing): string {
  return `${f.alertname} ${JSON.stringify(Object.entries(f.labels).sort())}`;
}

/**
 * The same alerts, each starting and ending within one evaluation of the other: Prometheus sums series in no fixed
 * order, so a ratio summed from two groups may differ from the ungrouped one in its last bit, which moves a value
 * that sits exactly on a threshold (these scenarios are built of round numbers) by one evaluation.
 */
function assertSameFiring(actual: readonly Firing[], expected: readonly Firing[]): void {
  assert.deepEqual(actual.map(key).sort(), expected.map(key).sort());
  for (const want of expected) {
    const got = actual.find((f) => key(f) === key(want)) as Firing;
    assert.ok(Math.abs(got.first - want.first) <= STEP, `${key(want)} first ${got.first} vs ${want.first}`);
    assert.ok(Math.abs(got.last - want.last) <= STEP, `${key(want)} last ${got.last} vs ${want.last}`);
  }
}

describe('alert rules with the group label and the send-frequency gauges (promtool)', () => {
  let dir: string;
  const results = new Map<string, Promise<Firing[]>>();

  before(() => {
    requireBinary('promtool');
    dir = mkdtempSync(path.join(os.tmpdir(), 'push-alerts-groups-'));
    writeFileSync(path.join(dir, 'rules.yaml'), toPrometheusRulesYaml(generateAlertRules()));
    // Two at a time: the machine is shared.
    const queue = [...SCENARIOS];
    const settled = new Map<string, (value: Firing[] | Error) => void>();
    for (const scenario of SCENARIOS) {
      const result = new Promise<Firing[] | Error>((resolve) => settled.set(scenario.name, resolve));
      results.set(
        scenario.name,
        result.then((value) => {
          if (value instanceof Error) throw value;
          return value;
        }),
      );
    }
    for (let worker = 0; worker < 2; worker++) {
      void (async () => {
        for (let scenario = queue.shift(); scenario !== undefined; scenario = queue.shift()) {
          const resolve = settled.get(scenario.name) as (value: Firing[] | Error) => void;
          await runScenario(dir, 'rules.yaml', scenario).then(
            (result) => resolve(result.firing),
            (error: unknown) => resolve(error instanceof Error ? error : new Error(String(error))),
          );
        }
      })();
    }
  });
  after(async () => {
    await Promise.allSettled(results.values());
    rmSync(dir, { recursive: true, force: true });
  });

  for (const scenario of BASE) {
    it(`${scenario.name}: the same alerts at the same times with the group label as without`, async (t) => {
      const plain = await (results.get(scenario.name) as Promise<Firing[]>);
      const withGroups = await (results.get(`${scenario.name} (grouped)`) as Promise<Firing[]>);
      t.diagnostic(summary(plain).join('; '));
      assert.ok(plain.length > 0, 'the scenario fires something to compare');
      t.diagnostic(`grouped: ${summary(withGroups).join('; ')}`);
      assertSameFiring(withGroups, plain);
      assert.ok(
        withGroups.every((f) => f.labels.group === undefined),
        'no alert is split by group',
      );
    });
  }

  it('PushRecipientsOverSendCap: a ticket 30 minutes after the share passes 5%, never under the recipient guard or at the threshold', async (t) => {
    const firing = await (results.get(FREQUENCY.name) as Promise<Firing[]>);
    const [over] = firings({ firing, output: '' }, OVER_CAP, { provider: 'fcm' });
    assert.ok(over, 'fired for fcm');
    // 1% + 11% × (t − 1 h) / 30 min passes 5% at 1 h 10 min 55 s.
    const crossed = H + (0.04 / 0.11) * 30 * M;
    t.diagnostic(`fired ${Math.round(over.first - crossed)} s after the share passed 5%`);
    assert.ok(over.first - crossed >= 30 * M && over.first - crossed <= 31 * M, `fired at ${over.first}`);
    assert.deepEqual(
      firing.filter((f) => f.labels.provider !== 'fcm'),
      [],
    );
    assert.ok(firing.every((f) => f.labels.severity === 'warning'));
  });
});

describe('PushRecipientsOverSendCap from the generator', () => {
  it('averages the share over the job, guards on recipients, and takes the threshold as a ratio', () => {
    const rules = generateAlertRules({ labelFilters: 'cluster="eu-1"', alerts: { [OVER_CAP]: { threshold: 0.1 } } });
    const rule = rules.flatMap((g) => g.rules).find((r) => 'alert' in r && r.alert === OVER_CAP);
    assert.ok(rule && 'alert' in rule);
    assert.equal(
      rule.expr,
      'avg by (job, provider, app) (push_recipients_over_send_cap_ratio{job="push-sender", cluster="eu-1"}) > 0.1\n' +
        'and on (job, provider, app)\n' +
        '  sum by (job, provider, app) (push_recipient_daily_sends_count{job="push-sender", cluster="eu-1"}) >= 100',
    );
    assert.equal(rule.for, '30m');
    assert.throws(
      () => generateAlertRules({ alerts: { [OVER_CAP]: { threshold: 5 } } }),
      /must be a ratio from 0 to 1/,
    );
  });
});
