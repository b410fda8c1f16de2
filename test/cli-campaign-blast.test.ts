import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PushTelemetry } from '../src/index.js';
import { campaignFor, steadyGroup, strategyOptions } from '../src/cli/campaign.js';
import { createClients, type DemoClients } from '../src/cli/clients/index.js';
import { SCENARIOS, Timeline, type Scenario } from '../src/cli/scenarios.js';
import { TokenStore } from '../src/cli/tokens.js';
import { Traffic } from '../src/cli/traffic.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { scrape, valueOf, type Sample } from './helpers.js';

/**
 * The demo's campaign-blast scenario played in process with the demo's own parts (real SDKs through the simulator,
 * its traffic loop, timeline and marketing sender), its phases compressed from minutes to seconds.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PHASES_AT = [0, 500, 3_000, 5_500, 8_000];

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
    // The cap scaled with the time: in 8 s each of the 20 marketing recipients gets about 7 pushes, each of the 200
    // transactional ones about 1 (the demo's 60 is for minutes).
    telemetry = new PushTelemetry(strategyOptions({ ...scenario, sendFrequency: { cap: 3 } }));
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
    // One scrape at the end of each blast phase, and one after the campaign.
    for (const at of [2_900, 5_400, 7_900, 8_600]) {
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
    const last = snapshots.at(-1) as Sample[];
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
    const last = snapshots.at(-1) as Sample[];
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
});
