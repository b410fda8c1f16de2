import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Agent } from 'undici';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ERROR_TYPES, PushTelemetry, type ErrorType, type InvalidTokenEvent } from '../src/index.js';
import { classifyExpoError, EXPO_ERROR_TYPES, expoReason, instrumentExpo } from '../src/providers/expo.js';
import { startFakeExpo } from '../src/simulator/expo.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan, type FaultRule } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { createTracing, scrape, valueOf, type Sample, type Tracing } from './helpers.js';

type ExpoClass = typeof import('expo-server-sdk')['Expo'];
type ExpoClient = InstanceType<ExpoClass>;

const APP = 'com.example.app';
const SEND = 'send_push_notifications expo';
const RECEIPTS = 'get_push_notification_receipts expo';
const token = (name: string): string => `ExponentPushToken[${name}]`;

let fake: FakeProvider;
let Expo: ExpoClass;
let tracing: Tracing;

before(async () => {
  fake = await startFakeExpo({
    host: '127.0.0.1',
    port: 0,
    identity: await loopbackIdentity(),
    faults: new FaultPlan(),
  });
  // expo-server-sdk reads EXPO_BASE_URL once, when its module is first evaluated: set it, then import.
  process.env.EXPO_BASE_URL = fake.url;
  ({ Expo } = await import('expo-server-sdk'));
  tracing = createTracing();
});
after(async () => {
  await fake.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.exporter.reset());

interface Setup {
  readonly telemetry: PushTelemetry;
  readonly raw: ExpoClient;
  readonly expo: ExpoClient;
  readonly events: InvalidTokenEvent[];
}

/** `prepare` runs on the bare client before it is instrumented (to spy on what the SDK itself returns). */
function setup(
  rules: readonly FaultRule[],
  sdkOptions: ConstructorParameters<ExpoClass>[0] = {},
  prepare?: (raw: ExpoClient) => void,
): Setup {
  fake.faults.set({ rules });
  const events: InvalidTokenEvent[] = [];
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, app: APP });
  // retryMinTimeout: the SDK's 429 backoff (1 s, then 2 s by default) would dominate the run time.
  const raw = new Expo({ retryMinTimeout: 1, ...sdkOptions });
  prepare?.(raw);
  const expo = instrumentExpo(raw, telemetry, { onInvalidToken: (event) => void events.push(event) });
  return { telemetry, raw, expo, events };
}

interface Counts {
  readonly accepted: number;
  readonly failed: Partial<Record<ErrorType, number>>;
}

function messageCounts(samples: readonly Sample[], name = 'push_messages_total', ok = 'accepted'): Counts {
  const failed: Partial<Record<ErrorType, number>> = {};
  for (const type of ERROR_TYPES) {
    const value = valueOf(samples, name, { provider: 'expo', app: APP, outcome: 'failed', error_type: type }) ?? 0;
    if (value !== 0) failed[type] = value;
  }
  return { accepted: valueOf(samples, name, { provider: 'expo', app: APP, outcome: ok }) ?? 0, failed };
}

function durations(samples: readonly Sample[], operation: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const outcome of ['success', 'partial', 'failure']) {
    const count =
      valueOf(samples, 'push_request_duration_seconds_count', { provider: 'expo', app: APP, operation, outcome }) ?? 0;
    if (count !== 0) out[outcome] = count;
  }
  return out;
}

function onlySpan(name: string): ReadableSpan {
  const spans = tracing.spans().filter((span) => span.name === name);
  assert.equal(spans.length, 1, `one ${name} span`);
  return spans[0] as ReadableSpan;
}

const invalid = (events: readonly InvalidTokenEvent[]): string[] =>
  events.map((e) => `${e.token} ${e.errorType} ${e.reason ?? '-'}`).sort();

