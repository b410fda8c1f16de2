import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import {
  FirebaseMessagingError,
  getMessaging,
  Messaging,
  type BatchResponse,
  type Message,
  type MulticastMessage,
} from 'firebase-admin/messaging';
import { ERROR_TYPES, PushTelemetry, isErrorType, type ErrorType, type InvalidTokenEvent } from '../src/index.js';
import { classifyFcmError, FCM_ERROR_TYPES, instrumentFcm } from '../src/providers/fcm.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { fcmLoopbackAgent, startFakeFcm } from '../src/simulator/fcm.js';
import { FaultPlan, type FaultRule } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { closedPort, codeError, createTracing, scrape, valueOf, type Sample, type Tracing } from './helpers.js';
import { installedMajor } from './sdk-versions.js';

const APP = 'demo-project';
const credential = { getAccessToken: async () => ({ access_token: 'test-access-token', expires_in: 3600 }) };

let fake: FakeProvider;
let tracing: Tracing;
const apps: App[] = [];

before(async () => {
  fake = await startFakeFcm({
    host: '127.0.0.1',
    port: 0,
    identity: await loopbackIdentity(),
    faults: new FaultPlan(),
  });
  tracing = createTracing();
});
after(async () => {
  await Promise.all(apps.map((app) => deleteApp(app)));
  await fake.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.exporter.reset());

/**
 * A real Messaging pointed at the fake. `send` always speaks HTTP/1.1 through the agent; `sendEach*` do too once the
 * legacy transport is on (firebase-admin's HTTP/2 transport dials fcm.googleapis.com:443 whatever the options).
 */
function newMessaging(
  options: { legacy?: boolean; projectId?: string | null; credential?: typeof credential } = {},
): Messaging {
  const projectId = options.projectId === undefined ? APP : options.projectId;
  const app = initializeApp(
    {
      ...(projectId !== null && { projectId }),
      credential: options.credential ?? credential,
      httpAgent: fcmLoopbackAgent(fake.url, { timeoutMs: 100 }),
    },
    `fcm-test-${apps.length}`,
  );
  apps.push(app);
  const messaging = getMessaging(app);
  if (options.legacy ?? true) messaging.enableLegacyHttpTransport();
  return messaging;
}

interface Setup {
  readonly telemetry: PushTelemetry;
  readonly raw: Messaging;
  readonly fcm: Messaging;
  readonly events: InvalidTokenEvent[];
}

function setup(rules: readonly FaultRule[], raw: Messaging = newMessaging(), app = APP): Setup {
  fake.faults.set({ rules });
  const events: InvalidTokenEvent[] = [];
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, app });
  const fcm = instrumentFcm(raw, telemetry, { onInvalidToken: (event) => void events.push(event) });
  return { telemetry, raw, fcm, events };
}

interface Counts {
  readonly accepted: number;
  readonly failed: Partial<Record<ErrorType, number>>;
}

function messageCounts(samples: readonly Sample[], app = APP): Counts {
  const failed: Partial<Record<ErrorType, number>> = {};
  for (const type of ERROR_TYPES) {
    const value =
      valueOf(samples, 'push_messages_total', { provider: 'fcm', app, outcome: 'failed', error_type: type }) ?? 0;
    if (value !== 0) failed[type] = value;
  }
  return {
    accepted: valueOf(samples, 'push_messages_total', { provider: 'fcm', app, outcome: 'accepted' }) ?? 0,
    failed,
  };
}

function durations(samples: readonly Sample[], operation: string, app = APP): Record<string, number> {
  const out: Record<string, number> = {};
  for (const outcome of ['success', 'partial', 'failure']) {
    const count =
      valueOf(samples, 'push_request_duration_seconds_count', { provider: 'fcm', app, operation, outcome }) ?? 0;
    if (count !== 0) out[outcome] = count;
  }
  return out;
}

function onlySpan(name: string, app?: string): ReadableSpan {
  const spans = tracing
    .spans()
    .filter((span) => span.name === name && (app === undefined || span.attributes['push.app'] === app));
  assert.equal(spans.length, 1, `one ${name} span`);
  return spans[0] as ReadableSpan;
}

const invalid = (events: readonly InvalidTokenEvent[]): string[] =>
  events.map((e) => `${e.token} ${e.errorType} ${e.reason ?? '-'}`).sort();
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => assert.fail('resolved'),
    (error: unknown) => error,
  );

interface Row {
  readonly name: string;
  readonly fault: FaultRule['fault'];
  readonly code: string;
  readonly type: ErrorType;
}

