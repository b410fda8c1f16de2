import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  defaultRender,
  installPushTelemetry,
  postReceipt,
  readStamp,
  RECEIPT_EVENTS,
  STAMP_KEY,
} from '../service-worker/index.js';
import { PushTelemetry, startMetricsServer, type MetricsServer } from '../src/index.js';
import { generatedClassic, OUTPUT } from '../scripts/generate-service-worker.js';
import { closedPort, parseExposition, valueOf } from './helpers.js';

/**
 * The service worker module's pure parts, in Node: stamp reading, the receipt post against a real receipts endpoint,
 * option checks, and the classic build's drift. The worker's events run in Chromium (service-worker.chromium.test.ts).
 */

const APP = 'com.example.web';
const stamp = { provider: 'webpush', app: APP, sentAt: 1_764_000_000_000 };

describe('readStamp', () => {
  it('reads the Web Push stamp, and FCM data’s JSON-string stamp, keeping only the stamp’s four fields', () => {
    assert.equal(STAMP_KEY, 'pushTelemetry');
    assert.deepEqual(readStamp({ title: 'Hi', pushTelemetry: { ...stamp, token: 'secret', body: 'x' } }), stamp);
    assert.deepEqual(readStamp({ pushTelemetry: { ...stamp, sig: 'abc' } }), { ...stamp, sig: 'abc' });
    assert.deepEqual(readStamp({ data: { pushTelemetry: JSON.stringify(stamp) } }), stamp);
    assert.deepEqual(readStamp({ pushTelemetry: JSON.stringify(stamp) }), stamp);
  });

  it('is undefined for anything but a well-formed stamp, and never throws', () => {
    for (const value of [
      undefined,
      null,
      'text',
      [stamp],
      {},
      { pushTelemetry: null },
      { pushTelemetry: '{not json' },
      { pushTelemetry: { ...stamp, provider: '' } },
      { pushTelemetry: { ...stamp, app: 7 } },
      { pushTelemetry: { ...stamp, sentAt: '2026-12-03T10:00:00Z' } },
      { pushTelemetry: { ...stamp, sentAt: 1.5 } },
      { pushTelemetry: { ...stamp, sentAt: -1 } },
      { pushTelemetry: { ...stamp, sig: 42 } },
      { data: 'pushTelemetry' },
    ])
      assert.equal(readStamp(value), undefined, JSON.stringify(value));
  });
});

describe('defaultRender', () => {
  it('shows title and the notification options, under `notification` or at the top, with the URL to open', () => {
    assert.deepEqual(defaultRender({ title: 'Hi', body: 'there', tag: 't', secret: 'x', pushTelemetry: stamp }), {
      title: 'Hi',
      options: { body: 'there', tag: 't', data: {} },
    });
    assert.deepEqual(
      defaultRender({ notification: { title: 'Hi', navigate: 'https://example.com/o/1' }, data: { kind: 'order' } }),
      { title: 'Hi', options: { data: { kind: 'order', url: 'https://example.com/o/1' } } },
    );
    for (const payload of [undefined, 'text', {}, { title: '' }, { notification: { body: 'no title' } }])
      assert.equal(defaultRender(payload), null);
  });
});

describe('postReceipt against the receipts endpoint', () => {
  const telemetry = new PushTelemetry();
  let server: MetricsServer;
  let endpoint: string;
  before(async () => {
    server = await startMetricsServer({ telemetry, port: 0, receipts: { apps: [APP] } });
    endpoint = `${server.url}/v1/receipts`;
  });
  after(() => server.close());

  it('resolves true for each event the endpoint counted', async () => {
    const sent = { ...stamp, sentAt: Date.now() - 2_000 };
    for (const event of RECEIPT_EVENTS) assert.equal(await postReceipt(endpoint, sent, event), true, event);
    const samples = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
    for (const event of RECEIPT_EVENTS)
      assert.equal(valueOf(samples, 'push_device_receipts_total', { provider: 'webpush', app: APP, event }), 1);
    assert.equal(valueOf(samples, 'push_delivery_latency_seconds_count', { provider: 'webpush', app: APP }), 1);
  });

  it('resolves false, never rejects, and tells onError, when the endpoint refuses or cannot be reached', async () => {
    const errors: string[] = [];
    const onError = (error: unknown, { event }: { event: string }) =>
      errors.push(`${event}: ${(error as Error).message}`);
    const fresh = { ...stamp, sentAt: Date.now() };
    assert.equal(await postReceipt(endpoint, { ...fresh, app: 'com.other' }, 'delivered', { onError }), false);
    const offline = `http://127.0.0.1:${await closedPort()}/v1/receipts`;
    assert.equal(await postReceipt(offline, fresh, 'opened', { onError }), false);
    assert.equal(await postReceipt(endpoint, fresh, 'clicked' as 'opened', { onError }), false);
    const throwing = () => {
      throw new Error('a broken onError hook');
    };
    assert.equal(await postReceipt(offline, fresh, 'opened', { onError: throwing }), false);
    assert.deepEqual(errors, [
      'delivered: receipts endpoint answered 422',
      'opened: fetch failed',
      'clicked: event must be one of delivered, displayed, opened',
    ]);
  });
});

describe('installPushTelemetry options', () => {
  const scope = Object.assign(new EventTarget(), { location: new URL('https://app.example.com/sw.js') });

  it('names the bad option', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /options must be an object, got undefined/],
      [{}, /options\.endpoint must be the receipts URL/],
      [{ endpoint: 'ftp://x/y', scope }, /options\.endpoint must be an http\(s\) URL, got "ftp:"/],
      [{ endpoint: '/v1/receipts' }, /options\.endpoint must be an absolute URL or a path on this origin/],
      [
        { endpoint: '/r', scope, events: ['clicked'] },
        /options\.events must be an array of delivered, displayed, opened/,
      ],
      [{ endpoint: '/r', scope, showNotification: 'yes' }, /options\.showNotification must be true or false/],
      [{ endpoint: '/r', scope, render: {} }, /options\.render must be a function/],
      [{ endpoint: '/r', scope, timeoutMs: 0 }, /options\.timeoutMs must be a whole number from 1 to 60000/],
      [{ endpoint: '/r', scope, onError: 'log' }, /options\.onError must be a function/],
      [{ endpoint: '/r', scope, endpiont: '/r' }, /unknown option "endpiont"/],
    ];
    for (const [options, message] of cases)
      assert.throws(() => installPushTelemetry(options as never), { name: 'TypeError', message }, String(message));
  });

  it('resolves a path against the worker’s origin, adds its two listeners and removes them on uninstall', () => {
    const added: string[] = [];
    const listening = Object.assign(new EventTarget(), { location: scope.location });
    const add = listening.addEventListener.bind(listening);
    listening.addEventListener = (type: string, listener: Parameters<EventTarget['addEventListener']>[1]) => {
      added.push(type);
      add(type, listener);
    };
    const worker = installPushTelemetry({ endpoint: '/v1/receipts', scope: listening });
    assert.equal(worker.endpoint, 'https://app.example.com/v1/receipts');
    assert.deepEqual(added, ['push', 'notificationclick']);
    worker.uninstall();
  });
});

describe('service-worker/classic.js', () => {
  it('is what npm run generate:service-worker makes of index.js (no hand edits, no drift)', () => {
    assert.equal(readFileSync(OUTPUT, 'utf8'), generatedClassic());
  });
});
