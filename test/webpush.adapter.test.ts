import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import webpush from 'web-push';
import { ERROR_TYPES, PushTelemetry, type ErrorType, type InvalidTokenEvent } from '../src/index.js';
import { classifyWebPushError, instrumentWebPush, webPushReason, type WebPushLike } from '../src/providers/webpush.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan, type Fault } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { startFakeWebPush, webPushSubscription, type FakePushSubscription } from '../src/simulator/webpush.js';
import { closedPort, createTracing, scrape, valueOf, type Sample, type Tracing } from './helpers.js';

type Client = typeof webpush;

const vapid = webpush.generateVAPIDKeys();
const vapidDetails = { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey };
// web-push always speaks HTTPS; the fake's certificate is self-signed.
const agent = new https.Agent({ rejectUnauthorized: false });
const options = { agent, vapidDetails, TTL: 60 };

let fake: FakeProvider;
let tracing: Tracing;
let plainHttp: http.Server;
let plainHttpUrl: string;

before(async () => {
  fake = await startFakeWebPush({
    host: '127.0.0.1',
    port: 0,
    identity: await loopbackIdentity(),
    faults: new FaultPlan(),
  });
  tracing = createTracing();
  plainHttp = http.createServer((_req, res) => res.end('not TLS'));
  await new Promise<void>((resolve) => plainHttp.listen(0, '127.0.0.1', resolve));
  plainHttpUrl = `https://127.0.0.1:${(plainHttp.address() as { port: number }).port}`;
});
after(async () => {
  await fake.close();
  await new Promise<void>((resolve) => plainHttp.close(() => resolve()));
  agent.destroy();
  await tracing.shutdown();
});

/** A fresh telemetry and instrumented module per scenario, so every count below is exact. */
function harness(app?: string) {
  tracing.exporter.reset();
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
  const invalid: InvalidTokenEvent[] = [];
  const client = instrumentWebPush(webpush, telemetry, {
    ...(app !== undefined && { app }),
    onInvalidToken: (event) => void invalid.push(event),
  });
  return { telemetry, client, invalid };
}

function messages(samples: readonly Sample[], labels: Record<string, string>): number {
  return valueOf(samples, 'push_messages_total', { provider: 'webpush', ...labels }) ?? 0;
}

function calls(samples: readonly Sample[], outcome: string): number {
  return (
    valueOf(samples, 'push_request_duration_seconds_count', {
      provider: 'webpush',
      operation: 'send_notification',
      outcome,
    }) ?? 0
  );
}

interface Row {
  readonly name: string;
  readonly errorType: ErrorType;
  readonly reason: string | undefined;
  /** Scripted on the fake for this row's subscription id. */
  readonly fault?: Fault;
  readonly send?: (client: Client, subscription: FakePushSubscription) => Promise<unknown>;
  /** The rejection is the SDK's WebPushError for this status. */
  readonly status?: number;
  /** web-push refuses before any request. */
  readonly local?: boolean;
}