const ROWS: readonly Row[] = [
  {
    name: 'UNREGISTERED (404)',
    fault: 'unregistered',
    code: 'messaging/registration-token-not-registered',
    type: 'unregistered',
  },
  {
    name: 'INVALID_ARGUMENT "not a valid FCM registration token"',
    fault: 'invalid_token',
    code: 'messaging/invalid-argument',
    type: 'invalid_token',
  },
  {
    name: 'legacy InvalidRegistration',
    fault: { status: 400, reason: 'InvalidRegistration' },
    code: 'messaging/invalid-registration-token',
    type: 'invalid_token',
  },
  {
    name: 'INVALID_ARGUMENT on a field',
    fault: 'payload_invalid',
    code: 'messaging/invalid-argument',
    type: 'payload_invalid',
  },
  {
    name: 'INVALID_ARGUMENT "Message is too big"',
    fault: 'payload_too_large',
    code: 'messaging/invalid-argument',
    type: 'payload_too_large',
  },
  {
    name: 'legacy MessageTooBig',
    fault: { status: 400, reason: 'MessageTooBig' },
    code: 'messaging/payload-size-limit-exceeded',
    type: 'payload_too_large',
  },
  { name: 'THIRD_PARTY_AUTH_ERROR (401)', fault: 'auth', code: 'messaging/third-party-auth-error', type: 'auth' },
  {
    name: 'a non-JSON 401',
    fault: { status: 401, reason: 'Request had invalid authentication credentials.' },
    code: 'messaging/authentication-error',
    type: 'auth',
  },
  { name: 'SENDER_ID_MISMATCH (403)', fault: 'config', code: 'messaging/mismatched-credential', type: 'config' },
  {
    name: 'legacy InvalidPackageName',
    fault: { status: 400, reason: 'InvalidPackageName' },
    code: 'messaging/invalid-package-name',
    type: 'config',
  },
  {
    name: 'QUOTA_EXCEEDED (429)',
    fault: 'rate_limited',
    code: 'messaging/message-rate-exceeded',
    type: 'rate_limited',
  },
  {
    name: 'DeviceMessageRateExceeded',
    fault: { status: 429, reason: 'DeviceMessageRateExceeded' },
    code: 'messaging/device-message-rate-exceeded',
    type: 'rate_limited',
  },
  {
    name: 'TopicsMessageRateExceeded',
    fault: { status: 429, reason: 'TopicsMessageRateExceeded' },
    code: 'messaging/topics-message-rate-exceeded',
    type: 'rate_limited',
  },
  {
    name: 'INTERNAL (500)',
    fault: { status: 500, reason: 'INTERNAL' },
    code: 'messaging/internal-error',
    type: 'provider_unavailable',
  },
  {
    name: 'a non-JSON 502',
    fault: { status: 502, reason: 'Bad Gateway' },
    code: 'messaging/unknown-error',
    type: 'provider_unavailable',
  },
  {
    name: 'UNSPECIFIED_ERROR',
    fault: { status: 500, reason: 'UNSPECIFIED_ERROR' },
    code: 'messaging/unknown-error',
    type: 'unknown',
  },
  {
    name: 'a non-JSON 418',
    fault: { status: 418, reason: "I'm a teapot" },
    code: 'messaging/unknown-error',
    type: 'unknown',
  },
];
const prunes = (type: ErrorType): boolean => type === 'unregistered' || type === 'invalid_token';

describe('instrumentFcm: every mapping row through send()', () => {
  for (const row of ROWS) {
    it(`${row.name} → ${row.code} → ${row.type}`, async () => {
      const { telemetry, fcm, events } = setup([{ match: 'bad-token', fault: row.fault }]);
      const error = await rejection(fcm.send({ token: 'bad-token', notification: { title: 'hi' } }));
      assert.ok(error instanceof FirebaseMessagingError, 'the SDK error itself');
      assert.equal(error.code, row.code);
      const { samples } = await scrape(telemetry);
      assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { [row.type]: 1 } });
      assert.deepEqual(durations(samples, 'send'), { failure: 1 });
      const span = onlySpan('send fcm');
      assert.equal(span.attributes['error.type'], row.type);
      assert.equal(span.attributes['push.provider.reason'], row.code);
      assert.deepEqual(invalid(events), prunes(row.type) ? [`bad-token ${row.type} ${row.code}`] : []);
    });
  }
});

