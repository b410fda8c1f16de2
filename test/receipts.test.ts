import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { AggregatorRegistry, Registry } from 'prom-client';
import {
  createReceiptStamp,
  createReceiptsHandler,
  DELIVERY_LATENCY_BUCKETS,
  DEVICE_RECEIPT_EVENTS,
  KNOWN_PROVIDERS,
  PushTelemetry,
  RECEIPT_STAMP_KEY,
  RECEIPTS_PATH,
  signReceipt,
  stampApnsPayload,
  stampExpoMessage,
  stampFcmMessage,
  stampWebPushPayload,
  startMetricsServer,
  verifyReceiptSignature,
  type MetricsServer,
  type ReceiptStamp,
} from '../src/index.js';
import { ReceiptSignatureVerifier, VERIFIED_SIGNATURES_REMEMBERED } from '../src/delivery/signature.js';
import { parseExposition, valueOf, type Sample } from './helpers.js';

const APP = 'com.example.app';
const OTHER_APP = 'com.example.other';
const SECRET = 'receipts-test-secret-0123456789abcdef';

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${RECEIPTS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function metrics(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`, { headers });
  assert.equal(response.status, 200);
  return parseExposition(await response.text());
}

function receipt(stamp: ReceiptStamp, event: string) {
  return { ...stamp, event };
}

describe('POST /v1/receipts on startMetricsServer', () => {
  let server: MetricsServer;
  const bearerToken = 'scrape-token-0123456789';

  before(async () => {
    server = await startMetricsServer({
      telemetry: new PushTelemetry(),
      port: 0,
      auth: { bearerToken },
      receipts: { apps: [APP, OTHER_APP] },
    });
  });
  after(() => server.close());

  const scrape = () => metrics(server.url, { authorization: `Bearer ${bearerToken}` });

  it('shows every allowed app × known provider × event at 0 before any receipt, no latency, every rejection reason at 0', async () => {
    const samples = await scrape();
    // At 0 from the start, so increase() counts a restarted process's first receipt, and an app whose devices
    // confirm nothing shows 0 rather than no series.
    const receipts = samples.filter((s) => s.name === 'push_device_receipts_total');
    assert.deepEqual(
      receipts.map(({ labels: { provider, app, event } }) => `${app} ${provider} ${event}`).sort(),
      [APP, OTHER_APP]
        .flatMap((app) =>
          KNOWN_PROVIDERS.flatMap((provider) => DEVICE_RECEIPT_EVENTS.map((e) => `${app} ${provider} ${e}`)),
        )
        .sort(),
    );
    assert.ok(receipts.every((s) => s.value === 0));
    assert.equal(samples.filter((s) => s.name.startsWith('push_delivery_latency_seconds')).length, 0);
    const rejected = samples.filter((s) => s.name === 'push_device_receipts_rejected_total');
    assert.deepEqual(
      rejected.map((s) => s.labels.reason),
      [
        'malformed',
        'too_large',
        'unknown_provider',
        'unknown_app',
        'unknown_event',
        'stale',
        'future',
        'bad_signature',
      ],
    );
    assert.ok(rejected.every((s) => s.value === 0));
  });

  it('answers 204 without auth (devices hold no secrets) while /metrics still needs it', async () => {
    const stamp = createReceiptStamp('fcm', { app: APP, sentAt: Date.now() - 3000 });
    const answer = await post(server.url, receipt(stamp, 'delivered'));
    assert.equal(answer.status, 204);
    assert.equal(answer.text, '');
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  });

  it('counts the delivery and its latency in the right bucket', async () => {
    const samples = await scrape();
    assert.equal(valueOf(samples, 'push_device_receipts_total', { provider: 'fcm', app: APP, event: 'delivered' }), 1);
    assert.equal(valueOf(samples, 'push_device_receipts_total', { provider: 'fcm', app: APP, event: 'opened' }), 0);
    const bucket = (le: string) =>
      valueOf(samples, 'push_delivery_latency_seconds_bucket', { provider: 'fcm', app: APP, le });
    // Sent 3 s before the post: above 2.5 s, within 5 s (the post itself takes milliseconds).
    assert.equal(bucket('2.5'), 0);
    assert.equal(bucket('5'), 1);
    assert.equal(bucket('86400'), 1);
    // The contract's range: 0.1 s to a day.
    assert.equal(DELIVERY_LATENCY_BUCKETS[0], 0.1);
    assert.equal(DELIVERY_LATENCY_BUCKETS.at(-1), 86400);
    assert.equal(bucket('+Inf'), 1);
    assert.equal(
      samples.filter((s) => s.name === 'push_delivery_latency_seconds_bucket').length,
      DELIVERY_LATENCY_BUCKETS.length + 1,
    );
    const sum = valueOf(samples, 'push_delivery_latency_seconds_sum', { provider: 'fcm', app: APP }) as number;
    assert.ok(sum >= 3 && sum < 5, `latency sum ${sum}`);
    assert.equal(valueOf(samples, 'push_delivery_latency_seconds_count', { provider: 'fcm', app: APP }), 1);
  });

  it('takes a batch; displayed and opened count without a latency', async () => {
    const stamp = createReceiptStamp('apns', { app: OTHER_APP });
    const answer = await post(server.url, [
      receipt(stamp, 'delivered'),
      receipt(stamp, 'displayed'),
      receipt(stamp, 'opened'),
      receipt(stamp, 'opened'),
    ]);
    assert.equal(answer.status, 204);
    const samples = await scrape();
    const count = (event: string) =>
      valueOf(samples, 'push_device_receipts_total', { provider: 'apns', app: OTHER_APP, event });
    assert.deepEqual([count('delivered'), count('displayed'), count('opened')], [1, 1, 2]);
    assert.equal(valueOf(samples, 'push_delivery_latency_seconds_count', { provider: 'apns', app: OTHER_APP }), 1);
  });

  it('answers 422 naming the refused receipts by index and reason, and counts the rest', async () => {
    const stamp = createReceiptStamp('expo', { app: APP });
    const answer = await post(server.url, [
      receipt(stamp, 'opened'),
      receipt({ ...stamp, app: 'com.evil.app' }, 'opened'),
      receipt(stamp, 'clicked'),
    ]);
    assert.equal(answer.status, 422);
    assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(answer.text), {
      error: 'receipts refused',
      accepted: 1,
      rejected: [
        { index: 1, reason: 'unknown_app' },
        { index: 2, reason: 'unknown_event' },
      ],
    });
    const samples = await scrape();
    assert.equal(valueOf(samples, 'push_device_receipts_total', { provider: 'expo', app: APP, event: 'opened' }), 1);
    assert.equal(valueOf(samples, 'push_device_receipts_rejected_total', { reason: 'unknown_app' }), 1);
    assert.equal(valueOf(samples, 'push_device_receipts_rejected_total', { reason: 'unknown_event' }), 1);
  });

  it('clamps a sentAt a little ahead of the clock (sender and endpoint clocks differ) to zero latency', async () => {
    const stamp = createReceiptStamp('webpush', { app: APP, sentAt: Date.now() + 60_000 });
    assert.equal((await post(server.url, receipt(stamp, 'delivered'))).status, 204);
    const samples = await scrape();
    const labels = { provider: 'webpush', app: APP };
    assert.equal(valueOf(samples, 'push_delivery_latency_seconds_bucket', { ...labels, le: '0.1' }), 1);
    assert.equal(valueOf(samples, 'push_delivery_latency_seconds_sum', labels), 0);
  });

  it('serves the path with a query string, answers 405 to other methods, and leaves other paths to express', async () => {
    const stamp = createReceiptStamp('sns', { app: APP });
    const withQuery = await fetch(`${server.url}${RECEIPTS_PATH}?v=1`, {
      method: 'POST',
      body: JSON.stringify(receipt(stamp, 'delivered')),
    });
    assert.equal(withQuery.status, 204);
    const get = await fetch(`${server.url}${RECEIPTS_PATH}`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
    // A longer path is not the endpoint: express answers it, behind auth.
    assert.equal((await fetch(`${server.url}${RECEIPTS_PATH}x`, { method: 'POST', body: '{}' })).status, 401);
  });

  it('takes text/plain bodies (navigator.sendBeacon sends those) as JSON', async () => {
    const stamp = createReceiptStamp('webpush', { app: OTHER_APP });
    const answer = await post(server.url, receipt(stamp, 'opened'), { 'content-type': 'text/plain;charset=UTF-8' });
    assert.equal(answer.status, 204);
  });
});

describe('signed receipts', () => {
  let server: MetricsServer;
  before(async () => {
    server = await startMetricsServer({
      telemetry: new PushTelemetry(),
      port: 0,
      receipts: { apps: [APP], secret: SECRET },
    });
  });
  after(() => server.close());

  it('sig is base64url(HMAC-SHA256(secret, `${app}.${sentAt}`))', () => {
    const expected = createHmac('sha256', SECRET).update(`${APP}.1733200000000`).digest('base64url');
    assert.equal(signReceipt(SECRET, APP, 1733200000000), expected);
    assert.equal(createReceiptStamp('fcm', { app: APP, secret: SECRET, sentAt: 1733200000000 }).sig, expected);
    assert.equal(verifyReceiptSignature(SECRET, APP, 1733200000000, expected), true);
    assert.equal(verifyReceiptSignature(SECRET, APP, 1733200000001, expected), false);
    assert.equal(verifyReceiptSignature(SECRET, OTHER_APP, 1733200000000, expected), false);
  });

  it("the verifier's HMAC equals node:crypto's createHmac, for any secret length and alphabet", () => {
    const secrets = [
      SECRET,
      'k'.repeat(64),
      'k'.repeat(65),
      `${'ü'.repeat(20)}-secret-with-umlauts-ö`,
      'x'.repeat(300),
    ];
    for (const secret of secrets) {
      const verifier = new ReceiptSignatureVerifier(secret);
      for (const [app, sentAt] of [
        [APP, 1733200000000],
        ['a', 0],
        ['A-very.long_app-name.0123456789.0123456789.0123456789.0123456789', 8640000000000000],
      ] as const) {
        const expected = createHmac('sha256', secret).update(`${app}.${sentAt}`).digest('base64url');
        assert.equal(verifier.verify(app, sentAt, expected), true, `${secret.length}-character secret, app ${app}`);
        assert.equal(verifier.verify(app, sentAt + 1, expected), false);
      }
    }
  });

  it('the verifier remembers only signatures that verified, each for its own app and sentAt', () => {
    const verifier = new ReceiptSignatureVerifier(SECRET);
    const sig = signReceipt(SECRET, APP, 1733200000000);
    assert.equal(verifier.verify(APP, 1733200000000, sig), true);
    assert.equal(verifier.verify(APP, 1733200000000, sig), true);
    // A remembered signature admits nothing else.
    assert.equal(verifier.verify(APP, 1733200000001, sig), false);
    assert.equal(verifier.verify(OTHER_APP, 1733200000000, sig), false);
    // A refused one stays refused, however often it comes.
    const forged = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    for (let i = 0; i < 3; i++) assert.equal(verifier.verify(APP, 1733200000000, forged), false);
    // Past its capacity it forgets the oldest, and verifies that one afresh.
    for (let i = 1; i <= VERIFIED_SIGNATURES_REMEMBERED; i++)
      assert.equal(verifier.verify(APP, 1733200000000 + i, signReceipt(SECRET, APP, 1733200000000 + i)), true);
    assert.equal(verifier.verify(APP, 1733200000000, sig), true);
    assert.equal(verifier.verify(APP, 1733200000000, 42), false);
  });

  it('counts a receipt stamped with the secret and refuses unsigned, re-dated and wrongly keyed ones', async () => {
    const stamp = createReceiptStamp('fcm', { app: APP, secret: SECRET });
    assert.equal((await post(server.url, receipt(stamp, 'delivered'))).status, 204);
    const { sig: _sig, ...unsigned } = stamp;
    const otherKey = createReceiptStamp('fcm', { app: APP, secret: `${SECRET}-other` });
    const answer = await post(server.url, [
      receipt(unsigned, 'delivered'),
      receipt({ ...stamp, sentAt: stamp.sentAt - 1 }, 'delivered'),
      receipt(otherKey, 'delivered'),
    ]);
    assert.equal(answer.status, 422);
    const body = JSON.parse(answer.text) as { accepted: number; rejected: { reason: string }[] };
    assert.equal(body.accepted, 0);
    assert.deepEqual(
      body.rejected.map((r) => r.reason),
      ['bad_signature', 'bad_signature', 'bad_signature'],
    );
    const samples = await metrics(server.url);
    assert.equal(valueOf(samples, 'push_device_receipts_total', { provider: 'fcm', app: APP, event: 'delivered' }), 1);
    assert.equal(valueOf(samples, 'push_device_receipts_rejected_total', { reason: 'bad_signature' }), 3);
  });
});

describe('stamping helpers: what each provider carries is what the device posts back', () => {
  let server: MetricsServer;
  before(async () => {
    server = await startMetricsServer({
      telemetry: new PushTelemetry(),
      port: 0,
      receipts: { apps: [APP], secret: SECRET },
    });
  });
  after(() => server.close());
  const options = { app: APP, secret: SECRET };

  it('FCM: a JSON string in data (data values are strings), other data kept, the message not mutated', async () => {
    const message = { token: 'device-token', notification: { title: 'Hi' }, data: { orderId: '42' } };
    const stamped = stampFcmMessage(message, options);
    assert.deepEqual(message.data, { orderId: '42' });
    assert.equal(stamped.token, 'device-token');
    assert.equal(stamped.data.orderId, '42');
    assert.ok(Object.values(stamped.data).every((value) => typeof value === 'string'));
    const stamp = JSON.parse(stamped.data[RECEIPT_STAMP_KEY] as string) as ReceiptStamp;
    assert.equal(stamp.provider, 'fcm');
    assert.equal(stamp.app, APP);
    assert.equal((await post(server.url, receipt(stamp, 'delivered'))).status, 204);
    assert.equal(typeof stampFcmMessage({ topic: 'news' }, options).data[RECEIPT_STAMP_KEY], 'string');
  });

  it('APNs: a custom key beside aps', async () => {
    const payload = { aps: { alert: { title: 'Hi' }, 'mutable-content': 1 }, orderId: 42 };
    const stamped = stampApnsPayload(payload, options);
    assert.deepEqual(stamped.aps, payload.aps);
    assert.equal(stamped.orderId, 42);
    assert.equal(stamped.pushTelemetry.provider, 'apns');
    assert.equal((await post(server.url, receipt(stamped.pushTelemetry, 'displayed'))).status, 204);
  });

  it('Web Push: a key in the JSON payload, as an object or as JSON text', async () => {
    const asObject = stampWebPushPayload({ title: 'Hi', body: 'there' }, options);
    assert.equal(asObject.title, 'Hi');
    const asText = stampWebPushPayload(JSON.stringify({ title: 'Hi' }), options);
    assert.equal(typeof asText, 'string');
    const parsed = JSON.parse(asText) as { title: string; pushTelemetry: ReceiptStamp };
    assert.equal(parsed.title, 'Hi');
    assert.equal(parsed.pushTelemetry.provider, 'webpush');
    assert.equal((await post(server.url, receipt(parsed.pushTelemetry, 'opened'))).status, 204);
    assert.throws(() => stampWebPushPayload('not json', options), /JSON text of one/);
    assert.throws(() => stampWebPushPayload('[1]', options), /must be an object/);
  });

  it('Expo: inside data', async () => {
    const stamped = stampExpoMessage({ to: 'ExponentPushToken[x]', title: 'Hi', data: { screen: 'inbox' } }, options);
    assert.equal(stamped.data.screen, 'inbox');
    const stamp = stamped.data[RECEIPT_STAMP_KEY] as ReceiptStamp;
    assert.equal(stamp.provider, 'expo');
    assert.equal((await post(server.url, receipt(stamp, 'delivered'))).status, 204);
  });

  it('every receipt above was counted under its provider', async () => {
    const samples = await metrics(server.url);
    const count = (provider: string, event: string) =>
      valueOf(samples, 'push_device_receipts_total', { provider, app: APP, event });
    assert.equal(count('fcm', 'delivered'), 1);
    assert.equal(count('apns', 'displayed'), 1);
    assert.equal(count('webpush', 'opened'), 1);
    assert.equal(count('expo', 'delivered'), 1);
  });

  it('stamps without a secret carry no sig; bad stamp options throw naming the option', () => {
    assert.equal('sig' in createReceiptStamp('fcm', { app: APP }), false);
    assert.throws(() => createReceiptStamp('fcm', { app: 'not an app!' }), /options\.app must be an app name/);
    assert.throws(
      () => createReceiptStamp('fcm', { app: APP, secret: 'short' }),
      /options\.secret must be a string of at least 32/,
    );
    assert.throws(() => createReceiptStamp('fcm', { app: APP, sentAt: 1.5 }), /options\.sentAt must be a Unix time/);
    assert.throws(
      () => createReceiptStamp('fcm', { app: APP, sentat: 1 } as never),
      /unknown option "sentat"; expected one of app, secret, sentAt/,
    );
    assert.throws(() => stampFcmMessage(null as never, { app: APP }), /message must be an object/);
    assert.throws(() => createReceiptStamp('Custom Sender', { app: APP }), /provider must be a provider name/);
  });
});

describe('CORS', () => {
  it('answers preflights and posts from listed origins only', async () => {
    const server = await startMetricsServer({
      telemetry: new PushTelemetry(),
      port: 0,
      receipts: { apps: [APP], cors: { origins: ['https://app.example.com'] } },
    });
    try {
      const preflight = (origin: string) =>
        fetch(`${server.url}${RECEIPTS_PATH}`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const allowed = await preflight('https://app.example.com');
      assert.equal(allowed.status, 204);
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
      assert.equal(allowed.headers.get('access-control-allow-methods'), 'POST');
      assert.equal(allowed.headers.get('access-control-allow-headers'), 'content-type');
      assert.equal(allowed.headers.get('vary'), 'origin');
      const other = await preflight('https://evil.example');
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      assert.equal(other.headers.get('access-control-allow-methods'), null);

      const stamp = createReceiptStamp('webpush', { app: APP });
      const posted = await post(server.url, receipt(stamp, 'delivered'), { origin: 'https://app.example.com' });
      assert.equal(posted.status, 204);
      assert.equal(posted.headers.get('access-control-allow-origin'), 'https://app.example.com');
    } finally {
      await server.close();
    }
  });

  it("'*' allows every origin; without cors no CORS header is sent", async () => {
    const any = await startMetricsServer({
      telemetry: new PushTelemetry(),
      port: 0,
      receipts: { apps: [APP], cors: { origins: '*' } },
    });
    const none = await startMetricsServer({ telemetry: new PushTelemetry(), port: 0, receipts: { apps: [APP] } });
    try {
      const stamp = createReceiptStamp('webpush', { app: APP });
      const fromAny = await post(any.url, receipt(stamp, 'opened'), { origin: 'https://anyone.example' });
      assert.equal(fromAny.headers.get('access-control-allow-origin'), '*');
      const fromNone = await post(none.url, receipt(stamp, 'opened'), { origin: 'https://anyone.example' });
      assert.equal(fromNone.status, 204);
      assert.equal(fromNone.headers.get('access-control-allow-origin'), null);
    } finally {
      await Promise.all([any.close(), none.close()]);
    }
  });
});

describe('createReceiptsHandler on a user express app', () => {
  let server: Server;
  let url: string;
  const registry = new Registry();
  const telemetry = new PushTelemetry({ registry });

  before(async () => {
    const app = express();
    app.use('/api', express.json());
    app.all('/api/receipts', createReceiptsHandler(telemetry, { apps: [APP] }));
    app.all(RECEIPTS_PATH, createReceiptsHandler(telemetry, { apps: [OTHER_APP] }));
    app.get('/metrics', async (_req, res) => void res.type('text/plain').send(await registry.metrics()));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  );

  it('reads a body express.json() already parsed, and one nobody parsed', async () => {
    const parsedByExpress = await fetch(`${url}/api/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(receipt(createReceiptStamp('fcm', { app: APP }), 'delivered')),
    });
    assert.equal(parsedByExpress.status, 204);
    const unparsed = await post(url, receipt(createReceiptStamp('apns', { app: OTHER_APP }), 'opened'));
    assert.equal(unparsed.status, 204);
    const badJson = await fetch(`${url}/api/receipts`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{oops',
    });
    assert.equal(badJson.status, 400);
  });

  it('counts into the telemetry registry, both handlers into the same metrics', async () => {
    const samples = await metrics(url);
    assert.equal(valueOf(samples, 'push_device_receipts_total', { provider: 'fcm', app: APP, event: 'delivered' }), 1);
    assert.equal(
      valueOf(samples, 'push_device_receipts_total', { provider: 'apns', app: OTHER_APP, event: 'opened' }),
      1,
    );
    assert.equal(valueOf(samples, 'push_device_receipts_rejected_total', { reason: 'malformed' }), 1);
    // Each handler takes only its own apps.
    const crossed = await post(url, receipt(createReceiptStamp('apns', { app: APP }), 'opened'));
    assert.equal(JSON.parse(crossed.text).rejected[0].reason, 'unknown_app');
  });
});