describe('instrumentExpo: tickets', () => {
  const rows: ReadonlyArray<{ fault: FaultRule['fault']; type: ErrorType; reason: string; prunes?: true }> = [
    { fault: 'unregistered', type: 'unregistered', reason: 'DeviceNotRegistered', prunes: true },
    { fault: 'invalid_token', type: 'invalid_token', reason: 'DeviceNotRegistered', prunes: true },
    { fault: 'auth', type: 'auth', reason: 'InvalidCredentials' },
    { fault: 'config', type: 'config', reason: 'MismatchSenderId' },
    { fault: 'payload_invalid', type: 'payload_invalid', reason: 'DeveloperError' },
    { fault: 'payload_too_large', type: 'payload_too_large', reason: 'MessageTooBig' },
    { fault: 'rate_limited', type: 'rate_limited', reason: 'MessageRateExceeded' },
    { fault: { status: 200, reason: 'ticket:ExpoError' }, type: 'provider_unavailable', reason: 'ExpoError' },
    { fault: { status: 200, reason: 'ticket:ProviderError' }, type: 'provider_unavailable', reason: 'ProviderError' },
    { fault: { status: 200, reason: 'ticket:SomethingNew' }, type: 'unknown', reason: 'SomethingNew' },
  ];
  for (const row of rows) {
    it(`an error ticket ${row.reason} (${JSON.stringify(row.fault)}) counts the recipient as ${row.type}`, async () => {
      const { telemetry, expo, events } = setup([{ match: 'ExponentPushToken[bad*', fault: row.fault }]);
      const tickets = await expo.sendPushNotificationsAsync([{ to: token('bad-1'), body: 'hi' }]);
      assert.equal(tickets[0]?.status, 'error');
      const { samples } = await scrape(telemetry);
      assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { [row.type]: 1 } });
      assert.deepEqual(durations(samples, 'send_push_notifications'), { failure: 1 });
      const span = onlySpan(SEND);
      assert.equal(span.attributes['error.type'], row.type);
      assert.equal(span.attributes['push.provider.reason'], row.reason);
      assert.deepEqual(invalid(events), row.prunes ? [`${token('bad-1')} ${row.type} ${row.reason}`] : []);
    });
  }

  it('a successful send counts one accepted recipient and records the ticket id as the message id', async () => {
    const { telemetry, expo, events } = setup([]);
    const [ticket] = await expo.sendPushNotificationsAsync([{ to: token('ok'), body: 'hi' }]);
    assert.equal(ticket?.status, 'ok');
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 1, failed: {} });
    assert.deepEqual(durations(samples, 'send_push_notifications'), { success: 1 });
    assert.equal(onlySpan(SEND).attributes['messaging.message.id'], ticket?.status === 'ok' ? ticket.id : 'none');
    assert.deepEqual(events, []);
  });

  it('a batch of 100 recipients with mixed ticket errors counts each one, with array `to` expanded in order', async () => {
    const { telemetry, expo, events } = setup([
      { match: 'ExponentPushToken[gone-*', fault: 'unregistered' },
      { match: 'ExponentPushToken[junk-*', fault: 'invalid_token' },
      { match: 'ExponentPushToken[slow-*', fault: 'rate_limited' },
      { match: 'ExponentPushToken[big-*', fault: 'payload_too_large' },
    ]);
    const names = [
      ...Array.from({ length: 70 }, (_, i) => `ok-${i}`),
      ...Array.from({ length: 10 }, (_, i) => `gone-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `junk-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `slow-${i}`),
      ...Array.from({ length: 10 }, (_, i) => `big-${i}`),
    ]
      // Interleaved (37 is prime to 100), so failures sit between accepted recipients and inside array `to`s.
      .map((name, i) => [(i * 37) % 100, name] as const)
      .sort(([a], [b]) => a - b)
      .map(([, name]) => name);
    // 60 single-recipient messages and 4 messages of 10 recipients each: still 100 recipients, 100 tickets.
    const messages = [
      ...names.slice(0, 60).map((name) => ({ to: token(name), body: 'hi' })),
      ...[60, 70, 80, 90].map((start) => ({ to: names.slice(start, start + 10).map(token), body: 'hi' })),
    ];
    const { accepted, refused } = fake.stats;
    const tickets = await expo.sendPushNotificationsAsync(messages);
    assert.equal(tickets.length, 100);
    assert.deepEqual([fake.stats.accepted - accepted, fake.stats.refused - refused], [70, 30]);
    tickets.forEach((ticket, i) =>
      assert.equal(ticket.status, /^ok-/.test(names[i] as string) ? 'ok' : 'error', `ticket ${i}`),
    );
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), {
      accepted: 70,
      failed: { unregistered: 10, invalid_token: 5, rate_limited: 5, payload_too_large: 10 },
    });
    assert.deepEqual(durations(samples, 'send_push_notifications'), { partial: 1 });
    const span = onlySpan(SEND);
    assert.equal(span.attributes['messaging.batch.message_count'], 100);
    assert.equal(span.attributes['push.messages.accepted'], 70);
    assert.equal(span.attributes['push.messages.failed'], 30);
    assert.equal(span.attributes['error.type'], undefined);
    const expected = names
      .filter((n) => /^(gone|junk)-/.test(n))
      .map((n) => `${token(n)} ${n.startsWith('gone') ? 'unregistered' : 'invalid_token'} DeviceNotRegistered`);
    assert.deepEqual(invalid(events), expected.sort());
  });
});