describe('instrumentFcm: every mapping row through sendEach()', () => {
  for (const row of ROWS) {
    it(`${row.name}: one refused message among three → partial, ${row.type}`, async () => {
      const { telemetry, fcm, events } = setup([{ match: 'bad-token', fault: row.fault }]);
      const result = await fcm.sendEach([{ token: 'ok-1' }, { token: 'bad-token' }, { topic: 'news' }]);
      assert.deepEqual([result.successCount, result.failureCount], [2, 1]);
      assert.equal(result.responses[1]?.error?.code, row.code);
      const { samples } = await scrape(telemetry);
      assert.deepEqual(messageCounts(samples), { accepted: 2, failed: { [row.type]: 1 } });
      assert.deepEqual(durations(samples, 'send_each'), { partial: 1 });
      const span = onlySpan('send_each fcm');
      assert.equal(span.attributes['messaging.batch.message_count'], 3);
      assert.equal(span.attributes[`push.messages.failed.${row.type}`], 1);
      assert.equal(span.attributes['error.type'], undefined, 'a partial call is not an error');
      assert.deepEqual(
        span.events.map((e) => [e.attributes?.['error.type'], e.attributes?.['push.provider.reason']]),
        [[row.type, row.code]],
      );
      assert.deepEqual(invalid(events), prunes(row.type) ? [`bad-token ${row.type} ${row.code}`] : []);
    });
  }
});

describe('instrumentFcm: failures firebase-admin raises itself', () => {
  it('a credential that cannot mint a token → app/invalid-credential → auth, per message in sendEach', async () => {
    const broken = { getAccessToken: () => Promise.reject(new Error('invalid_grant')) } as unknown as typeof credential;
    const { telemetry, fcm } = setup([], newMessaging({ credential: broken }));
    const error = await rejection(fcm.send({ token: 'ok-1' }));
    assert.equal((error as { code?: string }).code, 'app/invalid-credential');
    const result = await fcm.sendEach([{ token: 'ok-1' }, { token: 'ok-2' }]);
    assert.equal(result.failureCount, 2);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { auth: 3 } });
    assert.deepEqual(durations(samples, 'send'), { failure: 1 });
    assert.deepEqual(durations(samples, 'send_each'), { failure: 1 });
    assert.equal(
      onlySpan('send_each fcm').attributes['error.type'],
      'auth',
      'every message failed: the span is an error',
    );
  });

  it('no project id → messaging/invalid-argument "Failed to determine project ID" → config', async (t) => {
    const saved = {
      GOOGLE_CLOUD_PROJECT: process.env.GOOGLE_CLOUD_PROJECT,
      GCLOUD_PROJECT: process.env.GCLOUD_PROJECT,
    };
    delete process.env.GOOGLE_CLOUD_PROJECT;
    delete process.env.GCLOUD_PROJECT;
    t.after(() =>
      Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined))),
    );
    const { telemetry, fcm } = setup([], newMessaging({ projectId: null }));
    const error = await rejection(fcm.send({ token: 'ok-1' }));
    assert.equal((error as { code?: string }).code, 'messaging/invalid-argument');
    assert.deepEqual(messageCounts((await scrape(telemetry)).samples), { accepted: 0, failed: { config: 1 } });
  });

  it('send() of an invalid message throws synchronously (messaging/invalid-payload) and still counts as payload_invalid', async () => {
    const { telemetry, fcm } = setup([]);
    assert.throws(() => fcm.send({ notification: { title: 'no recipient' } } as Message), {
      code: 'messaging/invalid-payload',
    });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { payload_invalid: 1 } });
    assert.deepEqual(durations(samples, 'send'), { failure: 1 });
  });

  it('sendEach() validates each message separately: one bad message fails alone', async () => {
    const { telemetry, fcm } = setup([]);
    const result = await fcm.sendEach([{ token: 'ok-1' }, { token: 'ok-2', data: { n: 1 } } as unknown as Message]);
    assert.equal(result.responses[1]?.error?.code, 'messaging/invalid-payload');
    assert.deepEqual(messageCounts((await scrape(telemetry)).samples), { accepted: 1, failed: { payload_invalid: 1 } });
  });

  it('sendEach([]) and sendEach(501 messages) keep their synchronous throw and count 0 and 501 messages', async () => {
    const { telemetry, fcm } = setup([]);
    assert.throws(() => fcm.sendEach([]), { code: 'messaging/invalid-argument', message: /non-empty array/ });
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ token: `ok-${i}` }));
    assert.throws(() => fcm.sendEach(tooMany), { code: 'messaging/invalid-argument', message: /500/ });
    assert.throws(() => fcm.sendEachForMulticast({ tokens: [] }), { code: 'messaging/invalid-argument' });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { payload_invalid: 501 } });
    assert.deepEqual(durations(samples, 'send_each'), { failure: 2 });
    assert.deepEqual(durations(samples, 'send_each_for_multicast'), { failure: 1 });
    const counts = tracing
      .spans()
      .map((s) => [s.name, s.attributes['messaging.batch.message_count'], s.attributes['error.type']]);
    assert.deepEqual(counts, [
      ['send_each fcm', 0, 'payload_invalid'],
      ['send_each fcm', 501, 'payload_invalid'],
      ['send_each_for_multicast fcm', 0, 'payload_invalid'],
    ]);
  });
});

