import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PushTelemetry } from '../src/index.js';
import { createClients, DEMO_PROVIDERS, type DemoClients, type DemoProvider } from '../src/cli/clients/index.js';
import { DeviceFunnel, type FunnelCounts } from '../src/cli/device-funnel.js';
import { SCENARIOS, Timeline, type Scenario } from '../src/cli/scenarios.js';
import { startSenderService, type SenderService } from '../src/cli/sender-service.js';
import { stampedSend } from '../src/cli/stamped-send.js';
import { DEMO_APP } from '../src/cli/clients/types.js';
import { TokenStore } from '../src/cli/tokens.js';
import { DeviceFleet, startSimulator, type Simulator } from '../src/simulator/index.js';
import { parseExposition, valueOf, type Sample } from './helpers.js';

/**
 * The devices-offline scenario played in process as the demo plays it (real SDKs through the simulator, stamped
 * sends, the sender service's receipts endpoint, fake devices posting to it, the timeline switching them offline),
 * with fixed batches instead of the traffic loop so the shares are counts, not timing: acceptance stays 100% while
 * the delivery share falls, and the pushes the providers held arrive late once the devices are back.
 */

const SECRET = 'a-demo-secret-of-at-least-thirty-two-characters';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function compressed(name: string, at: readonly number[]): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  assert.ok(scenario, name);
  assert.equal(scenario.phases.length, at.length);
  const { loopMs: _, ...rest } = scenario;
  return { ...rest, phases: scenario.phases.map((phase, i) => ({ ...phase, at: at[i] as number })) };
}

async function until(what: string, probe: () => Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Deliveries counted over a second after their send, summed over the providers. */
function lateDeliveries(samples: readonly Sample[]): number {
  return DEMO_PROVIDERS.reduce((total, provider) => {
    const labels = { provider, app: DEMO_APP };
    const count = valueOf(samples, 'push_delivery_latency_seconds_count', labels) ?? 0;
    const quick = valueOf(samples, 'push_delivery_latency_seconds_bucket', { ...labels, le: '1' }) ?? 0;
    return total + count - quick;
  }, 0);
}

const sum = (window: Record<DemoProvider, FunnelCounts>, key: keyof FunnelCounts) =>
  DEMO_PROVIDERS.reduce((total, provider) => total + window[provider][key], 0);

describe("the demo's devices-offline scenario, compressed to seconds", () => {
  let simulator: Simulator;
  let telemetry: PushTelemetry;
  let clients: DemoClients;
  let service: SenderService;
  let devices: DeviceFleet;

  before(async () => {
    simulator = await startSimulator({ providers: DEMO_PROVIDERS });
    telemetry = new PushTelemetry();
    clients = await createClients(simulator, { telemetry, timeoutMs: 2_000 });
  });
  after(async () => {
    await devices?.close();
    await service?.close();
    await clients?.close();
    await simulator?.close();
  });

  it('is listed, with every provider answering normally and 80% of devices offline during the incident', () => {
    const scenario = SCENARIOS.find((s) => s.name === 'devices-offline');
    assert.ok(scenario);
    assert.deepEqual(
      scenario.phases.map(({ at, faults, devicesOffline }) => ({ at, faults, devicesOffline })),
      [
        { at: 0, faults: {}, devicesOffline: undefined },
        { at: 10_000, faults: {}, devicesOffline: 0.8 },
        { at: 190_000, faults: {}, devicesOffline: undefined },
      ],
    );
  });

  it('keeps acceptance at 100% while delivery falls, then delivers what was held, late', {
    timeout: 60_000,
  }, async () => {
    const scenario = compressed('devices-offline', [0, 1_000, 2_000]);
    const send = stampedSend(clients, SECRET, () => devices);
    service = await startSenderService({
      telemetry,
      send,
      receipts: { apps: [DEMO_APP], secret: SECRET },
      providers: DEMO_PROVIDERS,
      port: 0,
      host: '127.0.0.1',
    });
    // The demo's rates; its delays shortened (an open comes half a minute after the push there).
    const quick = { medianMs: 50, sigma: 0.5 };
    devices = new DeviceFleet({
      endpoint: `${service.url}/v1/receipts`,
      deliveryDelay: quick,
      displayDelay: quick,
      openDelay: quick,
    });
    const phases: string[] = [];
    const timeline = new Timeline(scenario, simulator, (phase) => {
      devices.offline = phase.devicesOffline ?? 0;
      phases.push(phase.label);
    });
    const tokens = new TokenStore();
    /** 250 messages through the real SDKs, then every receipt that is due posted: counts, not timing. */
    async function sendAndSettle(): Promise<{ window: Record<DemoProvider, FunnelCounts>; lines: string[] }> {
      const funnel = new DeviceFunnel(telemetry, 60_000);
      await funnel.sample();
      for (let call = 0; call < 10; call++)
        await Promise.all(
          DEMO_PROVIDERS.map((provider) =>
            send(provider, tokens.take(provider, 5), { title: 'Your order shipped', body: 'Order #1' }),
          ),
        );
      await until('the receipts to be posted', async () => {
        await devices.flush();
        return devices.pending === devices.held;
      });
      await funnel.sample();
      return { window: funnel.window(), lines: funnel.lines() };
    }
    const share = (window: Record<DemoProvider, FunnelCounts>) => sum(window, 'delivered') / sum(window, 'accepted');

    timeline.advance(0);
    const { window: healthy } = await sendAndSettle();
    timeline.advance(1_000);
    assert.equal(devices.offline, 0.8);
    const { window: incident, lines: offlineLines } = await sendAndSettle();

    assert.deepEqual([sum(healthy, 'accepted'), sum(incident, 'accepted')], [250, 250], 'the providers accept all');
    const shares = `healthy ${(share(healthy) * 100).toFixed(1)}%, offline ${(share(incident) * 100).toFixed(1)}%`;
    // 93% of accepted pushes are delivered when healthy; with 80% of devices offline, 93% of 20%.
    assert.ok(share(healthy) > 0.8, `delivered of accepted: ${shares}`);
    assert.ok(share(incident) < 0.35, `delivered of accepted: ${shares}`);
    assert.ok(devices.held > 120, `${devices.held} pushes held for offline devices`);
    assert.match(offlineLines.join('\n'), /^ {2}fcm +delivered +\d+\.\d%/m);
    const scraped = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
    const failed = scraped.filter((s) => s.name === 'push_messages_total' && s.labels.outcome === 'failed');
    assert.equal(
      failed.reduce((total, sample) => total + sample.value, 0),
      0,
      'no provider failed a message',
    );
    for (const reason of ['bad_signature', 'unknown_app', 'malformed'])
      assert.equal(valueOf(scraped, 'push_device_receipts_rejected_total', { reason }), 0, reason);

    // Back online a second later: what the providers held arrives now, a second or more after it was sent.
    await sleep(1_100);
    const held = devices.held;
    const lateBefore = lateDeliveries(scraped);
    timeline.advance(2_000);
    assert.equal(devices.offline, 0);
    await until('the held pushes to be delivered', async () => {
      await devices.flush();
      return devices.pending === 0;
    });
    const recovered = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
    assert.equal(lateDeliveries(recovered) - lateBefore, held, 'every held push delivered over a second late');
    assert.equal(phases.length, 3);
    assert.match(phases[1] as string, /devices offline/);
  });
});
