import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import { ApnsClient, ApnsError, Notification } from 'apns2';
import { Pool } from 'undici';
import { PushTelemetry, type InvalidTokenEvent } from '../src/index.js';
import { instrumentApns2, type Apns2ClientLike } from '../src/providers/apns2.js';
import { startFakeApns } from '../src/simulator/apns.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { createTracing, scrape, type Tracing } from './helpers.js';
import { assertMessages, calls, DOCUMENTED_ROWS, GENERIC_ROWS, rowName, type Row } from './apns-rows.js';

// A fresh P-256 key per run: apns2 signs real ES256 provider JWTs with it; nothing is committed.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const TOPIC = 'com.example.app';

let fake: FakeProvider;
let tracing: Tracing;
const clients: ApnsClient[] = [];

/**
 * A real apns2 client on the fake. apns2 12.2 always dials https://<host>:443 and ignores its requestTimeout option, so
 * its undici Pool (`client.client`) is swapped for one on the fake's port, with a short headers timeout for `hang`.
 */
function newClient(): ApnsClient {
  const client = new ApnsClient({
    team: 'TEAM123456',
    keyId: 'KEY1234567',
    signingKey,
    defaultTopic: TOPIC,
    host: '127.0.0.1',
  });
  void client.client.close();
  const pool = new Pool(fake.url, { allowH2: true, connect: { rejectUnauthorized: false }, headersTimeout: 300 });
  Object.defineProperty(client, 'client', { value: pool, writable: true, configurable: true, enumerable: true });
  clients.push(client);
  return client;
}

before(async () => {
  fake = await startFakeApns({
    host: '127.0.0.1',
    port: 0,
    identity: await loopbackIdentity(),
    faults: new FaultPlan(),
  });
  tracing = createTracing();
});
after(async () => {
  await Promise.all(clients.map((client) => client.destroy()));
  await fake.close();
  await tracing.shutdown();
});

/** A fresh telemetry and instrumented client per scenario, so every count is exact. */
function harness(prepare?: (raw: ApnsClient) => void) {
  tracing.exporter.reset();
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
  const invalid: InvalidTokenEvent[] = [];
  const raw = newClient();
  prepare?.(raw);
  const client = instrumentApns2(raw, telemetry, {
    app: 'com.example.app',
    onInvalidToken: (event) => void invalid.push(event),
  });
  return { telemetry, raw, client, invalid };
}

/** A harness whose client records the promise apns2 itself returned (patched before instrumenting). */
function spied(method: 'send' | 'sendMany') {
  let returned: Promise<unknown> | undefined;
  const parts = harness((raw) => {
    const original = raw[method] as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(raw, method, {
      value(this: ApnsClient, ...args: unknown[]) {
        returned = original.apply(this, args);
        return returned;
      },
      writable: true,
      configurable: true,
    });
  });
  return { ...parts, last: () => returned };
}

const alert = (token: string) => new Notification(token, { alert: 'Your order shipped' });

const ROWS: readonly Row[] = [
  ...DOCUMENTED_ROWS,
  // apns2 says UnknownError when the body is not APNs JSON (a proxy's page): the status decides.
  { fault: { status: 502, reason: 'UnknownError' }, errorType: 'provider_unavailable', reason: 'UnknownError' },
  { fault: { status: 400, reason: 'UnknownError' }, errorType: 'payload_invalid', reason: 'UnknownError' },
  { fault: { status: 404, reason: 'UnknownError' }, errorType: 'payload_invalid', reason: 'UnknownError' },
  { fault: { status: 418, reason: 'UnknownError' }, errorType: 'unknown', reason: 'UnknownError' },
  ...GENERIC_ROWS,
  // undici's own errors: the headers timeout (300 ms here) and a reset stream.
  { fault: 'hang', errorType: 'timeout', reason: 'UND_ERR_HEADERS_TIMEOUT' },
  { fault: 'reset', errorType: 'network', reason: 'ERR_HTTP2_STREAM_ERROR' },
];

describe('instrumentApns2: every APNs answer through apns2 send()', () => {
  ROWS.forEach((row, i) => {
    it(`${rowName(row)} → ${row.errorType}`, async () => {
      const { telemetry, client, invalid } = harness();
      const token = `row${i}-device`;
      fake.faults.set({ rules: [{ match: token, fault: row.fault }] });
      const error = await client.send(alert(token)).then(
        () => assert.fail('send resolved'),
        (e: unknown) => e,
      );
      if (typeof row.fault !== 'string' || !['hang', 'reset'].includes(row.fault)) {
        assert.ok(error instanceof ApnsError, 'apns2 rejects with its ApnsError');
        assert.equal(error.reason, row.reason);
      }

      const { samples } = await scrape(telemetry);
      assertMessages(samples, 0, { [row.errorType]: 1 });
      assert.equal(calls(samples, 'send', 'failure'), 1);
      const [span] = tracing.spans();
      assert.equal(span?.name, 'send apns');
      assert.equal(span?.status.code, SpanStatusCode.ERROR);
      assert.equal(span?.attributes['error.type'], row.errorType);
      assert.equal(span?.attributes['push.provider.reason'], row.reason);
      assert.equal(span?.attributes['messaging.batch.message_count'], undefined, 'send is one message');
      const expected =
        row.errorType === 'unregistered' || row.errorType === 'invalid_token'
          ? [`${token}:${row.errorType}:${row.reason}`]
          : [];
      assert.deepEqual(
        invalid.map((e) => `${e.token}:${e.errorType}:${e.reason}`),
        expected,
      );
    });
  });

  it('resolves with the very notification apns2 resolved and counts it accepted', async () => {
    fake.faults.set({});
    const { telemetry, client, ...spy } = spied('send');
    const notification = alert('fine');
    const result = await client.send(notification);
    assert.equal(result, notification);
    assert.equal(result, await spy.last());
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 1, {});
    assert.equal(calls(samples, 'send', 'success'), 1);
  });

  it('rejects with apns2’s own ApnsError object', async () => {
    fake.faults.set({ rules: [{ fault: 'unregistered' }] });
    const { client, ...spy } = spied('send');
    const error = await client.send(alert('gone')).catch((e: unknown) => e);
    assert.ok(error instanceof ApnsError);
    assert.equal(error, await spy.last()?.catch((e: unknown) => e));
  });
});