describe('receipts across cluster workers', () => {
  it("AggregatorRegistry sums two workers' device receipts, latency buckets and refusals", async () => {
    const workers = [new Registry(), new Registry()];
    const servers: MetricsServer[] = [];
    try {
      for (const registry of workers) {
        const server = await startMetricsServer({
          telemetry: new PushTelemetry({ registry }),
          port: 0,
          receipts: { apps: [APP] },
        });
        servers.push(server);
        const stamp = createReceiptStamp('fcm', { app: APP, sentAt: Date.now() - 1000 });
        assert.equal((await post(server.url, receipt(stamp, 'delivered'))).status, 204);
        assert.equal((await post(server.url, '{')).status, 400);
      }
      const aggregated = AggregatorRegistry.aggregate(await Promise.all(workers.map((r) => r.getMetricsAsJSON())));
      const samples = parseExposition(await aggregated.metrics());
      const labels = { provider: 'fcm', app: APP };
      assert.equal(valueOf(samples, 'push_device_receipts_total', { ...labels, event: 'delivered' }), 2);
      assert.equal(valueOf(samples, 'push_delivery_latency_seconds_bucket', { ...labels, le: '2.5' }), 2);
      assert.equal(valueOf(samples, 'push_delivery_latency_seconds_count', labels), 2);
      assert.equal(valueOf(samples, 'push_device_receipts_rejected_total', { reason: 'malformed' }), 2);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  });
});

describe('receipts options are checked at construction', () => {
  const telemetry = new PushTelemetry();
  const cases: [string, unknown, RegExp][] = [
    ['no options', undefined, /options must be an object such as \{ apps/],
    ['no apps', {}, /options\.apps must be a non-empty array, got undefined/],
    ['empty apps', { apps: [] }, /options\.apps must be a non-empty array/],
    ['a bad app', { apps: ['ok.app', 'bad app'] }, /options\.apps\[1\] must be an app name/],
    ['a bad provider', { apps: [APP], providers: ['FCM'] }, /options\.providers\[0\] must be a provider name/],
    [
      'a short secret',
      { apps: [APP], secret: 'x'.repeat(31) },
      /options\.secret must be a string of at least 32 characters/,
    ],
    ['cors not an object', { apps: [APP], cors: '*' }, /options\.cors must be \{ origins/],
    ['an origin with a path', { apps: [APP], cors: { origins: ['https://a.example/'] } }, /must be an origin such as/],
    ['an origin that is not a URL', { apps: [APP], cors: { origins: ['a.example'] } }, /must be an origin such as/],
    ['a tiny body cap', { apps: [APP], maxBodyBytes: 10 }, /options\.maxBodyBytes must be a whole number from 256/],
    ['an unknown option', { apps: [APP], origins: '*' }, /unknown option "origins"/],
  ];
  for (const [name, options, message] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(() => createReceiptsHandler(telemetry, options as never), { name: 'TypeError', message });
    });
  }

  it('names the option as startMetricsServer knows it, and never echoes the secret', async () => {
    const secret = 'too-short-secret';
    await assert.rejects(
      startMetricsServer({ telemetry, port: 0, receipts: { apps: [APP], secret } }),
      (error: Error) => error.message.includes('options.receipts.secret') && !error.message.includes(secret),
    );
  });

  it('refuses a telemetry without a Prometheus registry', async () => {
    const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
    const otlpOnly = new PushTelemetry({ registry: false, meterProvider: new MeterProvider() });
    assert.throws(() => createReceiptsHandler(otlpOnly, { apps: [APP] }), /registry: false/);
    assert.throws(() => createReceiptsHandler({} as never, { apps: [APP] }), /telemetry must be a PushTelemetry/);
  });
});
