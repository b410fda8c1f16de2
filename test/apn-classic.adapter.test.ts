/**
 * instrumentApns on the original `apn` package (node-apn/node-apn, which @parse/node-apn forked): the same Provider
 * API, so the same adapter and the same APNs rows (test/apns-rows.ts) as test/apns.adapter.test.ts, through the real
 * `apn` against the simulator's fake APNs.
 *
 * The version is 3.0.0-alpha1, the last release, which speaks HTTP/2 with Node's built-in http2. 2.2.0, the "latest"
 * tag on npm, depends on a GitHub tarball of node-http2 that the npm registry cannot serve, so it cannot be installed
 * where only the registry is reachable (our CI). 3.0.0-alpha1 differs from @parse/node-apn where these tests show:
 * no request timeout, no retries except ExpiredProviderToken (twice, with a fresh token), no `broadcast`, no
 * `apns-id` in `sent`, and a `shutdown()` that throws on Node >= 10 (it calls the removed `session.shutdown`).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SpanStatusCode } from '@opentelemetry/api';
import apn from 'apn';
import { PushTelemetry, type InvalidTokenEvent } from '../src/index.js';
import { apnsReasonOf, classifyApnsError, instrumentApns } from '../src/providers/apns.js';
import { startFakeApns } from '../src/simulator/apns.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { createTracing, scrape, type Tracing } from './helpers.js';
import { assertMessages, calls, DOCUMENTED_ROWS, GENERIC_ROWS, rowName, type Row } from './apns-rows.js';

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const TOPIC = 'com.example.app';

let fake: FakeProvider;
let tracing: Tracing;
const providers: apn.Provider[] = [];

/** The HTTP/2 session apn 3.0.0-alpha1 keeps on its client, which is how it has to be closed. */
type ClassicClient = { session?: { destroyed: boolean; close(): void } };

function close(provider: apn.Provider): void {
  // provider.shutdown() calls http2's removed session.shutdown() and throws: close the session directly.
  const { session } = (provider as unknown as { client: ClassicClient }).client;
  if (session !== undefined && !session.destroyed) session.close();
}

/** A real `apn` Provider on the fake: `address` and `port` are honoured, TLS verification off for the loopback cert. */
function newProvider(): apn.Provider {
  const provider = new apn.Provider({
    token: { key, keyId: 'KEY1234567', teamId: 'TEAM123456' },
    address: '127.0.0.1',
    port: fake.port,
    rejectUnauthorized: false,
  } as apn.ProviderOptions);
  providers.push(provider);
  return provider;
}

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
  for (const provider of providers) close(provider);
  await fake.close();
  await tracing.shutdown();
});

function harness() {
  tracing.exporter.reset();
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
  const invalid: InvalidTokenEvent[] = [];
  const raw = newProvider();
  const provider = instrumentApns(raw, telemetry, {
    app: 'com.example.app',
    onInvalidToken: (event) => void invalid.push(event),
  });
  return { telemetry, raw, provider, invalid };
}

const ROWS: readonly Row[] = [
  ...DOCUMENTED_ROWS,
  { fault: { status: 400, reason: 'SomethingNew' }, errorType: 'payload_invalid', reason: 'SomethingNew' },
  { fault: { status: 403, reason: 'SomethingNew' }, errorType: 'auth', reason: 'SomethingNew' },
  { fault: { status: 404, reason: 'SomethingNew' }, errorType: 'payload_invalid', reason: 'SomethingNew' },
  { fault: { status: 410, reason: 'SomethingNew' }, errorType: 'unregistered', reason: 'SomethingNew' },
  { fault: { status: 502, reason: 'SomethingNew' }, errorType: 'provider_unavailable', reason: 'SomethingNew' },
  { fault: { status: 418, reason: 'SomethingNew' }, errorType: 'unknown', reason: 'SomethingNew' },
  ...GENERIC_ROWS,
  // apn's own failure: a reset stream.
  { fault: 'reset', errorType: 'network', reason: 'ERR_HTTP2_STREAM_ERROR' },
];

