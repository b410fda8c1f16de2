import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateAlertRules, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../src/monitoring/config.js';
import { firings, JOB, runScenario, STEP, type Scenario, type SenderSpec } from './alerts-promtool.js';
import { requireBinary } from './prometheus.js';

/**
 * PushConfirmedDeliveryLow under promtool (15 s scrape and evaluation): the shipped rules against device receipts
 * that collapse, and against everything that must stay quiet: apps that send no receipts, a night lull (fewer
 * sends, devices dozing, receipts late), a small dip, a campaign burst whose receipts trail it, and a trickle.
 */

const M = 60;
const H = 3600;
const ALERT = 'PushConfirmedDeliveryLow';

/** A sender sending `rate(t)` messages/s, all accepted, whose devices confirm `ratio(t)` of them `lag` seconds later. */
function sender(app: string, rate: (t: number) => number, ratio?: (t: number) => number, lag = 5 * M): SenderSpec {
  return {
    provider: 'fcm',
    app,
    messages: (t) => ({ accepted: rate(t) * STEP }),
    ...(ratio !== undefined && { delivered: (t: number) => (t > lag ? ratio(t) * rate(t - lag) * STEP : 0) }),
  };
}

const flat = (value: number) => () => value;
const until = (at: number, before: number, after: number) => (t: number) => (t <= at ? before : after);

const COLLAPSE_AT = 8 * H;
const RECOVERY_AT = 10 * H;

/** `day` messages/s, ramping down over 5h–6h to `low` for the night, and back up over 14h–15h. */
function night(day: number, low: number): (t: number) => number {
  return (t) => {
    if (t <= 5 * H || t > 15 * H) return day;
    if (t <= 6 * H) return day + ((low - day) * (t - 5 * H)) / H;
    if (t <= 14 * H) return low;
    return low + ((day - low) * (t - 14 * H)) / H;
  };
}

const SCENARIOS: Scenario[] = [
  {
    name: 'delivered receipts collapse',
    duration: 12 * H,
    senders: [
      sender('com.example.collapse', flat(2), (t) => (t > COLLAPSE_AT && t <= RECOVERY_AT ? 0.05 : 0.8)),
      // An app that never posts receipts: no series at all.
      sender('com.example.noreceipts', flat(2)),
      // Receipts configured (the series exists) but none ever posted.
      sender('com.example.zero', flat(2), flat(0)),
      // The same collapse on a trickle under the traffic guard.
      sender('com.example.trickle', flat(0.05), until(COLLAPSE_AT, 0.8, 0.05)),
    ],
    expect: [
      { alertname: ALERT, at: COLLAPSE_AT - 5 * M, alerts: [] },
      {
        alertname: ALERT,
        at: COLLAPSE_AT + 2 * H,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'fcm', app: 'com.example.collapse' },
            annotations: {
              summary: 'Devices confirm far fewer fcm deliveries than usual.',
              description:
                'Devices confirmed 5% of the messages fcm (com.example.collapse) from push-sender had accepted in the last hour: under 50% of its usual ratio (the mean over the past day). The provider takes the messages but they do not arrive: a wrong APNs environment or FCM project, expired tokens the provider still accepts, a payload the app drops, or a release that stopped posting receipts.',
              runbook_url: `${DEFAULT_RUNBOOK_URL_BASE}push-confirmed-delivery-low.md`,
            },
          },
        ],
      },
    ],
  },
  {
    name: 'night lull with dozing devices and late receipts',
    duration: 20 * H,
    senders: [
      // Day 2/s; evening ramp down over an hour to 0.15/s (still above the guard) at night, morning ramp back up;
      // at night fewer devices confirm, and 20 minutes late.
      sender('com.example.nightly', night(2, 0.15), (t) => (t > 6 * H && t <= 14 * H ? 0.55 : 0.8), 20 * M),
    ],
  },
  {
    name: 'a small dip and a campaign burst',
    duration: 12 * H,
    senders: [
      // 0.8 → 0.5 for two hours: worse, but not half of usual.
      sender('com.example.dip', flat(2), (t) => (t > 6 * H && t <= 8 * H ? 0.5 : 0.8)),
      // Sending pauses for two hours (nothing accepted: no ratio recorded, never an infinite one), then resumes.
      sender('com.example.pause', (t) => (t > 6 * H && t <= 8 * H ? 0 : 2), flat(0.8), 2 * M),
      // 5 minutes at 40/s on top of 1/s; receipts trail the burst by 15 minutes.
      sender('com.example.campaign', (t) => (t > 7 * H && t <= 7 * H + 5 * M ? 41 : 1), flat(0.7), 15 * M),
    ],
  },
  {
    // A bad release (wrong APNs environment, a payload the app drops) goes out by restarting the process: its
    // receipt series start again at 0, as the receipts endpoint creates them, and stay there.
    name: 'a release that breaks delivery, deployed by a restart',
    duration: 12 * H,
    restarted: (t) => t === COLLAPSE_AT,
    senders: [sender('com.example.release', flat(2), (t) => (t > COLLAPSE_AT ? 0 : 0.8))],
  },
];