describe('instrumentFcm: batches', () => {
  it('sendEach of 500 messages with 37 failures of 4 kinds counts every message exactly', async () => {
    const kinds = [
      ['gone', 'unregistered', 13],
      ['junk', 'invalid_token', 11],
      ['slow', 'rate_limited', 8],
      ['big', 'payload_too_large', 5],
    ] as const;
    const { telemetry, fcm, events } = setup([
      { match: 'gone-*', fault: 'unregistered' },
      { match: 'junk-*', fault: 'invalid_token' },
      { match: 'slow-*', fault: 'rate_limited' },
      { match: 'big-*', fault: 'payload_too_large' },
    ]);
    const failing = kinds.flatMap(([prefix, , n]) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`));
    // Failures spread through the batch (every 13th message from the 7th), not bunched at one end.
    const tokens = Array.from({ length: 500 }, (_, i) =>
      i % 13 === 7 && (i - 7) / 13 < failing.length ? (failing[(i - 7) / 13] as string) : `ok-${i}`,
    );
    const { accepted, refused } = fake.stats;
    const result = await fcm.sendEach(tokens.map((token) => ({ token, data: { i: token } })));
    assert.deepEqual([fake.stats.accepted - accepted, fake.stats.refused - refused], [463, 37]);
    assert.deepEqual([result.responses.length, result.successCount, result.failureCount], [500, 463, 37]);
    result.responses.forEach((r, i) =>
      assert.equal(r.success, (tokens[i] as string).startsWith('ok-'), `response ${i}`),
    );

    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), {
      accepted: 463,
      failed: { unregistered: 13, invalid_token: 11, rate_limited: 8, payload_too_large: 5 },
    });
    assert.deepEqual(durations(samples, 'send_each'), { partial: 1 });
    const span = onlySpan('send_each fcm');
    assert.equal(span.attributes['messaging.batch.message_count'], 500);
    assert.equal(span.attributes['push.messages.accepted'], 463);
    assert.equal(span.attributes['push.messages.failed'], 37);
    for (const [, type, n] of kinds) assert.equal(span.attributes[`push.messages.failed.${type}`], n, type);
    const expected = failing
      .filter((t) => /^(gone|junk)-/.test(t))
      .map((t) =>
        t.startsWith('gone')
          ? `${t} unregistered messaging/registration-token-not-registered`
          : `${t} invalid_token messaging/invalid-argument`,
      );
    assert.deepEqual(invalid(events), expected.sort());
  });

  it('sendEachForMulticast partial: per-token outcomes, one span (the inner sendEach is not counted again)', async () => {
    const { telemetry, fcm, events } = setup([
      { match: 'gone-*', fault: 'unregistered' },
      { match: 'junk-*', fault: 'invalid_token' },
    ]);
    const result = await fcm.sendEachForMulticast({
      tokens: ['ok-1', 'gone-1', 'ok-2', 'junk-1', 'ok-3'],
      data: { kind: 'multicast' },
    });
    assert.deepEqual([result.successCount, result.failureCount], [3, 2]);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 3, failed: { unregistered: 1, invalid_token: 1 } });
    assert.deepEqual(durations(samples, 'send_each_for_multicast'), { partial: 1 });
    assert.deepEqual(durations(samples, 'send_each'), {});
    assert.deepEqual(
      tracing.spans().map((s) => s.name),
      ['send_each_for_multicast fcm'],
    );
    assert.deepEqual(invalid(events), [
      'gone-1 unregistered messaging/registration-token-not-registered',
      'junk-1 invalid_token messaging/invalid-argument',
    ]);
  });

  it('a batch where every message is refused is a failure, not a partial', async () => {
    const { telemetry, fcm } = setup([{ fault: 'config' }]);
    await fcm.sendEachForMulticast({ tokens: ['a', 'b'] });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { config: 2 } });
    assert.deepEqual(durations(samples, 'send_each_for_multicast'), { failure: 1 });
  });
});

describe('instrumentFcm: transport failures and SDK retries (run concurrently: firebase-admin backs off 1+2+4 s)', () => {
  const CASES = ['unavailableSend', 'unavailableEach', 'resetSend', 'resetEach', 'hangSend', 'hangEach'] as const;
  type Case = (typeof CASES)[number];
  const done = {} as Record<Case, { setup: Setup; outcome: unknown }>;

  before(async () => {
    const rules: FaultRule[] = [
      { match: 'down-*', fault: 'provider_unavailable' },
      { match: 'reset-*', fault: 'reset' },
      { match: 'hang-*', fault: 'hang' },
    ];
    const calls: Record<Case, (fcm: Messaging) => Promise<unknown>> = {
      unavailableSend: (fcm) => rejection(fcm.send({ token: 'down-1' })),
      unavailableEach: (fcm) => fcm.sendEach([{ token: 'ok-1' }, { token: 'down-2' }]),
      resetSend: (fcm) => rejection(fcm.send({ token: 'reset-1' })),
      resetEach: (fcm) => fcm.sendEach([{ token: 'reset-2' }, { token: 'reset-3' }, { token: 'reset-4' }]),
      hangSend: (fcm) => rejection(fcm.send({ token: 'hang-1' })),
      hangEach: (fcm) => fcm.sendEach([{ token: 'hang-2' }, { token: 'hang-3' }, { token: 'hang-4' }]),
    };
    await Promise.all(
      CASES.map(async (name) => {
        // One app label per case: the spans of the concurrent calls are told apart by push.app.
        const s = setup(rules, newMessaging(), name.toLowerCase());
        done[name] = { setup: s, outcome: await calls[name](s.fcm) };
      }),
    );
  });

  const expectations: ReadonlyArray<[Case, string, string, ErrorType, Counts, Record<string, number>]> = [
    [
      'unavailableSend',
      'send',
      'messaging/server-unavailable',
      'provider_unavailable',
      { accepted: 0, failed: { provider_unavailable: 1 } },
      { failure: 1 },
    ],
    [
      'unavailableEach',
      'send_each',
      'messaging/server-unavailable',
      'provider_unavailable',
      { accepted: 1, failed: { provider_unavailable: 1 } },
      { partial: 1 },
    ],
    ['resetSend', 'send', 'app/network-error', 'network', { accepted: 0, failed: { network: 1 } }, { failure: 1 }],
    ['resetEach', 'send_each', 'app/network-error', 'network', { accepted: 0, failed: { network: 3 } }, { failure: 1 }],
    ['hangSend', 'send', 'app/network-timeout', 'timeout', { accepted: 0, failed: { timeout: 1 } }, { failure: 1 }],
    [
      'hangEach',
      'send_each',
      'app/network-timeout',
      'timeout',
      { accepted: 0, failed: { timeout: 3 } },
      { failure: 1 },
    ],
  ];
  for (const [name, operation, code, type, counts, outcomes] of expectations) {
    it(`${name}: ${code} after the SDK's retries → ${type} for every message of the call`, async () => {
      const { setup: s, outcome } = done[name];
      const app = name.toLowerCase();
      const error =
        operation === 'send' ? outcome : (outcome as BatchResponse).responses.find((r) => !r.success)?.error;
      assert.equal((error as { code?: string } | undefined)?.code, code);
      const { samples } = await scrape(s.telemetry);
      assert.deepEqual(messageCounts(samples, app), counts);
      assert.deepEqual(durations(samples, operation, app), outcomes);
      assert.deepEqual(s.events, []);
    });
  }

  it('the SDK retried: 5 requests per 503, reset or hung message', () => {
    // Not asserted per case (the fake's stats are shared); the total shows the SDK's 4 retries happened.
    assert.ok(fake.stats.requests >= 6 * 5, `requests ${fake.stats.requests}`);
  });
});

