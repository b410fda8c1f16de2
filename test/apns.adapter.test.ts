import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import apn from '@parse/node-apn';
import { ERROR_TYPES, PushTelemetry, type InvalidTokenEvent } from '../src/index.js';
import {
  APNS_REASONS,
  apnsReasonOf,
  classifyApnsError,
  classifyApnsReason,
  instrumentApns,
} from '../src/providers/apns.js';
import { startFakeApns } from '../src/simulator/apns.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { createTracing, scrape, type Tracing } from './helpers.js';
import { assertMessages, calls, DOCUMENTED_ROWS, GENERIC_ROWS, REASON_ROWS, rowName, type Row } from './apns-rows.js';

// A fresh P-256 key per run: node-apn signs real ES256 provider JWTs with it; nothing is committed.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const TOPIC = 'com.example.app';

let fake: FakeProvider;
let tracing: Tracing;
const providers: apn.Provider[] = [];

/** A real node-apn Provider on the fake. No retries and a short timeout unless a test asks otherwise. */
function newProvider(extra: apn.ProviderOptions = {}): apn.Provider {
  const provider = new apn.Provider({
    token: { key, keyId: 'KEY1234567', teamId: 'TEAM123456' },
    address: '127.0.0.1',
    port: fake.port,
    rejectUnauthorized: false,
    connectionRetryLimit: 0,
    requestTimeout: 300,
    ...extra,
  });
  providers.push(provider);
  return provider;
}

/** A notification for TOPIC; `null` for none (broadcasts carry a channel id instead). */
function note(topic: string | null = TOPIC): apn.Notification {
  const notification = new apn.Notification({ alert: 'Your order shipped' });
  if (topic !== null) notification.topic = topic;
  return notification;
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
  for (const provider of providers) provider.shutdown();
  await fake.close();
  await tracing.shutdown();
});

/** A fresh telemetry and instrumented provider per scenario, so every count is exact. */
function harness(providerOptions?: apn.ProviderOptions, prepare?: (raw: apn.Provider) => void) {
  tracing.exporter.reset();
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
  const invalid: InvalidTokenEvent[] = [];
  const raw = newProvider(providerOptions);
  prepare?.(raw);
  const provider = instrumentApns(raw, telemetry, {
    app: 'com.example.app',
    onInvalidToken: (event) => void invalid.push(event),
  });
  return { telemetry, raw, provider, invalid };
}

const ROWS: readonly Row[] = [
  ...DOCUMENTED_ROWS,
  // Reasons Apple may add later: the status decides, and a 404 never prunes a token (APNs' only 404 is BadPath).
  { fault: { status: 400, reason: 'SomethingNew' }, errorType: 'payload_invalid', reason: 'SomethingNew' },
  { fault: { status: 403, reason: 'SomethingNew' }, errorType: 'auth', reason: 'SomethingNew' },
  { fault: { status: 404, reason: 'SomethingNew' }, errorType: 'payload_invalid', reason: 'SomethingNew' },
  { fault: { status: 410, reason: 'SomethingNew' }, errorType: 'unregistered', reason: 'SomethingNew' },
  { fault: { status: 502, reason: 'SomethingNew' }, errorType: 'provider_unavailable', reason: 'SomethingNew' },
  { fault: { status: 418, reason: 'SomethingNew' }, errorType: 'unknown', reason: 'SomethingNew' },
  ...GENERIC_ROWS,
  // node-apn's own failures: a request timeout (requestTimeout 300 ms) and a reset stream.
  { fault: 'hang', errorType: 'timeout', reason: 'apn write timeout' },
  { fault: 'reset', errorType: 'network', reason: 'ERR_HTTP2_STREAM_ERROR' },
];

