import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PushTelemetry } from '../src/index.js';
import { createClients, DEMO_PROVIDERS, type DemoClients, type DemoProvider } from '../src/cli/clients/index.js';
import { LiveStats } from '../src/cli/live-stats.js';
import { LiveView } from '../src/cli/live-view.js';
import { describeRules, SCENARIOS, Timeline, type Scenario } from '../src/cli/scenarios.js';
import { TokenStore } from '../src/cli/tokens.js';
import { Traffic } from '../src/cli/traffic.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';

/**
 * The fcm-hang and stall scenarios played in process, as the demo plays them (real SDKs through the simulator, the
 * demo's traffic loop, timeline, table numbers and view), with their timelines compressed from minutes to seconds:
 * the phases and what each does are the scenario's own, only the `at`s are not.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, deadlineMs: number, probe: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function compressed(name: string, at: readonly number[]): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  assert.ok(scenario, name);
  assert.equal(scenario.phases.length, at.length);
  const { loopMs: _, ...rest } = scenario;
  return { ...rest, phases: scenario.phases.map((phase, i) => ({ ...phase, at: at[i] as number })) };
}

interface Counts {
  readonly completed: number;
  readonly failed: number;
  readonly inFlight: number;
}

/** Per provider: messages whose calls completed, of which failed, and calls in flight, from the registry /metrics serves. */
async function counts(telemetry: PushTelemetry): Promise<Record<DemoProvider, Counts>> {
  const out = Object.fromEntries(DEMO_PROVIDERS.map((p) => [p, { completed: 0, failed: 0, inFlight: 0 }])) as Record<
    DemoProvider,
    { completed: number; failed: number; inFlight: number }
  >;
  for (const metric of await telemetry.registry.getMetricsAsJSON()) {
    for (const sample of metric.values) {
      const into = out[sample.labels.provider as DemoProvider];
      if (into === undefined) continue;
      if (metric.name === 'push_messages_total') {
        into.completed += sample.value;
        if (sample.labels.outcome === 'failed') into.failed += sample.value;
      } else if (metric.name === 'push_requests_in_flight') {
        into.inFlight += sample.value;
      }
    }
  }
  return out;
}

/** What the demo's play() does, minus the terminal: traffic, the timeline driving the fakes and pausing the sender. */
class Run {
  readonly stats: LiveStats;
  readonly lines: string[] = [];
  readonly view = new LiveView({
    write: (text: string) => void this.lines.push(text),
  } as unknown as NodeJS.WriteStream);
  readonly traffic: Traffic;
  readonly timeline: Timeline;
  readonly #start = Date.now();
  readonly #driver: NodeJS.Timeout;

  constructor(
    readonly scenario: Scenario,
    simulator: Simulator,
    readonly telemetry: PushTelemetry,
    readonly clients: DemoClients,
  ) {
    this.stats = new LiveStats(telemetry);
    const tokens = new TokenStore();
    this.traffic = new Traffic({ rate: 100, tokens, send: clients.send });
    this.timeline = new Timeline(scenario, simulator, (phase) => {
      this.traffic.paused = phase.stalled === true;
      this.view.event(`phase: ${phase.label}`);
    });
    this.timeline.advance(0);
    this.traffic.start();
    this.#driver = setInterval(() => this.timeline.advance(this.elapsed()), 20);
  }

  elapsed(): number {
    return Date.now() - this.#start;
  }

  async at(ms: number): Promise<void> {
    await sleep(Math.max(0, ms - this.elapsed()));
  }

  /** The table's rows as the demo prints them when stdout is not a terminal. */
  render(): string {
    this.lines.length = 0;
    this.view.render({
      elapsedMs: this.elapsed(),
      header: [],
      phase: this.timeline.phase?.label ?? '',
      rows: this.stats.rows(),
      faults: Object.fromEntries(DEMO_PROVIDERS.map((p) => [p, describeRules(this.timeline.activeRules(p))])) as Record<
        DemoProvider,
        string
      >,
      pruned: Object.fromEntries(DEMO_PROVIDERS.map((p) => [p, 0])) as Record<DemoProvider, number>,
      stalled: this.timeline.stalled,
    });
    return this.lines.join('');
  }

