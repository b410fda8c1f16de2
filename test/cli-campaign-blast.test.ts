import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PushTelemetry } from '../src/index.js';
import {
  campaignFor,
  campaignToken,
  CompressedDayFrequency,
  demoTelemetry,
  steadyGroup,
  type CampaignPlan,
} from '../src/cli/campaign.js';
import { createClients, DEMO_PROVIDERS, type DemoClients } from '../src/cli/clients/index.js';
import { DEMO_APP } from '../src/cli/clients/types.js';
import { campaignAt, SCENARIOS, steadyAudience, Timeline, type Phase, type Scenario } from '../src/cli/scenarios.js';
import { TokenStore } from '../src/cli/tokens.js';
import { DEFAULT_SAMPLE_SIZE } from '../src/core/send-frequency.js';
import { OVER_CAP_MIN_RECIPIENTS } from '../src/monitoring/alerts/rules.js';
import { OVER_SEND_CAP_SHARE } from '../src/monitoring/promql.js';
import { Traffic } from '../src/cli/traffic.js';
import { storeFor } from '../src/metrics/prom-client-binding.js';
import { emptySnapshot, type FrequencySnapshot } from '../src/metrics/recipient-frequency.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { scrape, seeded, valueOf, type Sample } from './helpers.js';

/**
 * The demo's campaign-blast scenario played in process with the demo's own parts (real SDKs through the simulator,
 * its telemetry, traffic loop, timeline and marketing sender), its phases compressed from minutes to seconds; then its
 * send-frequency design played over simulated hours at rates from the CLI's lowest to its highest.
 */

const M = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PHASES_AT = [0, 500, 3_000, 5_500, 8_000];
/** The send-frequency day, compressed with the phases: the blast's pushes have all left it 6 s after it ends. */
const TEST_DAY_MS = 6_000;

function sum(samples: readonly Sample[], where: (labels: Readonly<Record<string, string>>) => boolean): number {
  return samples
    .filter((s) => s.name === 'push_messages_total' && where(s.labels))
    .reduce((total, s) => total + s.value, 0);
}