const ROWS: readonly Row[] = [
  {
    name: '410 autopush errno 106',
    fault: 'unregistered',
    status: 410,
    errorType: 'unregistered',
    reason: '410 errno 106',
  },
  {
    name: '410 Apple Unregistered',
    fault: { status: 410, reason: 'Unregistered' },
    status: 410,
    errorType: 'unregistered',
    reason: '410 Unregistered',
  },
  {
    name: '404 without errno',
    fault: { status: 404, reason: 'NotFound' },
    status: 404,
    errorType: 'unregistered',
    reason: '404 NotFound',
  },
  {
    name: '404 autopush errno 102',
    fault: 'invalid_token',
    status: 404,
    errorType: 'invalid_token',
    reason: '404 errno 102',
  },
  {
    name: '400 autopush errno 110',
    fault: 'payload_invalid',
    status: 400,
    errorType: 'payload_invalid',
    reason: '400 errno 110',
  },
  { name: '401 autopush errno 109', fault: 'auth', status: 401, errorType: 'auth', reason: '401 errno 109' },
  {
    name: '403 Apple BadJwtToken',
    fault: { status: 403, reason: 'BadJwtToken' },
    status: 403,
    errorType: 'auth',
    reason: '403 BadJwtToken',
  },
  { name: '403 FCM key mismatch', fault: 'config', status: 403, errorType: 'config', reason: '403' },
  {
    name: '301 endpoint moved',
    fault: { status: 301, reason: 'Moved' },
    status: 301,
    errorType: 'config',
    reason: '301 Moved',
  },
  {
    name: '413 autopush errno 104',
    fault: 'payload_too_large',
    status: 413,
    errorType: 'payload_too_large',
    reason: '413 errno 104',
  },
  {
    name: '429 with Retry-After',
    fault: 'rate_limited',
    status: 429,
    errorType: 'rate_limited',
    reason: '429 errno 201',
  },
  {
    name: '503 autopush errno 201',
    fault: 'provider_unavailable',
    status: 503,
    errorType: 'provider_unavailable',
    reason: '503 errno 201',
  },
  {
    name: '500 autopush errno 999',
    fault: { status: 500, reason: '999' },
    status: 500,
    errorType: 'provider_unavailable',
    reason: '500 errno 999',
  },
  {
    name: '502 bridge errno 902',
    fault: { status: 502, reason: '902' },
    status: 502,
    errorType: 'provider_unavailable',
    reason: '502 errno 902',
  },
  {
    name: 'other 4xx',
    fault: { status: 418, reason: 'Teapot' },
    status: 418,
    errorType: 'unknown',
    reason: '418 Teapot',
  },
  {
    name: 'no VAPID header (real 401)',
    send: (c, s) => c.sendNotification(s, 'hi', { agent, TTL: 60 }),
    status: 401,
    errorType: 'auth',
    reason: '401 errno 109',
  },
  {
    name: 'body over 4096 bytes (real 413)',
    send: (c, s) => c.sendNotification(s, 'x'.repeat(5000), options),
    status: 413,
    errorType: 'payload_too_large',
    reason: '413 errno 104',
  },
  {
    name: 'hang, timeout 200 ms',
    fault: 'hang',
    send: (c, s) => c.sendNotification(s, 'hi', { ...options, timeout: 200 }),
    errorType: 'timeout',
    reason: undefined,
  },
  { name: 'connection reset', fault: 'reset', errorType: 'network', reason: 'ECONNRESET' },
  {
    name: 'connection refused',
    send: async (c, s) =>
      c.sendNotification({ ...s, endpoint: `https://127.0.0.1:${await closedPort()}/push/x` }, 'hi', options),
    errorType: 'network',
    reason: 'ECONNREFUSED',
  },
  {
    name: 'untrusted certificate',
    send: (c, s) => c.sendNotification(s, 'hi', { vapidDetails }),
    errorType: 'network',
    reason: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  },
  {
    name: 'TLS to a plain HTTP port',
    send: (c, s) => c.sendNotification({ ...s, endpoint: `${plainHttpUrl}/push/x` }, 'hi', options),
    errorType: 'network',
    reason: 'EPROTO',
  },
  {
    name: 'corrupt p256dh key',
    local: true,
    send: (c, s) => c.sendNotification({ ...s, keys: { ...s.keys, p256dh: 'AAAA' } }, 'hi', options),
    errorType: 'invalid_token',
    reason: undefined,
  },
  {
    name: 'no subscription',
    local: true,
    send: (c) => c.sendNotification(undefined as never, 'hi', options),
    errorType: 'payload_invalid',
    reason: undefined,
  },
  {
    name: 'unknown send option',
    local: true,
    send: (c, s) => c.sendNotification(s, 'hi', { ...options, retries: 3 } as never),
    errorType: 'payload_invalid',
    reason: undefined,
  },
  {
    name: 'malformed VAPID key',
    local: true,
    send: (c, s) => c.sendNotification(s, 'hi', { ...options, vapidDetails: { ...vapidDetails, publicKey: 'AAAA' } }),
    errorType: 'config',
    reason: undefined,
  },
];