  async stop(): Promise<void> {
    clearInterval(this.#driver);
    await this.traffic.stop(3_000);
    await this.clients.close();
  }
}

describe("the demo's fcm-hang and stall scenarios, compressed to seconds", () => {
  let simulator: Simulator;
  const runs: Run[] = [];
  before(async () => {
    simulator = await startSimulator({ providers: DEMO_PROVIDERS });
  });
  after(async () => {
    for (const run of runs) await run.stop();
    await simulator.close();
  });

  async function play(name: string, at: readonly number[]): Promise<Run> {
    const scenario = compressed(name, at);
    const telemetry = new PushTelemetry();
    // The demo's own clients, with the scenario's client timeouts, as startParts() makes them.
    const clients = await createClients(simulator, { telemetry, timeoutMs: 2_000 }, scenario.clientTimeoutMs);
    const run = new Run(scenario, simulator, telemetry, clients);
    runs.push(run);
    return run;
  }

  it('fcm-hang: FCM calls pile up in flight and none completes while the others keep sending; recovery drains them without an error', {
    timeout: 30_000,
  }, async () => {
    const run = await play('fcm-hang', [0, 1_500, 6_000]);
    assert.deepEqual(run.scenario.clientTimeoutMs, { fcm: 0 }, 'no FCM client timeout: a hung call stays in flight');

    await run.at(2_000);
    const early = await counts(run.telemetry);
    await run.stats.sample(10_000);
    await run.at(5_500);
    const late = await counts(run.telemetry);
    await run.stats.sample(14_000);

    assert.equal(late.fcm.completed, early.fcm.completed, 'no FCM call completed during the hang');
    assert.equal(late.fcm.failed, 0, 'and none failed: a hang is silence, not errors');
    assert.ok(
      late.fcm.inFlight >= early.fcm.inFlight + 25,
      `FCM in flight climbs: ${early.fcm.inFlight} → ${late.fcm.inFlight}`,
    );
    assert.ok(simulator.fake('fcm').faults.hanging > 0, 'the fake holds them');
    for (const provider of DEMO_PROVIDERS.filter((p) => p !== 'fcm')) {
      assert.ok(late[provider].completed >= early[provider].completed + 40, `${provider} keeps sending`);
      assert.equal(late[provider].failed, 0, provider);
    }
    const table = run.render();
    assert.match(table, /\] fcm +0\.0 msg\/s +accepted +- .* in flight +\d+ +hung +errors - +fault hang 100%/);
    assert.match(table, /\] apns +[\d.]+ msg\/s +accepted 100\.0% .* in flight +\d+ +sending /);

    // The provider answers again: what it held is dropped, firebase-admin retries it, and FCM sends as before.
    await run.at(6_000);
    await until(
      'FCM in flight to drain',
      15_000,
      async () => (await counts(run.telemetry)).fcm.inFlight === 0 && simulator.fake('fcm').faults.hanging === 0,
    );
    const before = await counts(run.telemetry);
    await sleep(1_000);
    const recovered = await counts(run.telemetry);
    assert.ok(recovered.fcm.completed > before.fcm.completed, 'FCM completes calls again');
    assert.ok(recovered.fcm.completed >= late.fcm.completed + late.fcm.inFlight, 'every call that hung completed');
    assert.equal(recovered.fcm.failed, 0, 'the hung calls were retried, not failed');
  });

  it('stall: the sender sends nothing at all, with no errors, then resumes', { timeout: 30_000 }, async () => {
    const run = await play('stall', [0, 1_500, 4_500]);
    await run.at(1_800);
    assert.equal(run.traffic.paused, true);
    const early = await counts(run.telemetry);
    await run.stats.sample(10_000);
    await run.at(4_200);
    const late = await counts(run.telemetry);
    await run.stats.sample(14_000);
    for (const provider of DEMO_PROVIDERS) {
      assert.equal(late[provider].completed, early[provider].completed, `${provider}: nothing sent`);
      assert.deepEqual(
        [late[provider].failed, late[provider].inFlight],
        [0, 0],
        `${provider}: no errors, nothing in flight`,
      );
    }
    const table = run.render();
    for (const provider of DEMO_PROVIDERS)
      assert.match(
        table,
        new RegExp(`\\] ${provider} +0\\.0 msg/s .* in flight +0 +stalled +errors - +fault -`),
        provider,
      );

    await run.at(4_700);
    assert.equal(run.traffic.paused, false);
    await run.at(6_000);
    const resumed = await counts(run.telemetry);
    for (const provider of DEMO_PROVIDERS)
      assert.ok(resumed[provider].completed > late[provider].completed + 10, `${provider} sends again`);
    // Skipped ticks bank nothing: the sender resumes at its rate, without a burst for the time it stood still.
    const sent = DEMO_PROVIDERS.reduce((sum, p) => sum + resumed[p].completed - late[p].completed, 0);
    assert.ok(sent <= 100 * 1.8, `${sent} messages in the 1.5 s after resuming at 100/s`);
  });
});