describe('instrumentFcm: Firebase installation IDs (fid and fids, new in firebase-admin 14)', () => {
  if (installedMajor('firebase-admin') >= 14) {
    it('sendEachForMulticast of tokens and fids: every recipient counted, an unregistered fid pruned by its fid', async () => {
      const { telemetry, fcm, events } = setup([{ match: 'gone-fid', fault: 'unregistered' }]);
      const result = await fcm.sendEachForMulticast({
        tokens: ['tok-1'],
        fids: ['fid-1', 'gone-fid'],
      } as MulticastMessage);
      assert.deepEqual([result.successCount, result.failureCount], [2, 1]);
      const { samples } = await scrape(telemetry);
      assert.deepEqual(messageCounts(samples), { accepted: 2, failed: { unregistered: 1 } });
      assert.equal(onlySpan('send_each_for_multicast fcm').attributes['messaging.batch.message_count'], 3);
      assert.deepEqual(invalid(events), ['gone-fid unregistered messaging/installation-id-not-registered']);
    });

    it('send to a fid: its unregistered answer prunes the fid', async () => {
      const { telemetry, fcm, events } = setup([{ match: 'gone-fid', fault: 'unregistered' }]);
      await rejection(fcm.send({ fid: 'gone-fid' } as unknown as Message));
      assert.deepEqual(messageCounts((await scrape(telemetry)).samples), { accepted: 0, failed: { unregistered: 1 } });
      assert.deepEqual(invalid(events), ['gone-fid unregistered messaging/installation-id-not-registered']);
    });
  } else {
    it('firebase-admin before 14 refuses a fid message before any request: payload_invalid, nothing pruned', async () => {
      const { telemetry, fcm, events } = setup([]);
      const requests = fake.stats.requests;
      assert.throws(() => fcm.send({ fid: 'fid-1' } as unknown as Message), {
        code: 'messaging/invalid-payload',
      });
      assert.equal(fake.stats.requests, requests);
      assert.deepEqual(messageCounts((await scrape(telemetry)).samples), {
        accepted: 0,
        failed: { payload_invalid: 1 },
      });
      assert.deepEqual(events, []);
    });
  }
});