describe('instrumentApns: every APNs answer through node-apn', () => {
  ROWS.forEach((row, i) => {
    it(`${rowName(row)} → ${row.errorType}`, async () => {
      const { telemetry, provider, invalid } = harness();
      const token = `row${i}-device`;
      fake.faults.set({ rules: [{ match: token, fault: row.fault }] });
      const result = await provider.send(note(), token);
      assert.equal(result.sent.length, 0);
      assert.equal(result.failed.length, 1);

      const { samples } = await scrape(telemetry);
      assertMessages(samples, 0, { [row.errorType]: 1 });
      assert.equal(calls(samples, 'send', 'failure'), 1);
      const [span] = tracing.spans();
      assert.equal(span?.status.code, SpanStatusCode.ERROR);
      assert.equal(span?.attributes['error.type'], row.errorType);
      assert.equal(span?.attributes['push.provider.reason'], row.reason);
      assert.equal(span?.attributes['messaging.batch.message_count'], undefined, 'one recipient is not a batch');
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

  it('Apple-side checks of the fake itself: no topic → MissingTopic (config), 5 KB payload → PayloadTooLarge', async () => {
    fake.faults.set({});
    const { telemetry, provider } = harness();
    const noTopic = await provider.send(note(null), 'device-a');
    assert.equal(noTopic.failed[0]?.response?.reason, 'MissingTopic');
    const big = note();
    big.alert = 'x'.repeat(5000);
    const tooBig = await provider.send(big, 'device-b');
    assert.equal(tooBig.failed[0]?.status, 413);
    assertMessages((await scrape(telemetry)).samples, 0, { config: 1, payload_too_large: 1 });
  });
});

describe('instrumentApns: batches', () => {
  it('sends to 100 tokens with mixed answers and counts each message', async () => {
    fake.faults.set({
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'bad-*', fault: 'invalid_token' },
        { match: 'busy-*', fault: 'rate_limited' },
        { match: 'topic-*', fault: 'config' },
        { match: 'down-*', fault: 'provider_unavailable' },
        { match: 'hang-*', fault: 'hang' },
        { match: 'reset-*', fault: 'reset' },
      ],
    });
    const { telemetry, provider, invalid } = harness();
    const groups: Record<string, number> = { ok: 55, gone: 10, bad: 10, busy: 5, topic: 5, down: 5, hang: 5, reset: 5 };
    const tokens = Object.entries(groups).flatMap(([prefix, n]) =>
      Array.from({ length: n }, (_, i) => `${prefix}-${i}`),
    );
    assert.equal(tokens.length, 100);

    const result = await provider.send(note(), tokens);
    assert.equal(result.sent.length, 55);

    const { samples } = await scrape(telemetry);
    assertMessages(samples, 55, {
      unregistered: 10,
      invalid_token: 10,
      rate_limited: 5,
      config: 5,
      provider_unavailable: 5,
      timeout: 5,
      network: 5,
    });
    assert.equal(calls(samples, 'send', 'partial'), 1);
    assert.equal(calls(samples, 'send', 'failure') + calls(samples, 'send', 'success'), 0);
    const [span] = tracing.spans();
    assert.equal(span?.status.code, SpanStatusCode.UNSET);
    assert.equal(span?.attributes['messaging.batch.message_count'], 100);
    assert.equal(span?.attributes['push.messages.accepted'], 55);
    assert.equal(span?.attributes['push.messages.failed'], 45);
    assert.equal(span?.attributes['push.messages.failed.timeout'], 5);
    const expected = [
      ...tokens.filter((t) => t.startsWith('gone-')).map((t) => `${t}:unregistered`),
      ...tokens.filter((t) => t.startsWith('bad-')).map((t) => `${t}:invalid_token`),
    ];
    assert.deepEqual(invalid.map((e) => `${e.token}:${e.errorType}`).sort(), expected.sort());
  });

  it('counts an all-accepted batch as success with the apns-id of a single message', async () => {
    fake.faults.set({});
    const { telemetry, provider } = harness();
    const one = note();
    one.id = '123e4567-e89b-12d3-a456-426614174000';
    const result = await provider.send(one, ['solo']);
    assert.equal(result.sent[0]?.device, 'solo');
    await provider.send(note(), ['a', 'b', 'c']);
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 4, {});
    assert.equal(calls(samples, 'send', 'success'), 2);
    assert.equal(tracing.spans()[0]?.attributes['messaging.message.id'], one.id, 'the fake echoes apns-id');
  });

  it('instruments a MultiProvider the same way', async () => {
    fake.faults.set({ rules: [{ match: 'gone-*', fault: 'unregistered' }] });
    tracing.exporter.reset();
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, app: 'com.example.app' });
    const raw = new apn.MultiProvider({
      token: { key, keyId: 'KEY1234567', teamId: 'TEAM123456' },
      address: '127.0.0.1',
      port: fake.port,
      rejectUnauthorized: false,
      clientCount: 2,
    });
    try {
      const result = await instrumentApns(raw, telemetry).send(note(), ['a', 'gone-1', 'b']);
      assert.equal(result.sent.length, 2);
    } finally {
      raw.shutdown();
    }
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 2, { unregistered: 1 });
    assert.equal(calls(samples, 'send', 'partial'), 1);
  });

  it('records one duration for a call node-apn retried internally', async () => {
    fake.faults.set({ rules: [{ match: 'retried', fault: 'provider_unavailable' }] });
    const { telemetry, provider } = harness({ connectionRetryLimit: 2 });
    const before = fake.stats.requests;
    const result = await provider.send(note(), 'retried');
    assert.equal(fake.stats.requests - before, 3, 'node-apn tried three times');
    assert.equal(result.failed[0]?.status, 503);
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 0, { provider_unavailable: 1 });
    assert.equal(calls(samples, 'send', 'failure'), 1);
  });

  it('instruments broadcast: one message per notification, no token for onInvalidToken', async () => {
    fake.faults.set({ rules: [{ match: 'channel-gone', fault: { status: 410, reason: 'ChannelNotRegistered' } }] });
    const { telemetry, provider, invalid } = harness();
    const live = note(null);
    live.channelId = 'channel-live';
    const gone = note(null);
    gone.channelId = 'channel-gone';
    const result = await provider.broadcast([live, gone], TOPIC);
    assert.equal(result.sent.length, 1);
    assert.equal(result.failed[0]?.status, 410);
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 1, { unregistered: 1 });
    assert.equal(calls(samples, 'broadcast', 'partial'), 1);
    assert.equal(tracing.spans()[0]?.name, 'broadcast apns');
    assert.deepEqual(invalid, []);
  });
});