describe('instrumentExpo: whole-request errors', () => {
  const rows: ReadonlyArray<{
    name: string;
    fault: FaultRule['fault'];
    type: ErrorType;
    reason: string;
    sdk?: ConstructorParameters<ExpoClass>[0];
  }> = [
    {
      name: '503 from the service',
      fault: 'provider_unavailable',
      type: 'provider_unavailable',
      reason: 'SERVICE_UNAVAILABLE',
    },
    {
      name: '500 with an unmapped code',
      fault: { status: 500, reason: 'INTERNAL_SERVER_ERROR' },
      type: 'provider_unavailable',
      reason: 'INTERNAL_SERVER_ERROR',
    },
    {
      name: '429 after the SDK retried twice',
      fault: { status: 429, reason: 'TOO_MANY_REQUESTS' },
      type: 'rate_limited',
      reason: 'TOO_MANY_REQUESTS',
    },
    {
      name: 'too many experience ids',
      fault: { status: 400, reason: 'PUSH_TOO_MANY_EXPERIENCE_IDS' },
      type: 'config',
      reason: 'PUSH_TOO_MANY_EXPERIENCE_IDS',
    },
    {
      name: 'a validation error',
      fault: { status: 400, reason: 'VALIDATION_ERROR' },
      type: 'payload_invalid',
      reason: 'VALIDATION_ERROR',
    },
    {
      name: 'a bad access token',
      fault: { status: 401, reason: 'UNAUTHORIZED' },
      type: 'auth',
      reason: 'UNAUTHORIZED',
    },
    {
      name: 'a 404 (wrong base URL), never unregistered',
      fault: { status: 404, reason: 'NOT_FOUND' },
      type: 'config',
      reason: 'NOT_FOUND',
    },
    { name: 'an unknown 4xx', fault: { status: 418, reason: 'TEAPOT' }, type: 'unknown', reason: 'TEAPOT' },
    { name: 'a reset connection', fault: 'reset', type: 'network', reason: 'UND_ERR_SOCKET' },
    {
      name: 'no answer within the dispatcher headersTimeout',
      fault: 'hang',
      type: 'timeout',
      reason: 'UND_ERR_HEADERS_TIMEOUT',
      sdk: { httpAgent: new Agent({ headersTimeout: 150 }) },
    },
  ];
  after(() => Promise.all(rows.map((row) => (row.sdk?.httpAgent as Agent | undefined)?.close())));

  for (const row of rows) {
    it(`${row.name} fails every recipient of the call as ${row.type}`, async () => {
      let seen: unknown;
      // Sees the SDK's own rejection, to check the wrapper rethrows that very object.
      const spy = (raw: ExpoClient): void => {
        const send = raw.sendPushNotificationsAsync;
        raw.sendPushNotificationsAsync = (messages) =>
          send.call(raw, messages).catch((error: unknown) => Promise.reject((seen = error)));
      };
      const { telemetry, expo, events } = setup([{ match: token('a'), fault: row.fault }], row.sdk, spy);
      const requestsBefore = fake.stats.requests;
      const error = await expo.sendPushNotificationsAsync([{ to: [token('a'), token('b')], body: 'hi' }]).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof Error);
      assert.equal(error, seen);
      const { samples } = await scrape(telemetry);
      assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { [row.type]: 2 } });
      assert.deepEqual(durations(samples, 'send_push_notifications'), { failure: 1 });
      const span = onlySpan(SEND);
      assert.equal(span.attributes['error.type'], row.type);
      assert.equal(span.attributes['push.provider.reason'], row.reason);
      assert.deepEqual(events, []);
      if (row.type === 'rate_limited')
        assert.equal(fake.stats.requests - requestsBefore, 3, 'the SDK retries a 429 twice');
    });
  }

  it('more than 100 recipients is refused by the service as PUSH_TOO_MANY_NOTIFICATIONS: payload_invalid for all 101', async () => {
    const { telemetry, expo } = setup([]);
    await assert.rejects(
      expo.sendPushNotificationsAsync(Array.from({ length: 101 }, (_, i) => ({ to: token(`n${i}`) }))),
      { code: 'PUSH_TOO_MANY_NOTIFICATIONS', statusCode: 400 },
    );
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { payload_invalid: 101 } });
    assert.equal(onlySpan(SEND).attributes['push.provider.reason'], 'PUSH_TOO_MANY_NOTIFICATIONS');
  });
});

