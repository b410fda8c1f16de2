import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PushTelemetry } from '../src/index.js';
import { createClients, DEMO_PROVIDERS, type DemoClients } from '../src/cli/clients/index.js';
import { DEMO_APP } from '../src/cli/clients/types.js';
import { demoDevices } from '../src/cli/demo.js';
import { SCENARIOS, Timeline, type Scenario } from '../src/cli/scenarios.js';
import { startSenderService, type SenderService } from '../src/cli/sender-service.js';
import { stampedSend } from '../src/cli/stamped-send.js';
import { TokenStore } from '../src/cli/tokens.js';
import { Traffic } from '../src/cli/traffic.js';
import type { DeviceFleet } from '../src/simulator/devices.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { parseExposition, type Sample } from './helpers.js';

/**
 * The demo's devices-offline scenario played in process with the demo's own parts: real SDKs through the simulator,
 * every message stamped, the demo's fake device fleet posting receipts to the sender service's real receipts
 * endpoint, the traffic loop and the timeline setting the fleet's offline share, read back from the service's
 * /metrics. The phases are the scenario's own; only their `at`s are compressed from minutes to seconds.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const INCIDENT_AT = 4_000;
const RECOVERED_AT = 10_000;

interface Totals {
  readonly accepted: number;
  readonly failed: number;
  readonly delivered: number;
}

function totals(samples: readonly Sample[]): Totals {
  const sum = (where: (s: Sample) => boolean) => samples.filter(where).reduce((total, s) => total + s.value, 0);
  return {
    accepted: sum((s) => s.name === 'push_messages_total' && s.labels.outcome === 'accepted'),
    failed: sum((s) => s.name === 'push_messages_total' && s.labels.outcome === 'failed'),
    delivered: sum((s) => s.name === 'push_device_receipts_total' && s.labels.event === 'delivered'),
  };
}

/** What the devices confirmed of what the providers accepted between two scrapes. */
const deliveredShare = (from: Totals, to: Totals) => (to.delivered - from.delivered) / (to.accepted - from.accepted);

describe("the demo's devices-offline scenario, compressed to seconds", () => {
  let simulator: Simulator;
  let clients: DemoClients;
  let service: SenderService;
  let devices: DeviceFleet;
  let traffic: Traffic;
  let driver: NodeJS.Timeout;
  let start = 0;
  const phases: string[] = [];

  const elapsed = () => Date.now() - start;
  const at = (ms: number) => sleep(Math.max(0, ms - elapsed()));
  const read = async () =>
    totals(
      parseExposition(await (await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(2_000) })).text()),
    );

  before(async () => {
    const shipped = SCENARIOS.find((s) => s.name === 'devices-offline');
    assert.ok(shipped, 'the scenario ships');
    const times = [0, INCIDENT_AT, RECOVERED_AT];
    assert.equal(shipped.phases.length, times.length);
    const { loopMs: _, ...rest } = shipped;
    const scenario: Scenario = {
      ...rest,
      phases: shipped.phases.map((phase, i) => ({ ...phase, at: times[i] as number })),
    };

    // startParts() and play() in src/cli/demo.ts, minus the terminal and Prometheus.
    simulator = await startSimulator({ providers: DEMO_PROVIDERS });
    const telemetry = new PushTelemetry();
    const tokens = new TokenStore();
    clients = await createClients(simulator, {
      telemetry,
      timeoutMs: 2_000,
      onInvalidToken: (provider, token) => tokens.prune(provider, token),
    });
    const secret = randomBytes(32).toString('base64url');
    const send = stampedSend(clients, secret, () => devices);
    service = await startSenderService({
      telemetry,
      send,
      receipts: { apps: [DEMO_APP], secret },
      providers: DEMO_PROVIDERS,
      port: 0,
      host: '127.0.0.1',
    });
    devices = demoDevices(service.url);
    traffic = new Traffic({ rate: 100, tokens, send });
    const timeline = new Timeline(scenario, simulator, (phase) => {
      devices.offline = phase.devicesOffline ?? 0;
      phases.push(phase.label);
    });
    start = Date.now();
    timeline.advance(0);
    traffic.start();
    driver = setInterval(() => timeline.advance(elapsed()), 20);
  });
  after(async () => {
    clearInterval(driver);
    await traffic?.stop(3_000);
    await devices?.close();
    await clients?.close();
    await service?.close();
    await simulator?.close();
  });

  it('keeps acceptance at 100% while delivered receipts fall behind accepted messages, then delivers what was held', {
    timeout: 30_000,
  }, async () => {
    await at(1_500);
    const warm = await read();
    await at(INCIDENT_AT);
    const incidentStart = await read();
    // Pushes accepted just before the incident are still arriving for a second or so (delivery takes ~0.7 s).
    await at(INCIDENT_AT + 1_500);
    const settled = await read();
    assert.equal(devices.offline, 0.8, 'the scenario takes 80% of the devices offline');
    await at(RECOVERED_AT - 100);
    const incidentEnd = await read();
    const held = devices.held;

    const healthy = deliveredShare(warm, incidentStart);
    const offline = deliveredShare(settled, incidentEnd);
    assert.ok(incidentEnd.accepted - settled.accepted >= 200, `${incidentEnd.accepted - settled.accepted} accepted`);
    assert.equal(incidentEnd.failed, 0, 'no message failed: every provider accepted 100% throughout');
    assert.ok(healthy > 0.6, `healthy: ${(healthy * 100).toFixed(0)}% of accepted messages confirmed delivered`);
    assert.ok(offline < 0.35, `offline: ${(offline * 100).toFixed(0)}% confirmed (about 19% expected)`);
    assert.ok(offline < healthy / 2.5, `delivered grows much slower than accepted: ${healthy} → ${offline}`);
    assert.ok(held > 200, `${held} pushes held by the providers for offline devices`);

    // The devices come back: what the providers held arrives (within its TTL), and receipts keep up again.
    await at(RECOVERED_AT + 200);
    assert.equal(devices.offline, 0);
    assert.equal(devices.held, 0, 'every held push released');
    const recovered = await read();
    await at(RECOVERED_AT + 4_000);
    const end = await read();
    assert.equal(end.failed, 0);
    assert.ok(
      end.delivered - recovered.delivered >= 0.85 * held,
      `${end.delivered - recovered.delivered} receipts after recovery, ${held} held pushes among them`,
    );
    // Beyond the held backlog, receipts keep up with new sends again (they trail them by about a second).
    const fresh = (end.delivered - recovered.delivered - held) / (end.accepted - recovered.accepted);
    assert.ok(fresh > 0.5, `after recovery: ${(fresh * 100).toFixed(0)}% of new accepted messages confirmed`);
    assert.deepEqual(phases, scenarioLabels(), 'the phases played are the scenario’s, in order');
  });
});

function scenarioLabels(): string[] {
  return (SCENARIOS.find((s) => s.name === 'devices-offline') as Scenario).phases.map((phase) => phase.label);
}