describe('instrumentFcm: the default HTTP/2 transport', () => {
  it('a session that cannot connect fails the whole sendEach (app/network-error) → network for every message', async (t) => {
    // firebase-admin dials https://fcm.googleapis.com with http2.connect and no way to redirect it; for this test only,
    // node:http2's connect is swapped for one that dials a closed loopback port, then put back.
    const port = await closedPort();
    const connect = http2.connect;
    t.after(() => Reflect.set(http2, 'connect', connect));
    Reflect.set(http2, 'connect', (_authority: string, options: http2.SecureClientSessionOptions) =>
      connect(`https://127.0.0.1:${port}`, options),
    );
    const { telemetry, fcm, events } = setup([], newMessaging({ legacy: false }));
    const call = fcm.sendEach([{ token: 'ok-1' }, { token: 'ok-2' }, { topic: 'news' }]);
    if (installedMajor('firebase-admin') >= 14) {
      // firebase-admin 14 resolves instead, every message failed with messaging/unknown-error whose cause is an
      // AggregateError of the stream's and the session's app/network-error.
      const result = await call;
      assert.equal(result.failureCount, 3);
      for (const response of result.responses) {
        assert.ok(response.error instanceof FirebaseMessagingError);
        assert.equal(response.error.code, 'messaging/unknown-error');
        assert.match(response.error.message, /ECONNREFUSED/);
      }
    } else {
      const error = await rejection(call);
      assert.ok(error instanceof FirebaseMessagingError);
      assert.equal(error.code, 'messaging/app/network-error');
      assert.match(error.message, /ECONNREFUSED/);
    }
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { network: 3 } });
    assert.deepEqual(durations(samples, 'send_each'), { failure: 1 });
    const span = onlySpan('send_each fcm');
    assert.equal(span.attributes['error.type'], 'network');
    // 13: the call's error names the cause; 14: each message's failure event does.
    const reasons = [span.attributes, ...span.events.map((e) => e.attributes ?? {})].map(
      (a) => a['push.provider.reason'],
    );
    assert.ok(
      reasons.some((reason) => reason === 'messaging/app/network-error' || reason === 'app/network-error'),
      `reasons ${reasons.join(', ')}`,
    );
    assert.deepEqual(events, []);
  });
});