// Expo's documented codes with the verdict of shared/research/push-providers.md, written out (not read from
// EXPO_ERROR_TYPES, which would only compare the table with itself). Tickets and receipts carry `details.error`.
const TICKET_ROWS: ReadonlyArray<readonly [string, ErrorType]> = [
  ['DeviceNotRegistered', 'unregistered'],
  ['InvalidCredentials', 'auth'],
  ['MessageTooBig', 'payload_too_large'],
  ['MessageRateExceeded', 'rate_limited'],
  ['MismatchSenderId', 'config'],
  ['ExpoError', 'provider_unavailable'],
  ['ProviderError', 'provider_unavailable'],
  ['DeveloperError', 'payload_invalid'],
];

describe('instrumentExpo: receipts', () => {
  const receiptRows: ReadonlyArray<readonly [string, ErrorType]> = [...TICKET_ROWS, ['SomethingNew', 'unknown']];

  it('counts each receipt into push_receipts_total and none into push_messages_total', async () => {
    const { telemetry, expo, events } = setup(
      receiptRows.map(([reason], i) => ({ match: token(`r${i}`), fault: { status: 200, reason } })),
    );
    const tickets = await expo.sendPushNotificationsAsync([
      ...receiptRows.map((_, i) => ({ to: token(`r${i}`) })),
      { to: [token('fine-1'), token('fine-2')] },
    ]);
    const ids = tickets.map((ticket) => (ticket.status === 'ok' ? ticket.id : assert.fail('every ticket is ok')));
    const before = messageCounts((await scrape(telemetry)).samples);
    assert.deepEqual(before, { accepted: 11, failed: {} });

    const receipts = await expo.getPushNotificationReceiptsAsync(ids);
    assert.equal(Object.keys(receipts).length, 11);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), before, 'receipts are not messages');
    assert.deepEqual(messageCounts(samples, 'push_receipts_total', 'delivered'), {
      accepted: 2,
      failed: {
        unregistered: 1,
        auth: 1,
        payload_too_large: 1,
        rate_limited: 1,
        config: 1,
        provider_unavailable: 2,
        payload_invalid: 1,
        unknown: 1,
      },
    });
    assert.deepEqual(durations(samples, 'get_push_notification_receipts'), { success: 1 });
    const span = onlySpan(RECEIPTS);
    assert.equal(span.attributes['messaging.batch.message_count'], 0);
    assert.equal(span.attributes['push.messages.failed'], 0);
    // The receipt carries no token: the adapter remembered it from the ticket id.
    assert.deepEqual(invalid(events), [`${token('r0')} unregistered DeviceNotRegistered`]);
  });

  it('cannot name the token of a receipt whose ticket it never saw, but still counts the receipt', async () => {
    const { telemetry, raw, expo, events } = setup([
      { match: token('elsewhere'), fault: { status: 200, reason: 'DeviceNotRegistered' } },
    ]);
    const [ticket] = await raw.sendPushNotificationsAsync([{ to: token('elsewhere') }]);
    await expo.getPushNotificationReceiptsAsync([ticket?.status === 'ok' ? ticket.id : assert.fail('ok ticket')]);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples, 'push_receipts_total', 'delivered'), {
      accepted: 0,
      failed: { unregistered: 1 },
    });
    assert.deepEqual(events, []);
  });

  it('uses details.expoPushToken when a receipt has it, and the adapter option app on the event', async () => {
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
    const events: InvalidTokenEvent[] = [];
    const receipt = {
      status: 'error' as const,
      message: 'gone',
      details: { error: 'DeviceNotRegistered' as const, expoPushToken: token('named') },
    };
    const client = {
      sendPushNotificationsAsync: async (_messages: unknown[]) => [],
      getPushNotificationReceiptsAsync: async (_ids: string[]) => ({ id1: receipt }),
    };
    await instrumentExpo(client, telemetry, {
      app: 'other.app',
      onInvalidToken: (event) => void events.push(event),
    }).getPushNotificationReceiptsAsync(['id1']);
    assert.deepEqual(events, [
      {
        token: token('named'),
        errorType: 'unregistered',
        provider: 'expo',
        app: 'other.app',
        reason: 'DeviceNotRegistered',
      },
    ]);
    const { samples } = await scrape(telemetry);
    assert.equal(
      valueOf(samples, 'push_receipts_total', {
        provider: 'expo',
        app: 'other.app',
        outcome: 'failed',
        error_type: 'unregistered',
      }),
      1,
    );
  });

  const requestRows: ReadonlyArray<{
    name: string;
    ids: string[];
    fault?: FaultRule;
    type: ErrorType;
    reason: string;
  }> = [
    {
      name: 'more than 1000 ids',
      ids: Array.from({ length: 1001 }, (_, i) => `id-${i}`),
      type: 'payload_invalid',
      reason: 'PUSH_TOO_MANY_RECEIPTS',
    },
    {
      name: 'the service down',
      ids: ['down-1'],
      fault: { match: 'down-1', fault: 'provider_unavailable' },
      type: 'provider_unavailable',
      reason: 'SERVICE_UNAVAILABLE',
    },
  ];
  for (const row of requestRows) {
    it(`a failed receipts call (${row.name}) is a failed API call with no message counted`, async () => {
      const { telemetry, expo } = setup(row.fault === undefined ? [] : [row.fault]);
      await assert.rejects(expo.getPushNotificationReceiptsAsync(row.ids), { code: row.reason });
      const { samples } = await scrape(telemetry);
      assert.deepEqual(messageCounts(samples), { accepted: 0, failed: {} });
      assert.deepEqual(durations(samples, 'get_push_notification_receipts'), { failure: 1 });
      const span = onlySpan(RECEIPTS);
      assert.equal(span.attributes['error.type'], row.type);
      assert.equal(span.attributes['push.provider.reason'], row.reason);
    });
  }
});