describe('instrumentApns2: sendMany', () => {
  it('counts each notification of a partial batch', async () => {
    fake.faults.set({
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'bad-*', fault: 'invalid_token' },
        { match: 'busy-*', fault: 'rate_limited' },
        { match: 'reset-*', fault: 'reset' },
      ],
    });
    const { telemetry, client, invalid, ...spy } = spied('sendMany');
    const groups: Record<string, number> = { ok: 13, gone: 3, bad: 2, busy: 1, reset: 1 };
    const tokens = Object.entries(groups).flatMap(([prefix, n]) =>
      Array.from({ length: n }, (_, i) => `${prefix}-${i}`),
    );
    const notifications = tokens.map(alert);

    const results = await client.sendMany(notifications);
    assert.equal(results, await spy.last(), 'the SDK’s own array');
    assert.equal(results[0], notifications[0], 'accepted entries are the notifications themselves');
    assert.ok((results[13] as { error?: unknown }).error instanceof ApnsError);

    const { samples } = await scrape(telemetry);
    assertMessages(samples, 13, { unregistered: 3, invalid_token: 2, rate_limited: 1, network: 1 });
    assert.equal(calls(samples, 'send_many', 'partial'), 1);
    assert.equal(
      calls(samples, 'send', 'failure') + calls(samples, 'send', 'success'),
      0,
      'sendMany’s inner send() calls are not counted twice',
    );
    const spans = tracing.spans();
    assert.deepEqual(
      spans.map((s) => s.name),
      ['send_many apns'],
    );
    assert.equal(spans[0]?.status.code, SpanStatusCode.UNSET);
    assert.equal(spans[0]?.attributes['messaging.batch.message_count'], 20);
    assert.equal(spans[0]?.attributes['push.messages.failed.unregistered'], 3);
    assert.deepEqual(invalid.map((e) => `${e.token}:${e.errorType}:${e.reason}`).sort(), [
      'bad-0:invalid_token:BadDeviceToken',
      'bad-1:invalid_token:BadDeviceToken',
      'gone-0:unregistered:Unregistered',
      'gone-1:unregistered:Unregistered',
      'gone-2:unregistered:Unregistered',
    ]);
  });

  it('marks a batch whose every notification failed as failure', async () => {
    fake.faults.set({ rules: [{ fault: 'provider_unavailable' }] });
    const { telemetry, client, invalid } = harness();
    await client.sendMany(['a', 'b', 'c'].map(alert));
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 0, { provider_unavailable: 3 });
    assert.equal(calls(samples, 'send_many', 'failure'), 1);
    const [span] = tracing.spans();
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span?.attributes['error.type'], 'provider_unavailable');
    assert.deepEqual(invalid, []);
  });

  it('counts an all-accepted batch as success', async () => {
    fake.faults.set({});
    const { telemetry, client } = harness();
    await client.sendMany(['a', 'b', 'c', 'd'].map(alert));
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 4, {});
    assert.equal(calls(samples, 'send_many', 'success'), 1);
  });

  it('rethrows sendMany’s synchronous throw synchronously', () => {
    const { client, raw } = harness();
    const thrown = (() => {
      try {
        raw.sendMany(null as never);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(thrown instanceof TypeError, 'apns2’s sendMany is not async');
    assert.throws(
      () => client.sendMany(null as never),
      (e: unknown) => e instanceof TypeError && e.message === thrown.message,
    );
  });
});

describe('instrumentApns2: the client view', () => {
  it('passes every other member through and leaves the client unmodified', () => {
    const { raw, client } = harness();
    assert.notEqual(client.send, raw.send);
    assert.notEqual(client.sendMany, raw.sendMany);
    assert.equal(client.client, raw.client);
    assert.equal(client.close, client.close);
    assert.equal(client.close.name, raw.close.name);
    assert.equal(client.ping, client.ping);
    assert.equal(client.ping.name, raw.ping.name);
    assert.equal(client.on, client.on);
    assert.equal(client.on.name, raw.on.name);
    assert.equal(client.team, 'TEAM123456');
    assert.equal(raw.send, ApnsClient.prototype.send, 'the client itself is untouched');
  });

  it('rejects a client that is not an apns2 ApnsClient, and unknown options', () => {
    const telemetry = new PushTelemetry();
    const halfClient = { send: async () => undefined } as unknown as Apns2ClientLike;
    assert.throws(
      () => instrumentApns2(halfClient, telemetry),
      (e: unknown) => e instanceof TypeError && /instrumentApns2.*apns2 ApnsClient.*sendMany\(\)/.test(e.message),
    );
    assert.throws(() => instrumentApns2(undefined as unknown as Apns2ClientLike, telemetry), TypeError);
    assert.throws(() => instrumentApns2(newClient(), telemetry, { app: 'bad app!' }), /app/);
  });
});