describe('instrumentFcm: transparency', () => {
  it('resolves and rejects with the very values the SDK produced', async () => {
    const raw = newMessaging();
    const seen: unknown[] = [];
    const spy = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      function (this: Messaging, ...args: A): Promise<R> {
        return fn.apply(this, args).then(
          (value) => {
            seen.push(value);
            return value;
          },
          (error: unknown) => {
            seen.push(error);
            return Promise.reject(error);
          },
        );
      };
    // Own-property spies on the bare client, installed before instrumenting, see what the SDK itself settles with.
    Object.assign(raw, { send: spy(Messaging.prototype.send), sendEach: spy(Messaging.prototype.sendEach) });
    const { fcm } = setup([{ match: 'gone', fault: 'unregistered' }], raw);
    const id = await fcm.send({ token: 'ok-1' });
    assert.match(id, /^projects\/demo-project\/messages\/\S+$/);
    const error = await rejection(fcm.send({ token: 'gone' }));
    const batch = await fcm.sendEach([{ token: 'ok-1' }, { token: 'gone' }]);
    assert.equal(seen.length, 3);
    assert.equal(id, seen[0]);
    assert.equal(error, seen[1], 'the same error object');
    assert.equal(batch, seen[2], 'the same BatchResponse object');
    assert.deepEqual(
      tracing.spans().map((span) => span.attributes['error.type'] ?? 'none'),
      ['none', 'unregistered', 'none'],
    );
  });

  it('leaves the client untouched and passes other members through', () => {
    const raw = newMessaging();
    const { fcm } = setup([], raw);
    assert.notEqual(fcm, raw);
    assert.notEqual(fcm.send, raw.send);
    assert.equal(raw.send, Messaging.prototype.send, 'the bare client still sends uninstrumented');
    assert.equal(fcm.app, raw.app);
    assert.equal(fcm.subscribeToTopic, fcm.subscribeToTopic);
    assert.equal(fcm.subscribeToTopic.name, raw.subscribeToTopic.name);
    assert.equal(fcm.enableLegacyHttpTransport, fcm.enableLegacyHttpTransport);
    assert.equal(fcm.enableLegacyHttpTransport.name, raw.enableLegacyHttpTransport.name);
    assert.equal(fcm.send.name, 'send');
    // firebase-admin 13 removed sendAll, sendMulticast and sendTo*: nothing is added for them.
    for (const legacy of [
      'sendAll',
      'sendMulticast',
      'sendToDevice',
      'sendToTopic',
      'sendToCondition',
      'sendToDeviceGroup',
    ]) {
      assert.equal((fcm as unknown as Record<string, unknown>)[legacy], undefined, legacy);
    }
  });

  it('rejects what is not a Messaging, and unknown options, with a TypeError naming the adapter', () => {
    const telemetry = new PushTelemetry();
    assert.throws(() => instrumentFcm({ send() {} } as unknown as Messaging, telemetry), {
      name: 'TypeError',
      message: /^instrumentFcm: expected a firebase-admin Messaging.*sendEach, sendEachForMulticast/,
    });
    assert.throws(() => instrumentFcm(null as unknown as Messaging, telemetry), {
      name: 'TypeError',
      message: /^instrumentFcm/,
    });
    assert.throws(() => instrumentFcm(newMessaging(), telemetry, { retries: 3 } as never), {
      name: 'TypeError',
      message: /instrumentFcm: unknown option "retries"/,
    });
  });
});

describe('instrumentFcm: firebase-admin 12 legacy senders, when the client has them', () => {
  it('instruments sendToDevice, sendToTopic, sendMulticast and sendToDeviceGroup on a v12-shaped client', async () => {
    const notRegistered = Object.assign(new Error('gone'), { code: 'messaging/registration-token-not-registered' });
    const v12 = {
      send: async () => 'projects/p/messages/1',
      sendEach: async () => ({ responses: [], successCount: 0, failureCount: 0 }),
      sendEachForMulticast: async () => ({ responses: [], successCount: 0, failureCount: 0 }),
      sendToDevice: async (_tokens: string | string[]) => ({
        results: [{ messageId: 'm1' }, { error: notRegistered }],
        successCount: 1,
        failureCount: 1,
        multicastId: 7,
        canonicalRegistrationTokenCount: 0,
      }),
      sendToTopic: async (_topic: string) => ({ messageId: 8_675_309 }),
      sendMulticast: async (_message: { tokens: string[] }) => ({
        responses: [{ success: false, error: notRegistered }],
        successCount: 0,
        failureCount: 1,
      }),
      sendToDeviceGroup: async (_key: string) => ({
        successCount: 2,
        failureCount: 1,
        failedRegistrationTokens: ['t9'],
      }),
    };
    const events: InvalidTokenEvent[] = [];
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, app: APP });
    const fcm = instrumentFcm(v12, telemetry, { onInvalidToken: (e) => void events.push(e) });
    await fcm.sendToDevice(['t1', 't2']);
    await fcm.sendToTopic('news');
    await fcm.sendMulticast({ tokens: ['t3'] });
    await fcm.sendToDeviceGroup('group-key');
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 4, failed: { unregistered: 2, unknown: 1 } });
    assert.deepEqual(durations(samples, 'send_to_device'), { partial: 1 });
    assert.deepEqual(durations(samples, 'send_to_topic'), { success: 1 });
    assert.deepEqual(durations(samples, 'send_multicast'), { failure: 1 });
    assert.deepEqual(durations(samples, 'send_to_device_group'), { partial: 1 });
    assert.equal(onlySpan('send_to_topic fcm').attributes['messaging.message.id'], '8675309');
    assert.deepEqual(invalid(events), [
      't2 unregistered messaging/registration-token-not-registered',
      't3 unregistered messaging/registration-token-not-registered',
    ]);
  });
});