describe('instrumentExpo: transparency', () => {
  it('resolves with the very array the SDK resolved with', async () => {
    let seen: unknown;
    let seenReceipts: unknown;
    const send = Expo.prototype.sendPushNotificationsAsync;
    const getReceipts = Expo.prototype.getPushNotificationReceiptsAsync;
    const { raw, expo } = setup([{ match: token('bad'), fault: 'unregistered' }], {}, (client) => {
      client.sendPushNotificationsAsync = async (messages) =>
        (seen = await send.call(client, messages)) as Awaited<ReturnType<typeof send>>;
      client.getPushNotificationReceiptsAsync = async (ids) =>
        (seenReceipts = await getReceipts.call(client, ids)) as Awaited<ReturnType<typeof getReceipts>>;
    });
    const tickets = await expo.sendPushNotificationsAsync([{ to: [token('ok'), token('bad')] }]);
    assert.equal(tickets, seen);
    const bare = await send.call(raw, [{ to: [token('ok'), token('bad')] }]);
    assert.deepEqual(
      tickets.map((t) => t.status),
      bare.map((t) => t.status),
    );
    assert.deepEqual(tickets[1], bare[1]);
    const receipts = await expo.getPushNotificationReceiptsAsync([tickets[0]?.status === 'ok' ? tickets[0].id : '']);
    assert.equal(receipts, seenReceipts);
  });

  it('passes every other member through and leaves the client unmodified', () => {
    const { raw, expo } = setup([]);
    assert.ok(expo instanceof Expo);
    assert.equal(expo.chunkPushNotifications, expo.chunkPushNotifications);
    assert.equal(expo.chunkPushNotifications.name, raw.chunkPushNotifications.name);
    assert.equal(expo.chunkPushNotificationReceiptIds, expo.chunkPushNotificationReceiptIds);
    assert.equal(expo.chunkPushNotificationReceiptIds.name, raw.chunkPushNotificationReceiptIds.name);
    assert.equal((expo.constructor as ExpoClass).isExpoPushToken, Expo.isExpoPushToken);
    assert.equal(raw.sendPushNotificationsAsync, Expo.prototype.sendPushNotificationsAsync);
    assert.notEqual(expo.sendPushNotificationsAsync, raw.sendPushNotificationsAsync);
    const chunks = expo.chunkPushNotifications([{ to: Array.from({ length: 150 }, (_, i) => token(`c${i}`)) }]);
    assert.deepEqual(
      chunks.map((chunk) => chunk.flatMap((m) => m.to).length),
      [100, 50],
    );
    assert.deepEqual(
      expo.chunkPushNotificationReceiptIds(Array.from({ length: 301 }, (_, i) => `id-${i}`)).map((c) => c.length),
      [300, 1],
    );
  });

  it('rejects a client without the Expo API calls and unknown options, naming the adapter', () => {
    const telemetry = new PushTelemetry();
    assert.throws(
      () => instrumentExpo({ sendPushNotificationsAsync: async () => [] } as never, telemetry),
      (error: unknown) =>
        error instanceof TypeError && /instrumentExpo.*getPushNotificationReceiptsAsync/.test(error.message),
    );
    assert.throws(() => instrumentExpo(null as never, telemetry), TypeError);
    assert.throws(
      () => instrumentExpo(new Expo(), telemetry, { bogus: 1 } as never),
      /instrumentExpo: unknown option "bogus"/,
    );
  });
});