describe('instrumentApns: transparency', () => {
  /** A harness whose provider records the promise node-apn itself returned (patched before instrumenting). */
  function spied() {
    let returned: Promise<unknown> | undefined;
    const parts = harness(undefined, (raw) => {
      const original = raw.send;
      raw.send = function (this: apn.Provider, ...args: Parameters<apn.Provider['send']>) {
        returned = original.apply(this, args);
        return returned as ReturnType<apn.Provider['send']>;
      };
    });
    return { ...parts, last: () => returned };
  }

  it('resolves with the very object node-apn resolved', async () => {
    fake.faults.set({ rules: [{ match: 'gone', fault: 'unregistered' }] });
    const { provider, ...spy } = spied();
    const result = await provider.send(note(), ['ok', 'gone']);
    assert.equal(result, await spy.last());
    assert.deepEqual(
      result.failed.map((f) => [f.device, f.status, f.response?.reason]),
      [['gone', 410, 'Unregistered']],
    );
  });

  it('rejects with node-apn’s own error when the whole call fails, counting every token', async () => {
    const { telemetry, provider, invalid, ...spy } = spied();
    const error = await provider.send({} as apn.Notification, ['x', 'y']).catch((e: unknown) => e);
    assert.ok(error instanceof TypeError, 'node-apn calls notification.headers()');
    assert.equal(error, await spy.last()?.catch((e: unknown) => e));
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 0, { unknown: 2 });
    assert.equal(calls(samples, 'send', 'failure'), 1);
    assert.equal(tracing.spans()[0]?.attributes['error.type'], 'unknown');
    assert.deepEqual(invalid, []);
  });

  it('counts sends after shutdown as canceled', async () => {
    const { telemetry, raw, provider } = harness();
    raw.shutdown();
    const result = await provider.send(note(), 'late');
    assert.match(String(result.failed[0]?.error?.message), /client is destroyed/);
    assertMessages((await scrape(telemetry)).samples, 0, { canceled: 1 });
  });

  it('passes every other member through and leaves the provider unmodified', () => {
    const { raw, provider } = harness();
    assert.notEqual(provider.send, raw.send);
    assert.notEqual(provider.broadcast, raw.broadcast);
    const clientOf = (p: object) => (p as { client?: unknown }).client;
    assert.ok(clientOf(raw) !== undefined);
    assert.equal(clientOf(provider), clientOf(raw));
    assert.equal(provider.shutdown, provider.shutdown);
    assert.equal(provider.shutdown.name, raw.shutdown.name);
    assert.equal(provider.manageChannels, provider.manageChannels);
    assert.equal(provider.manageChannels.name, raw.manageChannels.name);
    assert.equal(provider.on, provider.on);
    assert.equal(provider.on.name, raw.on.name);
    assert.equal(raw.send, apn.Provider.prototype.send, 'the provider itself is untouched');
  });

  it('rejects a client that is not a node-apn provider, and unknown options', () => {
    const telemetry = new PushTelemetry();
    assert.throws(
      () => instrumentApns({} as apn.Provider, telemetry),
      (e: unknown) => e instanceof TypeError && /instrumentApns.*node-apn Provider.*send\(\)/.test(e.message),
    );
    assert.throws(() => instrumentApns(null as unknown as apn.Provider, telemetry), TypeError);
    assert.throws(
      () => instrumentApns(newProvider(), telemetry, { tokens: [] } as never),
      /instrumentApns: unknown option "tokens"/,
    );
  });
});