describe('classifyFcmError', () => {
  // firebase-admin's documented error codes and the taxonomy verdict of shared/research/push-providers.md, written out
  // (not read from FCM_ERROR_TYPES, which would only compare the table with itself).
  const CODE_ROWS: ReadonlyArray<readonly [string, ErrorType]> = [
    ['messaging/registration-token-not-registered', 'unregistered'],
    ['messaging/installation-id-not-registered', 'unregistered'],
    ['messaging/invalid-registration-token', 'invalid_token'],
    ['messaging/invalid-argument', 'payload_invalid'],
    ['messaging/invalid-payload', 'payload_invalid'],
    ['messaging/invalid-options', 'payload_invalid'],
    ['messaging/invalid-data-payload-key', 'payload_invalid'],
    ['messaging/invalid-recipient', 'payload_invalid'],
    ['messaging/payload-size-limit-exceeded', 'payload_too_large'],
    ['messaging/third-party-auth-error', 'auth'],
    ['messaging/authentication-error', 'auth'],
    ['app/invalid-credential', 'auth'],
    ['messaging/mismatched-credential', 'config'],
    ['messaging/invalid-package-name', 'config'],
    ['messaging/message-rate-exceeded', 'rate_limited'],
    ['messaging/device-message-rate-exceeded', 'rate_limited'],
    ['messaging/topics-message-rate-exceeded', 'rate_limited'],
    ['messaging/topics-subscription-rate-exceeded', 'rate_limited'],
    ['messaging/server-unavailable', 'provider_unavailable'],
    ['messaging/internal-error', 'provider_unavailable'],
    ['messaging/unknown-error', 'unknown'],
    ['app/network-timeout', 'timeout'],
    ['app/network-error', 'network'],
  ];

  for (const [code, expected] of CODE_ROWS) {
    it(`${code} → ${expected}`, () => assert.equal(classifyFcmError(codeError(code, 'x')), expected));
  }

  it('has a written expectation for every code it maps', () => {
    assert.deepEqual(Object.keys(FCM_ERROR_TYPES).sort(), CODE_ROWS.map(([code]) => code).sort());
  });

  it('refines invalid-argument and unknown-error by their text, and never invents a label', () => {
    assert.equal(
      classifyFcmError(codeError('messaging/invalid-argument', 'Android message is too big')),
      'payload_too_large',
    );
    assert.equal(
      classifyFcmError(codeError('messaging/invalid-argument', 'dryRun must be a boolean')),
      'payload_invalid',
    );
    assert.equal(
      classifyFcmError(codeError('messaging/unknown-error', 'Raw server response: "x". Status code: 504.')),
      'provider_unavailable',
    );
    assert.equal(
      classifyFcmError(codeError('messaging/unknown-error', 'Raw server response: "timed out". Status code: 404.')),
      'unknown',
    );
    assert.equal(classifyFcmError(codeError('messaging/too-many-topics')), 'unknown');
    assert.equal(classifyFcmError(codeError('app/app-deleted', 'operation timed out')), 'unknown');
  });

  it("falls back to the generic classifier for errors that are not firebase-admin's, and never throws", () => {
    assert.equal(classifyFcmError(codeError('ECONNRESET')), 'network');
    assert.equal(classifyFcmError(Object.assign(new Error('aborted'), { name: 'AbortError' })), 'canceled');
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
      },
    );
    for (const value of [undefined, null, 'messaging/internal-error', 42, hostile])
      assert.ok(isErrorType(classifyFcmError(value)));
  });
});

describe('the fake FCM endpoint', () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = https.request(
        `${fake.url}${path}`,
        { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json', ...headers } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('wants a bearer token, knows only the send path, and answers google.rpc errors with an FcmError detail', async () => {
    fake.faults.set({ rules: [{ match: 'news', fault: 'rate_limited' }] });
    const auth = { authorization: 'Bearer x' };
    const send = `/v1/projects/${APP}/messages:send`;
    assert.equal((await post(send, '{"message":{"token":"a"}}')).status, 401);
    assert.match((await post('/v1/projects/p/messages:list', '{}', auth)).type, /^text\/html/);
    const ok = await post(send, '{"message":{"token":"a"}}', auth);
    assert.equal(ok.status, 200);
    assert.match(JSON.parse(ok.body).name, new RegExp(`^projects/${APP}/messages/`));
    const limited = JSON.parse((await post(send, '{"message":{"topic":"news"}}', auth)).body);
    assert.deepEqual(
      [limited.error.code, limited.error.status, limited.error.details[0].errorCode],
      [429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'],
    );
    assert.equal((await post(send, 'not json', auth)).status, 400);
  });
});
