import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createReceiptStamp, PushTelemetry, startMetricsServer, type MetricsServer } from '../src/index.js';
import { DeviceFleet, type DeviceFleetOptions } from '../src/simulator/index.js';
import { closedPort, parseExposition, seeded, valueOf, type Sample } from './helpers.js';

/**
 * The fake devices against a real receipts endpoint (startMetricsServer with receipts): what they post is what
 * /metrics counts. Seeded random numbers make the shares repeatable.
 */

const APP = 'com.example.devices';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const INSTANT = { medianMs: 0, sigma: 0 };

describe('DeviceFleet', () => {
  let telemetry: PushTelemetry;
  let server: MetricsServer;
  let endpoint: string;
  const fleets: DeviceFleet[] = [];
  const fleet = (options: Partial<DeviceFleetOptions> = {}) => {
    const made = new DeviceFleet({ endpoint, flushEveryMs: 10, random: seeded(7), ...options });
    fleets.push(made);
    return made;
  };

  before(async () => {
    telemetry = new PushTelemetry();
    server = await startMetricsServer({ telemetry, port: 0, receipts: { apps: [APP] } });
    endpoint = `${server.url}/v1/receipts`;
  });
  after(async () => {
    await Promise.all(fleets.map((made) => made.close()));
    await server.close();
  });

  async function samples(): Promise<Sample[]> {
    return parseExposition(await (await fetch(`${server.url}/metrics`)).text());
  }
  const count = (all: Sample[], provider: string, event: string) =>
    valueOf(all, 'push_device_receipts_total', { provider, app: APP, event }) ?? 0;

  async function settle(made: DeviceFleet): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (made.pending > 0) {
      if (Date.now() > deadline) throw new Error(`${made.pending} receipts still pending`);
      await sleep(20);
    }
    await made.flush();
  }

  it('names the bad option', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /options must be an object/],
      [{ endpoint: 'not a url' }, /options\.endpoint must be the receipts endpoint's http\(s\) URL/],
      [{ endpoint: 'http://x/v1/receipts', deliveredRate: 1.5 }, /options\.deliveredRate must be a number from 0 to 1/],
      [{ endpoint: 'http://x/v1/receipts', openDelay: { medianMs: -1, sigma: 1 } }, /options\.openDelay\.medianMs/],
      [{ endpoint: 'http://x/v1/receipts', deliveryDelay: { medianMs: 1, sigma: 9 } }, /deliveryDelay\.sigma/],
      [{ endpoint: 'http://x/v1/receipts', ttlMs: 1.5 }, /options\.ttlMs must be a whole number/],
      [{ endpoint: 'http://x/v1/receipts', random: 4 }, /options\.random must be a function/],
      [{ endpoint: 'http://x/v1/receipts', offlne: 1 }, /offlne/],
    ];
    for (const [options, message] of cases)
      assert.throws(() => new DeviceFleet(options as DeviceFleetOptions), { name: 'TypeError', message });
    const made = fleet();
    assert.throws(() => (made.offline = 2), /offline must be a number from 0 to 1/);
    assert.throws(
      () => made.accepted(createReceiptStamp('fcm', { app: APP }), -1),
      /recipients must be a whole number/,
    );
    assert.throws(() => made.accepted({ provider: 'fcm', app: APP } as never), /stamp must be a receipt stamp/);
  });

  it('posts delivered, displayed and opened for every push when every rate is 1, and /metrics counts them', async () => {
    const made = fleet({
      deliveredRate: 1,
      displayedRate: 1,
      openedRate: 1,
      deliveryDelay: INSTANT,
      displayDelay: INSTANT,
      openDelay: INSTANT,
    });
    made.accepted(createReceiptStamp('fcm', { app: APP }), 30);
    await settle(made);
    assert.deepEqual(made.stats.posted, { delivered: 30, displayed: 30, opened: 30 });
    assert.equal(made.stats.refused + made.stats.failed + made.stats.lost + made.stats.overflow, 0);
    const all = await samples();
    for (const event of ['delivered', 'displayed', 'opened']) assert.equal(count(all, 'fcm', event), 30, event);
    assert.equal(valueOf(all, 'push_delivery_latency_seconds_count', { provider: 'fcm', app: APP }), 30);
  });

  it('loses, mutes and leaves unopened the configured shares: a funnel', async () => {
    const made = fleet({
      deliveredRate: 0.9,
      displayedRate: 0.5,
      openedRate: 0.2,
      deliveryDelay: INSTANT,
      displayDelay: INSTANT,
      openDelay: INSTANT,
    });
    made.accepted(createReceiptStamp('apns', { app: APP }), 2_000);
    await settle(made);
    const { delivered, displayed, opened } = made.stats.posted;
    assert.equal(made.stats.lost, 2_000 - delivered);
    assert.ok(Math.abs(delivered - 1_800) < 60, `delivered ${delivered} of 2000 at 0.9`);
    assert.ok(Math.abs(displayed - delivered * 0.5) < 60, `displayed ${displayed} of ${delivered} at 0.5`);
    assert.ok(Math.abs(opened - displayed * 0.2) < 40, `opened ${opened} of ${displayed} at 0.2`);
    const all = await samples();
    assert.deepEqual(
      [count(all, 'apns', 'delivered'), count(all, 'apns', 'displayed'), count(all, 'apns', 'opened')],
      [delivered, displayed, opened],
    );
  });

  it('delays deliveries log-normally around the median', async () => {
    const made = fleet({ deliveredRate: 1, displayedRate: 0, deliveryDelay: { medianMs: 200, sigma: 0.6 } });
    made.accepted(createReceiptStamp('expo', { app: APP }), 400);
    await settle(made);
    const all = await samples();
    const bucket = (le: string) =>
      valueOf(all, 'push_delivery_latency_seconds_bucket', { provider: 'expo', app: APP, le }) as number;
    assert.equal(bucket('+Inf'), 400);
    // ln(100/200)/0.6 = -1.16 → 12% under 0.1 s; ln(500/200)/0.6 = 1.53 → 94% under 0.5 s (flushes add up to 10 ms).
    assert.ok(bucket('0.1') > 20 && bucket('0.1') < 80, `${bucket('0.1')} of 400 under 0.1 s`);
    assert.ok(bucket('0.25') > 180 && bucket('0.25') < 320, `${bucket('0.25')} of 400 under 0.25 s`);
    assert.ok(bucket('0.5') > 340, `${bucket('0.5')} of 400 under 0.5 s`);
  });

  it('confirms nothing for offline devices, then delivers what was held, late, when they come back', async () => {
    const made = fleet({ deliveredRate: 1, displayedRate: 0, deliveryDelay: INSTANT, offline: 1 });
    made.accepted(createReceiptStamp('webpush', { app: APP }), 50);
    await sleep(300);
    await made.flush();
    assert.equal(made.stats.posted.delivered, 0);
    assert.equal(made.pending, 50);
    assert.equal(count(await samples(), 'webpush', 'delivered'), 0);
    made.offline = 0;
    await settle(made);
    assert.equal(made.stats.posted.delivered, 50);
    const all = await samples();
    assert.equal(count(all, 'webpush', 'delivered'), 50);
    const latency = { provider: 'webpush', app: APP };
    assert.equal(valueOf(all, 'push_delivery_latency_seconds_bucket', { ...latency, le: '0.25' }), 0);
    assert.equal(valueOf(all, 'push_delivery_latency_seconds_bucket', { ...latency, le: '1' }), 50);
  });

  it('brings back only the share of devices that reconnect, and loses held pushes past their TTL', async () => {
    const made = fleet({ deliveredRate: 1, displayedRate: 0, deliveryDelay: INSTANT, offline: 1, ttlMs: 200 });
    made.accepted(createReceiptStamp('sns', { app: APP }), 400);
    made.offline = 0.5;
    await made.flush();
    const back = made.stats.posted.delivered;
    assert.ok(back > 150 && back < 250, `${back} of 400 back when half the devices reconnect`);
    await sleep(300);
    await made.flush();
    assert.equal(made.stats.lost, 400 - back);
    assert.equal(made.pending, 0);
  });

  it('counts refused and failed posts without throwing', async () => {
    const refused = fleet({ deliveredRate: 1, displayedRate: 0, deliveryDelay: INSTANT });
    refused.accepted(createReceiptStamp('fcm', { app: 'com.not.allowed' }), 5);
    await settle(refused);
    assert.equal(refused.stats.refused, 5);
    const rejected = valueOf(await samples(), 'push_device_receipts_rejected_total', { reason: 'unknown_app' });
    assert.ok((rejected as number) >= 5);
    const offline = fleet({
      endpoint: `http://127.0.0.1:${await closedPort()}/v1/receipts`,
      deliveredRate: 1,
      displayedRate: 0,
      deliveryDelay: INSTANT,
    });
    offline.accepted(createReceiptStamp('fcm', { app: APP }), 5);
    await settle(offline);
    assert.equal(offline.stats.failed, 5);
  });

  it('holds at most maxPending receipts, and schedules nothing once closed', async () => {
    const made = fleet({ deliveredRate: 1, displayedRate: 1, openedRate: 1, maxPending: 10, offline: 0 });
    made.accepted(createReceiptStamp('fcm', { app: APP, sentAt: Date.now() }), 10);
    assert.equal(made.pending, 10);
    assert.ok(made.stats.overflow >= 20, `${made.stats.overflow} dropped`);
    await made.close();
    made.accepted(createReceiptStamp('fcm', { app: APP }), 10);
    assert.equal(made.pending, 0);
    assert.equal(made.stats.pushes, 10);
  });
});