describe('classifyExpoError', () => {
  // Tickets and receipts carry `details.error` (TICKET_ROWS); a whole request the SDK throws for carries `code`.
  const THROWN_ROWS: ReadonlyArray<readonly [string, ErrorType]> = [
    ['TOO_MANY_REQUESTS', 'rate_limited'],
    ['UNAUTHORIZED', 'auth'],
    ['PUSH_TOO_MANY_EXPERIENCE_IDS', 'config'],
    ['PUSH_TOO_MANY_NOTIFICATIONS', 'payload_invalid'],
    ['PUSH_TOO_MANY_RECEIPTS', 'payload_invalid'],
    ['VALIDATION_ERROR', 'payload_invalid'],
  ];
  for (const [code, expected] of TICKET_ROWS) {
    it(`a ticket or receipt with details.error ${code} → ${expected}`, () => {
      assert.equal(classifyExpoError({ status: 'error', message: 'x', details: { error: code } }), expected);
    });
  }
  for (const [code, expected] of THROWN_ROWS) {
    it(`a thrown request error with code ${code} → ${expected}`, () => {
      // No status: the code alone must decide.
      assert.equal(classifyExpoError(Object.assign(new Error('x'), { code })), expected);
    });
  }

  it('has a written expectation for every code it maps', () => {
    assert.deepEqual(
      Object.keys(EXPO_ERROR_TYPES).sort(),
      [...TICKET_ROWS, ...THROWN_ROWS].map(([code]) => code).sort(),
    );
  });

  it('puts the token message over details.error, and answers unknown for what it does not know', () => {
    assert.equal(
      classifyExpoError({
        status: 'error',
        message: '"abc" is not a valid Expo push token',
        details: { error: 'DeviceNotRegistered' },
      }),
      'invalid_token',
    );
    assert.equal(
      classifyExpoError({ status: 'error', message: '"abc" is not a valid Expo push token' }),
      'invalid_token',
    );
    assert.equal(classifyExpoError({ status: 'error', message: 'no details' }), 'unknown');
    assert.equal(classifyExpoError({ status: 'error', message: 'x', details: { error: 'constructor' } }), 'unknown');
  });

  it('never answers a whole request with a token verdict, and never throws', () => {
    assert.equal(
      classifyExpoError(
        Object.assign(new Error('Expo responded with an error with status code 410: gone'), { statusCode: 410 }),
      ),
      'config',
    );
    assert.equal(
      classifyExpoError(
        Object.assign(new Error('"abc" is not a valid Expo push token'), { code: 'VALIDATION_ERROR', statusCode: 400 }),
      ),
      'payload_invalid',
    );
    assert.equal(
      classifyExpoError(
        Object.assign(new Error('Expo responded with an error with status code 502: <html>'), { statusCode: 502 }),
      ),
      'provider_unavailable',
    );
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    assert.equal(classifyExpoError(hostile), 'unknown');
    assert.equal(expoReason(hostile), undefined);
    assert.equal(
      expoReason(
        Object.assign(new TypeError('fetch failed'), {
          cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
        }),
      ),
      'ECONNREFUSED',
    );
    assert.equal(
      classifyExpoError(
        Object.assign(new TypeError('fetch failed'), {
          cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
        }),
      ),
      'network',
    );
  });
});