describe('instrumentWebPush: every failure the push service or the transport can produce', () => {
  for (const [i, row] of ROWS.entries()) {
    it(`${row.name} → ${row.errorType}`, async () => {
      const { telemetry, client, invalid } = harness();
      const subscription = webPushSubscription(fake.url, `row-${i}`);
      fake.faults.set({ rules: row.fault === undefined ? [] : [{ fault: row.fault, match: `row-${i}` }] });
      const requestsBefore = fake.stats.requests;

      const error: unknown = await (row.send ?? ((c, s) => c.sendNotification(s, 'hi', options)))(
        client,
        subscription,
      ).then(
        () => assert.fail('the send resolved'),
        (e: unknown) => e,
      );

      if (row.status !== undefined) {
        assert.ok(error instanceof webpush.WebPushError, 'rejects with the SDK WebPushError');
        assert.equal(error.statusCode, row.status);
        assert.equal(error.endpoint, subscription.endpoint);
      }
      if (row.local) assert.equal(fake.stats.requests, requestsBefore, 'web-push refused before sending');
      if (row.fault === 'rate_limited') assert.equal((error as webpush.WebPushError).headers['retry-after'], '120');

      const { samples } = await scrape(telemetry);
      for (const type of ERROR_TYPES)
        assert.equal(messages(samples, { outcome: 'failed', error_type: type }), type === row.errorType ? 1 : 0, type);
      assert.equal(messages(samples, { outcome: 'accepted' }), 0);
      assert.equal(calls(samples, 'failure'), 1);

      const spans = tracing.spans();
      assert.equal(spans.length, 1);
      assert.equal(spans[0]?.name, 'send_notification webpush');
      assert.equal(spans[0]?.status.code, SpanStatusCode.ERROR);
      assert.equal(spans[0]?.attributes['error.type'], row.errorType);
      assert.equal(spans[0]?.attributes['push.provider.reason'], row.reason);
      assert.equal(spans[0]?.attributes['messaging.batch.message_count'], undefined);

      const invalidType = row.errorType === 'unregistered' || row.errorType === 'invalid_token';
      assert.deepEqual(
        invalid,
        invalidType
          ? [
              {
                token: subscription.endpoint,
                errorType: row.errorType,
                provider: 'webpush',
                ...(row.reason !== undefined && { reason: row.reason }),
              },
            ]
          : [],
      );
    });
  }
});