describe('PushConfirmedDeliveryLow under promtool', () => {
  let dir: string;
  const results = new Map<string, ReturnType<typeof runScenario>>();

  before(() => {
    requireBinary('promtool');
    dir = mkdtempSync(path.join(os.tmpdir(), 'push-delivery-alerts-'));
    writeFileSync(path.join(dir, 'rules.yaml'), toPrometheusRulesYaml(generateAlertRules()));
    for (const scenario of SCENARIOS) {
      const run = runScenario(dir, 'rules.yaml', scenario);
      run.catch(() => undefined);
      results.set(scenario.name, run);
    }
  });
  after(async () => {
    await Promise.allSettled(results.values());
    rmSync(dir, { recursive: true, force: true });
  });

  it('fires within 75 minutes of a collapse of delivered receipts and resolves within the hour of recovery; never for the app without receipts, at 0 or a trickle', async (t) => {
    const result = await (results.get('delivered receipts collapse') as ReturnType<typeof runScenario>);
    const found = firings(result, ALERT);
    assert.deepEqual(
      found.map((f) => f.labels.app),
      ['com.example.collapse'],
    );
    const [episode] = found as [(typeof found)[number]];
    t.diagnostic(`${ALERT} fired ${Math.round((episode.first - COLLAPSE_AT) / M)} minutes after the collapse`);
    assert.ok(episode.first > COLLAPSE_AT && episode.first - COLLAPSE_AT <= 75 * M, String(episode.first));
    const resolved = episode.last + STEP;
    t.diagnostic(`resolved ${Math.round((resolved - RECOVERY_AT) / M)} minutes after recovery`);
    assert.ok(resolved > RECOVERY_AT && resolved - RECOVERY_AT <= 60 * M, String(resolved));
    assert.equal(episode.evaluations, (episode.last - episode.first) / STEP + 1, 'it never flapped');
  });

  it('fires within 75 minutes of a restart that broke delivery, and stays firing while nothing is confirmed', async (t) => {
    const result = await (results.get('a release that breaks delivery, deployed by a restart') as ReturnType<
      typeof runScenario
    >);
    const found = firings(result, ALERT);
    assert.deepEqual(
      found.map((f) => f.labels.app),
      ['com.example.release'],
    );
    const [episode] = found as [(typeof found)[number]];
    t.diagnostic(`${ALERT} fired ${Math.round((episode.first - COLLAPSE_AT) / M)} minutes after the restart`);
    assert.ok(episode.first > COLLAPSE_AT && episode.first - COLLAPSE_AT <= 75 * M, String(episode.first));
    assert.equal(episode.evaluations, (episode.last - episode.first) / STEP + 1, 'it never flapped');
    assert.ok(episode.last >= 12 * H - 4 * STEP, `still firing at the end: last ${episode.last}`);
  });

  it('stays silent through a night lull with fewer, later receipts', async () => {
    const result = await (results.get('night lull with dozing devices and late receipts') as ReturnType<
      typeof runScenario
    >);
    assert.deepEqual(firings(result, ALERT), []);
  });

  it('stays silent on a small dip in the ratio, a pause in sending, and a campaign burst whose receipts trail it', async () => {
    const result = await (results.get('a small dip and a campaign burst') as ReturnType<typeof runScenario>);
    assert.deepEqual(firings(result, ALERT), []);
  });
});