describe("the demo's campaign-blast scenario, compressed to seconds", () => {
  let simulator: Simulator;
  let clients: DemoClients;
  let marketing: Awaited<ReturnType<typeof campaignFor>>;
  let traffic: Traffic;
  let driver: NodeJS.Timeout;
  let telemetry: PushTelemetry;
  const snapshots: Sample[][] = [];

  before(async () => {
    const scenario = SCENARIOS.find((s) => s.name === 'campaign-blast') as Scenario;
    assert.ok(scenario, 'the scenario ships');
    assert.equal(scenario.phases.length, PHASES_AT.length);
    const compressed: Scenario = {
      ...scenario,
      phases: scenario.phases.map((phase, i) => ({ ...phase, at: PHASES_AT[i] as number })),
    };
    simulator = await startSimulator({ providers: ['fcm', 'apns', 'webpush', 'expo', 'sns'] });
    // The cap and the day scaled with the phases: in a 6 s day each of the 20 marketing recipients gets about 6
    // pushes, each of the 200 transactional ones under 1.
    telemetry = demoTelemetry({ ...scenario, sendFrequency: { cap: 3, dayMs: TEST_DAY_MS } });
    clients = await createClients(simulator, { telemetry, timeoutMs: 2_000, ...steadyGroup(scenario) });
    marketing = await campaignFor(simulator, telemetry, scenario, 2_000);
    assert.ok(marketing);
    const campaign = marketing.campaign;
    traffic = new Traffic({ rate: 100, tokens: new TokenStore(), send: clients.send });
    const timeline = new Timeline(compressed, simulator, (phase) => {
      campaign.plan = phase.campaign;
    });
    const start = Date.now();
    timeline.advance(0);
    traffic.start();
    driver = setInterval(() => timeline.advance(Date.now() - start), 20);
    // One scrape at the end of each blast phase, one after the campaign, and one once its day has passed.
    for (const at of [2_900, 5_400, 7_900, 8_600, 8_000 + TEST_DAY_MS + 600]) {
      await sleep(Math.max(0, at - (Date.now() - start)));
      snapshots.push((await scrape(telemetry)).samples);
    }
  });
  after(async () => {
    clearInterval(driver);
    await traffic?.stop(3_000);
    await marketing?.close();
    await clients?.close();
    await simulator?.close();
  });

  it('over-sends the marketing group, whose unregistered share climbs while transactional stays healthy', () => {
    const share = (samples: readonly Sample[], group: string) =>
      sum(samples, (l) => l.group === group && l.error_type === 'unregistered') /
      sum(samples, (l) => l.group === group);
    const shares = snapshots.slice(0, 3).map((samples) => share(samples, 'marketing'));
    assert.ok((shares[0] as number) > 0, `marketing unregistered share ${shares.join(', ')}`);
    assert.ok(
      (shares[0] as number) < (shares[1] as number) && (shares[1] as number) < (shares[2] as number),
      `climbing: ${shares.join(', ')}`,
    );
    const last = snapshots[3] as Sample[];
    assert.ok(sum(last, (l) => l.group === 'transactional' && l.outcome === 'accepted') > 0);
    assert.equal(
      sum(last, (l) => l.group === 'transactional' && l.outcome === 'failed'),
      0,
      'transactional healthy',
    );
    // The campaign went through FCM only.
    assert.equal(
      sum(last, (l) => l.group === 'marketing' && l.provider !== 'fcm'),
      0,
    );
  });

  it("puts FCM's recipients over the send cap past PushRecipientsOverSendCap's threshold, and no other provider's", () => {
    // The demo's telemetry counts into the compressed-day samples it put on every provider.
    for (const provider of DEMO_PROVIDERS)
      assert.ok(storeFor(telemetry.registry).sender(provider, DEMO_APP).frequency instanceof CompressedDayFrequency);
    const last = snapshots[3] as Sample[];
    const labels = last.find((s) => s.name === 'push_recipients_over_send_cap_ratio' && s.labels.provider === 'fcm')
      ?.labels as Record<string, string>;
    assert.ok(labels, 'FCM has the share');
    const ratio = valueOf(last, 'push_recipients_over_send_cap_ratio', labels) as number;
    const recipients = valueOf(last, 'push_recipient_daily_sends_count', labels) as number;
    // The 20 over-sent marketing recipients, among them and the transactional ones reached so far.
    assert.ok(ratio > 0.05, `share over the cap ${ratio}`);
    // Refused pushes (the uninstalls) are no pushes received: not every one of the 20 passes the cap.
    const over = Math.round(ratio * recipients);
    assert.ok(over >= 10 && over <= 20, `${over} of ${recipients} recipients over the cap`);
    assert.ok(recipients >= 100, `${recipients} recipients (the alert's guard is 100)`);
    for (const sample of last.filter((s) => s.name === 'push_recipients_over_send_cap_ratio'))
      if (sample.labels.provider !== 'fcm') assert.equal(sample.value, 0, sample.labels.provider);
  });

  it('forgets the blast once its day has passed: nobody is over the cap while the steady traffic goes on', () => {
    const later = snapshots[4] as Sample[];
    const fcm = { provider: 'fcm', app: DEMO_APP };
    assert.equal(valueOf(later, 'push_recipients_over_send_cap_ratio', fcm), 0);
    const recipients = valueOf(later, 'push_recipient_daily_sends_count', fcm) as number;
    assert.ok(recipients >= 100, `${recipients} steady recipients still counted in the day`);
  });
});