describe('instrumentWebPush: accepted sends', () => {
  it('counts the accepted message and records the push message id from Location', async () => {
    fake.faults.set({});
    const { telemetry, client } = harness('com.example.web');
    const subscription = webPushSubscription(fake.url, 'ok-1');
    const result = await client.sendNotification(subscription, 'hello', options);
    assert.equal(result.statusCode, 201);

    const { samples, text } = await scrape(telemetry);
    assert.equal(
      valueOf(samples, 'push_messages_total', { provider: 'webpush', app: 'com.example.web', outcome: 'accepted' }),
      1,
    );
    assert.equal(
      valueOf(samples, 'push_request_duration_seconds_count', {
        provider: 'webpush',
        app: 'com.example.web',
        operation: 'send_notification',
        outcome: 'success',
      }),
      1,
    );
    assert.ok(!text.includes('ok-1') && !text.includes(fake.url), 'no endpoint in the exposition');

    const [span] = tracing.spans();
    assert.equal(span?.status.code, SpanStatusCode.UNSET);
    assert.equal(span?.attributes['messaging.message.id'], result.headers.location?.split('/').at(-1));
    assert.equal(span?.attributes['push.messages.accepted'], 1);
    assert.ok(!JSON.stringify([span?.attributes, span?.events]).includes('ok-1'), 'no endpoint on the span');
  });

  it('resolves with what an uninstrumented call resolves with, and rejects with the SDK own error object', async () => {
    fake.faults.set({ rules: [{ fault: 'unregistered', match: 'gone-id' }] });
    let seen: unknown;
    // Records what web-push itself settled with, before the instrumentation sees it.
    const spy: WebPushLike = {
      sendNotification(subscription, payload, opts) {
        const sent = webpush.sendNotification(
          subscription as webpush.PushSubscription,
          payload as string,
          opts as webpush.RequestOptions,
        );
        sent.then(
          (value) => (seen = value),
          (error: unknown) => (seen = error),
        );
        return sent;
      },
    };
    const client = instrumentWebPush(spy, new PushTelemetry({ tracerProvider: tracing.tracerProvider }));
    const value = await client.sendNotification(webPushSubscription(fake.url, 'same'), 'hi', options);
    assert.equal(value, seen);
    const error = await client
      .sendNotification(webPushSubscription(fake.url, 'gone-id'), 'hi', options)
      .then(undefined, (e: unknown) => e);
    assert.equal(error, seen);
    assert.ok(error instanceof webpush.WebPushError);

    const bare = await webpush.sendNotification(webPushSubscription(fake.url, 'bare'), 'hi', options);
    const wrapped = await harness().client.sendNotification(webPushSubscription(fake.url, 'wrapped'), 'hi', options);
    assert.deepEqual(Object.keys(wrapped).sort(), Object.keys(bare).sort());
    assert.deepEqual(Object.keys(wrapped.headers).sort(), Object.keys(bare.headers).sort());
    assert.deepEqual([wrapped.statusCode, wrapped.body], [bare.statusCode, bare.body]);
  });

  it('passes every other member through untouched and leaves the module uninstrumented', async () => {
    fake.faults.set({});
    const { telemetry, client } = harness();
    for (const key of Object.keys(webpush) as Array<keyof Client>) {
      if (key === 'sendNotification') continue;
      const member: unknown = webpush[key];
      // Functions come as stable stand-ins calling the module itself; everything else is the module's own value.
      if (typeof member === 'function') assert.equal(client[key], client[key], key);
      else assert.equal(client[key], member, key);
    }
    assert.notEqual(client.sendNotification, webpush.sendNotification);
    assert.equal(client.generateRequestDetails(webPushSubscription(fake.url, 'x'), 'hi', options).method, 'POST');
    await webpush.sendNotification(webPushSubscription(fake.url, 'direct'), 'hi', options);
    const { samples } = await scrape(telemetry);
    assert.equal(messages(samples, { outcome: 'accepted' }), 0, 'the module itself still sends uninstrumented');
    assert.equal(tracing.spans().length, 0);
  });

  it('instruments a WebPush-like object whose sendNotification lives on its prototype', async () => {
    fake.faults.set({ rules: [{ fault: 'unregistered', match: 'lib-gone' }] });
    const WebPushLib = createRequire(import.meta.url)('web-push/src/web-push-lib.js') as new () => WebPushLike;
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
    const client = instrumentWebPush(new WebPushLib(), telemetry);
    await client.sendNotification(webPushSubscription(fake.url, 'lib-ok'), 'hi', options);
    await assert.rejects(
      Promise.resolve(client.sendNotification(webPushSubscription(fake.url, 'lib-gone'), 'hi', options)),
      webpush.WebPushError,
    );
    const { samples } = await scrape(telemetry);
    assert.equal(messages(samples, { outcome: 'accepted' }), 1);
    assert.equal(messages(samples, { outcome: 'failed', error_type: 'unregistered' }), 1);
  });

  it('keeps exact counts over many sends in parallel', async () => {
    fake.faults.set({
      rules: [
        { fault: 'unregistered', match: 'gone-*' },
        { fault: 'provider_unavailable', match: 'down-*' },
      ],
    });
    const { telemetry, client, invalid } = harness();
    const ids = [
      ...Array.from({ length: 25 }, (_, i) => `ok-${i}`),
      ...Array.from({ length: 10 }, (_, i) => `gone-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `down-${i}`),
    ];
    const subscriptions = ids.map((id) => webPushSubscription(fake.url, id));
    const before = { ...fake.stats };
    const settled = await Promise.allSettled(subscriptions.map((s) => client.sendNotification(s, 'hi', options)));
    assert.equal(settled.filter((r) => r.status === 'fulfilled').length, 25);

    const { samples } = await scrape(telemetry);
    assert.equal(messages(samples, { outcome: 'accepted' }), 25);
    assert.equal(messages(samples, { outcome: 'failed', error_type: 'unregistered' }), 10);
    assert.equal(messages(samples, { outcome: 'failed', error_type: 'provider_unavailable' }), 5);
    assert.equal(calls(samples, 'success'), 25);
    assert.equal(calls(samples, 'failure'), 15);
    assert.equal(valueOf(samples, 'push_requests_in_flight', { provider: 'webpush' }), 0);
    assert.deepEqual(
      [
        fake.stats.requests - before.requests,
        fake.stats.accepted - before.accepted,
        fake.stats.refused - before.refused,
      ],
      [40, 25, 15],
    );
    assert.equal(tracing.spans().length, 40);
    assert.deepEqual(
      invalid.map((e) => e.token).sort(),
      subscriptions
        .slice(25, 35)
        .map((s) => s.endpoint)
        .sort(),
    );
  });
  it('honours the fault plan latency: an answer later than the SDK timeout is a timeout', async () => {
    fake.faults.set({ latencyMs: 400 });
    const { telemetry, client } = harness();
    await assert.rejects(
      client.sendNotification(webPushSubscription(fake.url, 'slow'), 'hi', { ...options, timeout: 100 }),
      /^Error: Socket timeout$/,
    );
    fake.faults.set({});
    const { samples } = await scrape(telemetry);
    assert.equal(messages(samples, { outcome: 'failed', error_type: 'timeout' }), 1);
  });
});

describe('instrumentWebPush: arguments and the classifier', () => {
  it('rejects a client without sendNotification, and unknown options, naming the adapter', () => {
    const telemetry = new PushTelemetry();
    assert.throws(() => instrumentWebPush({} as never, telemetry), {
      name: 'TypeError',
      message: /^instrumentWebPush: .*sendNotification\(\)/,
    });
    assert.throws(() => instrumentWebPush(null as never, telemetry), /instrumentWebPush/);
    assert.throws(
      () => instrumentWebPush(webpush, telemetry, { retries: 3 } as never),
      /instrumentWebPush: unknown option "retries"/,
    );
  });

  it('reads key mismatches from autopush and FCM bodies as config, other 401/403 as auth', () => {
    const error = (status: number, body: string) =>
      new webpush.WebPushError('Received unexpected response code', status, {}, body, 'https://push.example/x');
    const autopushMismatch = error(
      401,
      JSON.stringify({ code: 401, errno: 109, error: 'Unauthorized', message: 'VAPID public key mismatch' }),
    );
    assert.equal(classifyWebPushError(autopushMismatch), 'config');
    assert.equal(webPushReason(autopushMismatch), '401 errno 109');
    assert.equal(
      classifyWebPushError(
        error(
          403,
          'the key in the authorization header does not correspond to the sender ID used to subscribe this user.',
        ),
      ),
      'config',
    );
    assert.equal(
      classifyWebPushError(error(401, JSON.stringify({ code: 401, errno: 109, message: 'Invalid Authentication' }))),
      'auth',
    );
    assert.equal(classifyWebPushError(error(410, JSON.stringify({ code: 410, errno: 102 }))), 'invalid_token');
    assert.equal(
      classifyWebPushError(error(400, JSON.stringify({ code: 400, errno: 102 }))),
      'payload_invalid',
      'errno 102 only refines 404/410',
    );
    assert.equal(classifyWebPushError(error(400, '{not json')), 'payload_invalid');
    assert.equal(webPushReason(error(400, '{not json')), '400');
    assert.equal(webPushReason(error(403, JSON.stringify({ reason: 'x'.repeat(500) }))), '403', 'no unbounded reason');
  });

  it('never throws, whatever it is given', () => {
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
      },
    );
    for (const value of [undefined, null, 'Socket timeout', 42, hostile, { name: 'WebPushError', statusCode: 'x' }]) {
      assert.ok(ERROR_TYPES.includes(classifyWebPushError(value)));
      webPushReason(value);
    }
    assert.equal(classifyWebPushError(new Error('Socket timeout')), 'timeout');
    assert.equal(classifyWebPushError(Object.assign(new Error('x'), { code: 'EPROTO' })), 'network');
  });
});