describe('classifyApnsError', () => {
  it('reads node-apn failure entries, apns2 errors and transport errors', () => {
    assert.equal(classifyApnsError({ device: 'd', status: 410, response: { reason: 'Unregistered' } }), 'unregistered');
    assert.equal(classifyApnsError({ device: 'd', status: 403, error: new Error('ExpiredProviderToken') }), 'auth');
    assert.equal(
      classifyApnsError({ device: 'd', status: 500, error: new Error('Error 500, stream ended unexpectedly') }),
      'provider_unavailable',
    );
    assert.equal(
      classifyApnsError({ device: 'd', error: new Error('stream ended unexpectedly with status 503 and empty body') }),
      'provider_unavailable',
    );
    assert.equal(
      classifyApnsError({ device: 'd', error: new Error('stream ended unexpectedly with status null and empty body') }),
      'network',
    );
    assert.equal(classifyApnsError({ device: 'd', error: 'apn write timeout' }), 'timeout');
    assert.equal(
      classifyApnsError({ device: 'd', error: new Error('apn write failed: connect ECONNREFUSED 127.0.0.1:1') }),
      'network',
    );
    assert.equal(
      classifyApnsError({ device: 'd', error: new Error('client session is either closed or destroyed') }),
      'network',
    );
    // node-apn spreads a raw Node error into the entry when session.request() throws: only `code` survives.
    assert.equal(classifyApnsError({ device: 'd', code: 'ERR_HTTP2_INVALID_SESSION' }), 'network');
    assert.equal(
      classifyApnsError(
        Object.assign(new Error('APNS Error: 502 - UnknownError'), {
          statusCode: 502,
          response: { reason: 'UnknownError' },
        }),
      ),
      'provider_unavailable',
    );
    assert.equal(
      classifyApnsError(Object.assign(new Error('x'), { statusCode: 418, response: { reason: 'UnknownError' } })),
      'unknown',
    );
    assert.equal(
      classifyApnsError(Object.assign(new Error('headers timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
      'timeout',
    );
    assert.equal(classifyApnsReason(undefined, 'constructor'), 'unknown', 'no prototype keys');
    assert.equal(Object.keys(APNS_REASONS).length, REASON_ROWS.length);
  });

  it('never throws, whatever it is given', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    for (const value of [
      undefined,
      null,
      42,
      '',
      'nonsense',
      hostile,
      () => 1,
      { error: null },
      { status: '(timeout)' },
    ]) {
      assert.ok(ERROR_TYPES.includes(classifyApnsError(value)));
      apnsReasonOf(value);
    }
  });
});

describe('the fake APNs', () => {
  async function post(path: string, headers: Record<string, string>, body = '{"aps":{}}') {
    const session = http2.connect(fake.url, { rejectUnauthorized: false });
    try {
      return await new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>(
        (resolve, reject) => {
          const request = session.request({ ':method': 'POST', ':path': path, ...headers });
          let data = '';
          let head: http2.IncomingHttpHeaders = {};
          request.setEncoding('utf8');
          request.on('response', (h) => (head = h));
          request.on('data', (chunk: string) => (data += chunk));
          request.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: data }));
          request.on('error', reject);
          request.end(body);
        },
      );
    } finally {
      session.close();
    }
  }
  const jwt = (claims: object) =>
    [{ alg: 'ES256', kid: 'KEY1234567' }, claims, 'c2ln']
      .map((part) => (typeof part === 'string' ? part : Buffer.from(JSON.stringify(part)).toString('base64url')))
      .join('.');

  it('refuses what APNs refuses before looking at the device', async () => {
    fake.faults.set({ rules: [{ fault: 'unregistered' }] });
    const auth = { authorization: `bearer ${jwt({ iss: 'TEAM123456', iat: 1 })}`, 'apns-topic': TOPIC };
    const reasonOf = async (path: string, headers: Record<string, string>, body?: string) => {
      const answer = await post(path, headers, body);
      return `${answer.status} ${(JSON.parse(answer.body) as { reason: string }).reason}`;
    };
    assert.equal(await reasonOf('/3/device/abc', { 'apns-topic': TOPIC }), '403 MissingProviderToken');
    assert.equal(
      await reasonOf('/3/device/abc', { authorization: 'bearer not-a-jwt', 'apns-topic': TOPIC }),
      '403 InvalidProviderToken',
    );
    assert.equal(
      await reasonOf('/3/device/abc', { ...auth, authorization: `bearer ${jwt({ iat: 1 })}` }),
      '403 InvalidProviderToken',
    );
    assert.equal(await reasonOf('/2/device/abc', auth), '404 BadPath');
    assert.equal(await reasonOf('/3/device/abc', { ...auth, ':method': 'PUT' }), '405 MethodNotAllowed');
    assert.equal(await reasonOf('/3/device/abc', auth, ''), '400 PayloadEmpty');
    const gone = await post('/3/device/abc', { ...auth, 'apns-id': 'a-b-c' });
    assert.equal(gone.status, 410);
    assert.equal(gone.headers['apns-id'], 'a-b-c');
    assert.ok(typeof (JSON.parse(gone.body) as { timestamp: unknown }).timestamp === 'number');
    fake.faults.set({});
    const ok = await post('/3/device/abc', auth);
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['apns-id']), /^[0-9a-f-]{36}$/);
  });
});