describe("campaign-blast's send frequency over simulated hours, at any --rate", () => {
  const scenario = SCENARIOS.find((s) => s.name === 'campaign-blast') as Scenario;
  const frequency = scenario.sendFrequency;
  const loopMs = scenario.loopMs as number;
  const blastStart = scenario.phases.find((phase) => phase.campaign !== undefined)?.at as number;
  const blastOver = scenario.phases.find((phase) => phase.at > blastStart && phase.campaign === undefined)
    ?.at as number;
  const TICK_MS = 100;
  const CHECK_EVERY_MS = 5_000;
  // performance.now() when the demo's traffic starts; any value, so the sample's hours need not line up with the loop.
  const T0 = 4_321_987;

  const phaseAt = (offset: number): Phase =>
    [...scenario.phases].reverse().find((phase) => phase.at <= offset) ?? (scenario.phases[0] as Phase);
  const firing = (snapshot: FrequencySnapshot) =>
    snapshot.count >= OVER_CAP_MIN_RECIPIENTS && snapshot.overCap / snapshot.count > OVER_SEND_CAP_SHARE;

  interface Verdicts {
    /** Per loop: whether the alert's condition held at every check of the blast's last two minutes. */
    readonly firedLate: boolean[];
    /** Per loop: whether it was false, with nobody over the cap, at every check from 40 s after the blast to the next. */
    readonly quietBetween: boolean[];
    /** The most any steady recipient's day held, on average per recipient, and the most over the cap (must be 0). */
    steadyMean: number;
    /** Whether the alert's condition held at any check. */
    everFired: boolean;
    steadyOver: number;
    audience: number;
  }

  /**
   * The demo's FCM traffic at `rate`, as Traffic and Campaign send it (every 100 ms what the rate accrued, tokens
   * round-robin from the TokenStore and the campaign's audience), into the sample the demo's telemetry uses, with the
   * simulator's uninstalls taken out as the telemetry takes refused pushes out.
   */
  function play(rate: number, totalMs: number): Verdicts {
    assert.ok(frequency, 'the scenario counts sends per recipient');
    const steady = steadyAudience(scenario, rate);
    const tokens = new TokenStore(steady);
    const all = new CompressedDayFrequency(DEFAULT_SAMPLE_SIZE, frequency.cap, frequency.dayMs);
    const steadyOnly = new CompressedDayFrequency(DEFAULT_SAMPLE_SIZE, frequency.cap, frequency.dayMs);
    const out: Verdicts = {
      firedLate: [],
      quietBetween: [],
      steadyMean: 0,
      everFired: false,
      steadyOver: 0,
      audience: 0,
    };
    let steadyCredit = 0;
    let campaignCredit = 0;
    // The simulator refuses each push to an uninstalled share at random, not the same recipients every round.
    const random = seeded(rate * 1000);
    let next = 0;
    const snapshot = emptySnapshot();
    for (let t = 0; t < totalMs; t += TICK_MS) {
      const loop = Math.floor(t / loopMs);
      const offset = t % loopMs;
      const phase = phaseAt(offset);
      const now = T0 + t;
      steadyCredit += (rate / DEMO_PROVIDERS.length) * (TICK_MS / 1000);
      for (const token of tokens.take('fcm', Math.floor(steadyCredit))) {
        all.record(token, now);
        steadyOnly.record(token, now);
      }
      steadyCredit %= 1;
      if (phase.campaign !== undefined) {
        const plan: CampaignPlan = campaignAt(phase.campaign, steady);
        out.audience = plan.audience;
        const uninstalled = phase.faults.fcm?.[0]?.rate ?? 0;
        campaignCredit += plan.rate * (TICK_MS / 1000);
        for (let n = Math.floor(campaignCredit); n > 0; n--) {
          const token = campaignToken(next++ % plan.audience);
          if (random() >= uninstalled) all.record(token, now);
        }
        campaignCredit %= 1;
      }
      if (t % CHECK_EVERY_MS !== 0) continue;
      const steadyDay = steadyOnly.snapshot(now, snapshot);
      out.steadyOver = Math.max(out.steadyOver, steadyDay.overCap);
      if (steadyDay.count > 0) out.steadyMean = Math.max(out.steadyMean, steadyDay.sum / steadyDay.count);
      const day = all.snapshot(now, snapshot);
      out.everFired ||= firing(day);
      if (offset >= blastStart + M && offset < blastOver)
        out.firedLate[loop] = (out.firedLate[loop] ?? true) && firing(day);
      // Between a blast and the next: from 40 s after it ends to the next one's start, in the loop after.
      const since = offset >= blastOver + 40_000 ? loop : offset < blastStart && loop > 0 ? loop - 1 : undefined;
      if (since !== undefined)
        out.quietBetween[since] = (out.quietBetween[since] ?? true) && !firing(day) && day.overCap === 0;
    }
    return out;
  }

  for (const [rate, hours] of [
    [50, 4],
    [10, 2],
    [500, 1],
    [5000, 0.15],
  ] as const)
    it(`at --rate ${rate} for ${hours} h: only the campaign's recipients pass the cap, and the alert fires in every blast and resolves before the next`, () => {
      const verdicts = play(rate, hours * 3_600_000);
      const loops = Math.floor((hours * 3_600_000) / loopMs);
      assert.equal(verdicts.steadyOver, 0, 'no steady recipient over the cap');
      assert.ok(
        verdicts.steadyMean <= (frequency?.cap as number) / 4 + 0.5,
        `steady recipients get ${verdicts.steadyMean.toFixed(1)} pushes a day on average, cap ${frequency?.cap}`,
      );
      assert.ok(verdicts.firedLate.length >= loops, `${verdicts.firedLate.length} blasts in ${hours} h`);
      assert.ok(verdicts.firedLate.every(Boolean), `fired in every blast: ${verdicts.firedLate}`);
      assert.ok(verdicts.quietBetween.length >= loops - 1);
      assert.ok(verdicts.quietBetween.every(Boolean), `resolved between blasts: ${verdicts.quietBetween}`);
      assert.ok(verdicts.audience >= 20, `${verdicts.audience} campaign recipients`);
    });

  it('at --rate 0.1 (too few recipients for the alert): still nobody but the campaign over the cap, and no alert', () => {
    const verdicts = play(0.1, 2 * 3_600_000);
    assert.equal(verdicts.steadyOver, 0);
    assert.equal(verdicts.everFired, false, 'the alert needs 100 recipients in the day');
  });
});