describe('instrumentApns on the classic apn 3.0.0-alpha1: every APNs answer', () => {
  it('is the version this file is about', async () => {
    const { default: manifest } = await import('apn/package.json', { with: { type: 'json' } });
    assert.equal(manifest.version, '3.0.0-alpha1');
  });

  ROWS.forEach((row, i) => {
    it(`${rowName(row)} → ${row.errorType}`, async () => {
      const { telemetry, provider, invalid } = harness();
      const token = `classic${i}-device`;
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

  it('retries ExpiredProviderToken twice with a fresh token, and counts the message once', async () => {
    const { telemetry, provider } = harness();
    fake.faults.set({ rules: [{ match: 'expired-device', fault: { status: 403, reason: 'ExpiredProviderToken' } }] });
    const before = fake.stats.requests;
    await provider.send(note(), 'expired-device');
    assert.equal(fake.stats.requests - before, 3, 'the first attempt and two retries');
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 0, { auth: 1 });
    assert.equal(calls(samples, 'send', 'failure'), 1);
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

describe('instrumentApns on the classic apn: batches, hangs and the view', () => {
  it('sends to 60 tokens with mixed answers and counts each message; only per-device verdicts prune', async () => {
    fake.faults.set({
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'bad-*', fault: 'invalid_token' },
        { match: 'busy-*', fault: 'rate_limited' },
        { match: 'down-*', fault: 'provider_unavailable' },
        { match: 'reset-*', fault: 'reset' },
      ],
    });
    const { telemetry, provider, invalid } = harness();
    const groups: Record<string, number> = { ok: 35, gone: 10, bad: 5, busy: 4, down: 3, reset: 3 };
    const tokens = Object.entries(groups).flatMap(([prefix, n]) =>
      Array.from({ length: n }, (_, i) => `${prefix}-${i}`),
    );
    const result = await provider.send(note(), tokens);
    assert.equal(result.sent.length, 35);
    const { samples } = await scrape(telemetry);
    assertMessages(samples, 35, {
      unregistered: 10,
      invalid_token: 5,
      rate_limited: 4,
      provider_unavailable: 3,
      network: 3,
    });
    assert.equal(calls(samples, 'send', 'partial'), 1);
    const [span] = tracing.spans();
    assert.equal(span?.attributes['messaging.batch.message_count'], 60);
    assert.equal(span?.attributes['messaging.message.id'], undefined, 'apn 3.0.0-alpha1 reports no apns-id');
    const expected = [
      ...tokens.filter((t) => t.startsWith('gone-')).map((t) => `${t}:unregistered`),
      ...tokens.filter((t) => t.startsWith('bad-')).map((t) => `${t}:invalid_token`),
    ];
    assert.deepEqual(invalid.map((e) => `${e.token}:${e.errorType}`).sort(), expected.sort());
  });

  it('has no request timeout: a hung request stays in flight until APNs lets go, then counts as network', async () => {
    fake.faults.set({ rules: [{ match: 'hang-device', fault: 'hang' }] });
    const { telemetry, provider } = harness();
    let settled = false;
    const call = provider.send(note(), 'hang-device').finally(() => {
      settled = true;
    });
    const deadline = Date.now() + 10_000;
    while (fake.faults.hanging === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.faults.hanging, 1);
    let { samples } = await scrape(telemetry);
    assert.equal(samples.find((s) => s.name === 'push_requests_in_flight')?.value, 1);
    assert.equal(settled, false);
    fake.faults.set({});
    fake.faults.dropHanging();
    const result = await call;
    assert.equal(result.failed.length, 1);
    ({ samples } = await scrape(telemetry));
    assertMessages(samples, 0, { network: 1 });
    assert.equal(samples.find((s) => s.name === 'push_requests_in_flight')?.value, 0);
  });

  it('reads the classic VError messages that carry no status', () => {
    // apn builds its own VErrors; these are its messages, written out.
    const entry = (message: string) => ({
      device: 'd',
      error: Object.assign(new Error(message), { jse_shortmsg: message }),
    });
    assert.equal(classifyApnsError(entry('Error 500, stream ended unexpectedly')), 'provider_unavailable');
    assert.equal(apnsReasonOf(entry('Error 500, stream ended unexpectedly')), 'InternalServerError');
    assert.equal(classifyApnsError(entry('stream ended unexpectedly')), 'network');
  });

  it('resolves with the very object apn resolved, and passes every other member through', async () => {
    fake.faults.set({});
    const { raw, provider } = harness();
    const result = await provider.send(note(), ['a', 'b']);
    assert.deepEqual(result, { sent: [{ device: 'a' }, { device: 'b' }], failed: [] });
    const clientOf = (p: apn.Provider) => (p as unknown as { client: ClassicClient }).client;
    assert.equal(clientOf(provider), clientOf(raw), 'members read through to the provider itself');
    assert.equal(typeof provider.on, 'function');
    assert.ok(provider instanceof apn.Provider);
    assert.equal(Object.hasOwn(raw, 'send'), false, 'the provider itself is not modified');
  });
});
