import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import apn from '@parse/node-apn';
import fc from 'fast-check';
import { ApnsError, Notification as Apns2Notification } from 'apns2';
import { pino } from 'pino';
import webpush from 'web-push';
import {
  FAILURE_LOG_EVENT,
  LOG_ATTRIBUTES,
  PushTelemetry,
  SUPPRESSED_LOG_EVENT,
  type PinoCompatibleLogger,
  type PushTelemetryOptions,
  type FailedMessage,
  type SettleResult,
} from '../src/index.js';
import { instrumentApns } from '../src/providers/apns.js';
import { instrumentApns2, type Apns2ClientLike } from '../src/providers/apns2.js';
import { instrumentFcm, type FcmMessagingLike } from '../src/providers/fcm.js';
import { instrumentOneSignal } from '../src/providers/onesignal.js';
import { instrumentWebPush } from '../src/providers/webpush.js';
import { startFakeApns } from '../src/simulator/apns.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan } from '../src/simulator/faults.js';
import { startFakeOneSignal } from '../src/simulator/onesignal.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { startFakeWebPush, webPushSubscription } from '../src/simulator/webpush.js';
import { notificationTo, oneSignalClient } from './onesignal-client.js';
import { createTracing, httpError, type Tracing } from './helpers.js';

type Line = Record<string, unknown>;

/** A real pino logger writing JSON lines into memory, read back parsed. */
function pinoLogger(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level }, stream);
  return { logger, lines, records: (): Line[] => lines.map((line) => JSON.parse(line) as Line) };
}

/** A real OpenTelemetry SDK logger provider exporting into memory. */
function otelLogs() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  return { provider, records: (): ReadableLogRecord[] => exporter.getFinishedLogRecords() };
}

async function rejection(promise: unknown): Promise<unknown> {
  return (promise as Promise<unknown>).then(
    () => assert.fail('the send resolved'),
    (error: unknown) => error,
  );
}

let tracing: Tracing;
before(() => {
  tracing = createTracing();
});
after(async () => {
  await tracing.shutdown();
});

describe('failure log: pino', () => {
  it('writes one structured JSON record per failed call, with the span it belongs to', async () => {
    tracing.exporter.reset();
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, logger, app: 'com.example.app' });
    const send = telemetry.wrapSender(
      async (_token: string) => {
        throw Object.assign(new Error('sender rejected'), { statusCode: 401, code: 'third-party-auth-error' });
      },
      { provider: 'fcm', operation: 'send', tokens: ([token]) => [token] },
    );
    await rejection(send('device-token-1'));

    const [span] = tracing.spans();
    assert.ok(span, 'the call made a span');
    const lines = records();
    assert.equal(lines.length, 1);
    const record = lines[0] as Line;
    assert.equal(record.level, 50, 'auth is the sender’s to fix: error');
    assert.equal(record.msg, 'push call failed');
    assert.equal(record.event, FAILURE_LOG_EVENT);
    assert.equal(record.provider, 'fcm');
    assert.equal(record.app, 'com.example.app');
    assert.equal(record.operation, 'send');
    assert.equal(record.outcome, 'failure');
    assert.equal(record.error_type, 'auth');
    assert.equal(record.reason, 'third-party-auth-error');
    assert.equal(record.status, 401);
    assert.equal(record.error_class, 'Error');
    assert.equal(record.messages, 1);
    assert.equal(record.messages_failed, 1);
    assert.equal(typeof record.duration_ms, 'number');
    assert.ok((record.duration_ms as number) >= 0);
    assert.equal(typeof record.time, 'number', 'pino stamps the time');
    assert.equal(record.trace_id, span.spanContext().traceId);
    assert.equal(record.span_id, span.spanContext().spanId);
    assert.equal(record.trace_flags, '01');
    assert.equal(record.error_message, undefined, 'no free text by default');
  });

  it('levels follow who can act: info for a gone device or a canceled call, warn for the provider, error for the sender', async () => {
    const { logger, records } = pinoLogger('trace');
    const telemetry = new PushTelemetry({ logger });
    const errors = [
      httpError(410),
      httpError(503),
      httpError(429),
      httpError(400),
      Object.assign(new Error('x'), { name: 'AbortError' }),
    ];
    for (const error of errors) {
      const send = telemetry.wrapSender(async () => Promise.reject(error), { provider: 'webpush' });
      await rejection(send());
    }
    assert.deepEqual(
      records().map((r) => [r.error_type, r.level, r.status]),
      [
        ['unregistered', 30, 410],
        ['provider_unavailable', 40, 503],
        ['rate_limited', 40, 429],
        ['payload_invalid', 50, 400],
        ['canceled', 30, undefined],
      ],
    );
  });

  it('logs a batch that returned with refused messages: partial or failure, counts by error_type', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger });
    const results: SettleResult[] = [
      {
        accepted: 3,
        failed: [
          { errorType: 'unregistered', reason: 'NotRegistered', token: 't-1-aaaaaaaa' },
          { errorType: 'unregistered', reason: 'NotRegistered', token: 't-2-aaaaaaaa' },
          { errorType: 'rate_limited', reason: 'QuotaExceeded', token: 't-3-aaaaaaaa' },
        ],
      },
      { accepted: 0, failed: [{ errorType: 'auth', reason: 'key t-9-bbbbbbbb rejected', token: 't-9-bbbbbbbb' }] },
      { accepted: 5, failed: [] },
    ];
    const send = telemetry.wrapSender(async (result: SettleResult) => result, {
      provider: 'expo',
      operation: 'send_push_notifications',
      countMessages: ([result]) => result.accepted + result.failed.length,
      settle: (result) => result,
    });
    for (const result of results) await send(result);

    const lines = records();
    assert.equal(lines.length, 2, 'the fully accepted call writes nothing');
    assert.deepEqual(
      { ...lines[0], time: 0, pid: 0, hostname: '', duration_ms: 0 },
      {
        level: 30,
        time: 0,
        pid: 0,
        hostname: '',
        event: FAILURE_LOG_EVENT,
        provider: 'expo',
        operation: 'send_push_notifications',
        outcome: 'partial',
        error_type: 'unregistered',
        failed_by_type: { unregistered: 2, rate_limited: 1 },
        reason: 'NotRegistered',
        messages: 6,
        messages_failed: 3,
        duration_ms: 0,
        msg: 'push call partly failed',
      },
    );
    assert.equal(lines[1]?.outcome, 'failure');
    assert.equal(lines[1]?.error_type, 'auth');
    assert.equal(lines[1]?.reason, 'key <token> rejected', 'the refused message’s token is cut out of its reason');
  });

  it('names the error type the span names: the most frequent, a tie going to the one that appears first', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger });
    const failed: FailedMessage[] = [
      { errorType: 'rate_limited', reason: 'QuotaExceeded', token: 't-1-aaaaaaaa' },
      { errorType: 'unregistered', reason: 'NotRegistered', token: 't-2-aaaaaaaa' },
      { errorType: 'unregistered', reason: 'NotRegistered', token: 't-3-aaaaaaaa' },
      { errorType: 'rate_limited', reason: 'QuotaExceeded', token: 't-4-aaaaaaaa' },
    ];
    const send = telemetry.wrapSender(async () => ({ accepted: 0, failed }), {
      provider: 'expo',
      countMessages: () => failed.length,
      settle: (result: SettleResult) => result,
    });
    await send();
    assert.deepEqual(
      records().map((record) => [record.error_type, record.reason]),
      [['rate_limited', 'QuotaExceeded']],
    );
  });

  it('names the provider’s status and reason for a real SDK against a loopback push service', async () => {
    const fake: FakeProvider = await startFakeWebPush({
      host: '127.0.0.1',
      port: 0,
      identity: await loopbackIdentity(),
      faults: new FaultPlan({ rules: [{ fault: 'auth' }] }),
    });
    const agent = new https.Agent({ rejectUnauthorized: false });
    try {
      const { logger, records, lines } = pinoLogger();
      const telemetry = new PushTelemetry({ logger, recordErrorMessages: true });
      const client = instrumentWebPush(webpush, telemetry, { app: 'web' });
      const vapid = webpush.generateVAPIDKeys();
      const subscription = webPushSubscription(fake.url, 'secret-subscription-id');
      await rejection(
        client.sendNotification(subscription, 'payload-text-never-logged', {
          agent,
          TTL: 60,
          vapidDetails: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        }),
      );
      const [record] = records();
      assert.equal(record?.provider, 'webpush');
      assert.equal(record?.operation, 'send_notification');
      assert.equal(record?.error_type, 'auth');
      assert.equal(record?.status, 401);
      assert.equal(record?.reason, '401 errno 109');
      assert.equal(record?.error_class, 'WebPushError');
      assert.equal(typeof record?.error_message, 'string', 'recordErrorMessages: true adds the message');
      const text = lines.join('\n');
      assert.ok(!text.includes('secret-subscription-id'), 'the endpoint (the web push token) never appears');
      assert.ok(!text.includes('payload-text-never-logged'));
    } finally {
      agent.destroy();
      await fake.close();
    }
  });

  it('writes nothing for successful sends, and nothing at all without a logger or logger provider', async () => {
    const { logger, lines } = pinoLogger('trace');
    const telemetry = new PushTelemetry({ logger });
    const send = telemetry.wrapSender(async () => 'id', { provider: 'fcm' });
    for (let i = 0; i < 100; i++) await send();
    assert.equal(lines.length, 0);
  });
});

/** A record with the fields that change from run to run (time, host, duration, trace) set aside. */
function stable(record: Line | undefined): Line {
  assert.ok(record, 'a record was written');
  const { time, pid, hostname, duration_ms, trace_id, span_id, trace_flags, ...rest } = record;
  assert.equal(typeof duration_ms, 'number');
  return rest;
}

/**
 * An error as firebase-admin 14 makes it (FirebaseError in lib/utils/error.js): `code`, `httpResponse` with the HTTP
 * status, the request error as `cause`, and no `name` of its own, so it reads as "Error". firebase-admin 13's carries
 * no status at all.
 */
class FirebaseMessagingError14 extends Error {
  readonly code: string;
  readonly httpResponse: { status: number; headers: Record<string, string>; data: object };
  readonly codePrefix = 'messaging';
  constructor(code: string, status: number, message: string) {
    super(message);
    this.code = `messaging/${code}`;
    this.httpResponse = { status, headers: { 'content-type': 'application/json' }, data: { error: { code: status } } };
    this.cause = Object.assign(new Error(`Server responded with status ${status}.`), { response: { status } });
  }
}

/** A firebase-admin Messaging whose calls answer what the test gives them. */
function fcmMessaging(answer: { send?: () => Promise<string>; sendEach?: () => Promise<unknown> }): FcmMessagingLike {
  const never = (): Promise<never> => Promise.reject(new Error('not used in this test'));
  return {
    send: answer.send ?? never,
    sendEach: answer.sendEach ?? never,
    sendEachForMulticast: never,
  };
}

describe('failure log: the HTTP status of each provider', () => {
  it('OneSignal: the status of a real ApiException (its numeric code), against the simulator', async () => {
    const fake = await startFakeOneSignal({
      host: '127.0.0.1',
      port: 0,
      identity: await loopbackIdentity(),
      faults: new FaultPlan({ rules: [{ match: 'busy-*', fault: 'rate_limited' }] }),
    });
    try {
      const { logger, records } = pinoLogger();
      const telemetry = new PushTelemetry({ logger, app: 'com.example.app' });
      const client = instrumentOneSignal(oneSignalClient(fake.url), telemetry);
      const error = await rejection(client.createNotification(notificationTo(['busy-1'])));
      assert.equal((error as { code?: unknown }).code, 429, 'the SDK put the status in its numeric code');
      assert.equal((error as { statusCode?: unknown }).statusCode, undefined, 'and nowhere the default looks');
      assert.deepEqual(stable(records()[0]), {
        level: 40,
        event: FAILURE_LOG_EVENT,
        provider: 'onesignal',
        app: 'com.example.app',
        operation: 'create_notification',
        outcome: 'failure',
        error_type: 'rate_limited',
        reason: '429',
        status: 429,
        error_class: 'Error',
        messages: 1,
        messages_failed: 1,
        msg: 'push call failed',
      });
    } finally {
      await fake.close();
    }
  });

  it('FCM: the status firebase-admin 14 keeps in httpResponse.status, for a rejected send (the sample in docs/logging.md)', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger: logger.child({ component: 'push' }), app: 'com.example.app' });
    const error = new FirebaseMessagingError14(
      'third-party-auth-error',
      401,
      'Auth error from APNS or Web Push Service',
    );
    const messaging = instrumentFcm(fcmMessaging({ send: () => Promise.reject(error) }), telemetry);
    assert.equal(await rejection(messaging.send({ token: 'device-token-1' } as never)), error);
    assert.deepEqual(stable(records()[0]), {
      level: 50,
      component: 'push',
      event: FAILURE_LOG_EVENT,
      provider: 'fcm',
      app: 'com.example.app',
      operation: 'send',
      outcome: 'failure',
      error_type: 'auth',
      reason: 'messaging/third-party-auth-error',
      status: 401,
      error_class: 'Error',
      messages: 1,
      messages_failed: 1,
      msg: 'push call failed',
    });
  });

  it('FCM: the status of the refused message that speaks for a sendEach batch; the error type still goes by code', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger });
    const gone = new FirebaseMessagingError14(
      'registration-token-not-registered',
      404,
      'Requested entity was not found.',
    );
    // INVALID_ARGUMENT is a 400 for a bad token: by status it would be payload_invalid, by code and text it is not.
    const bad = new FirebaseMessagingError14(
      'invalid-argument',
      400,
      'The registration token is not a valid FCM registration token',
    );
    const response = {
      successCount: 1,
      failureCount: 3,
      responses: [
        { success: true, messageId: 'projects/p/messages/1' },
        { success: false, error: bad },
        { success: false, error: gone },
        { success: false, error: gone },
      ],
    };
    const messaging = instrumentFcm(fcmMessaging({ sendEach: async () => response }), telemetry);
    await messaging.sendEach(['t-ok', 't-bad', 't-gone-1', 't-gone-2'].map((token) => ({ token })) as never);
    const record = records()[0];
    assert.equal(record?.outcome, 'partial');
    assert.deepEqual(record?.failed_by_type, { invalid_token: 1, unregistered: 2 });
    assert.equal(record?.error_type, 'unregistered');
    assert.equal(record?.reason, 'messaging/registration-token-not-registered');
    assert.equal(record?.status, 404, 'the first message of the dominant type speaks, not the first refused');
  });

  it('APNs (node-apn): a partial failure names the 410 of the first Unregistered device, against the simulator', async () => {
    const fake = await startFakeApns({
      host: '127.0.0.1',
      port: 0,
      identity: await loopbackIdentity(),
      faults: new FaultPlan({
        rules: [
          { match: 'busy-*', fault: 'rate_limited' },
          { match: 'gone-*', fault: 'unregistered' },
        ],
      }),
    });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const raw = new apn.Provider({
      token: {
        key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        keyId: 'KEY1234567',
        teamId: 'TEAM123456',
      },
      address: '127.0.0.1',
      port: fake.port,
      rejectUnauthorized: false,
      connectionRetryLimit: 0,
      requestTimeout: 2000,
    });
    try {
      const { logger, records } = pinoLogger();
      const otel = otelLogs();
      const telemetry = new PushTelemetry({
        logger: logger.child({ component: 'push' }),
        loggerProvider: otel.provider,
        app: 'com.example.app',
      });
      const provider = instrumentApns(raw, telemetry);
      const notification = new apn.Notification({ alert: 'Your order shipped' });
      notification.topic = 'com.example.app';
      const result = await provider.send(notification, ['ok-1', 'busy-1', 'gone-1', 'gone-2', 'ok-2']);
      assert.equal(result.sent.length, 2);
      // The second sample line in docs/logging.md.
      assert.deepEqual(stable(records()[0]), {
        level: 30,
        component: 'push',
        event: FAILURE_LOG_EVENT,
        provider: 'apns',
        app: 'com.example.app',
        operation: 'send',
        outcome: 'partial',
        error_type: 'unregistered',
        failed_by_type: { rate_limited: 1, unregistered: 2 },
        reason: 'Unregistered',
        status: 410,
        messages: 5,
        messages_failed: 3,
        msg: 'push call partly failed',
      });
      assert.equal(otel.records()[0]?.attributes[LOG_ATTRIBUTES.status], 410);
    } finally {
      raw.shutdown();
      await fake.close();
    }
  });

  it('APNs (apns2): sendMany names the statusCode of the SDK’s own ApnsError', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger });
    const notifications = ['ok-1', 'busy-1', 'busy-2'].map((token) => new Apns2Notification(token, { alert: 'hi' }));
    const refused = (notification: Apns2Notification) => ({
      error: new ApnsError({ statusCode: 429, notification, response: { reason: 'TooManyRequests', timestamp: 0 } }),
    });
    const client: Apns2ClientLike = {
      send: async (notification) => notification,
      sendMany: async (list) => [
        list[0],
        refused(notifications[1] as Apns2Notification),
        refused(notifications[2] as Apns2Notification),
      ],
    };
    await instrumentApns2(client, telemetry).sendMany(notifications);
    const record = records()[0];
    assert.deepEqual(
      [record?.outcome, record?.error_type, record?.reason, record?.status],
      ['partial', 'rate_limited', 'TooManyRequests', 429],
    );
  });

  it('a settle result’s status is written only when it is an HTTP status', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger });
    const send = telemetry.wrapSender(async (failed: FailedMessage[]) => ({ accepted: 0, failed }), {
      provider: 'custom',
      countMessages: ([failed]) => failed.length,
      settle: (result: SettleResult) => result,
    });
    await send([{ errorType: 'unregistered', status: 410 }]);
    await send([{ errorType: 'rate_limited', status: 42 }]);
    await send([
      { errorType: 'auth', status: '401' as never },
      { errorType: 'auth', status: 403 },
    ]);
    assert.deepEqual(
      records().map((r) => [r.error_type, r.status]),
      [
        ['unregistered', 410],
        ['rate_limited', undefined],
        ['auth', 401],
      ],
    );
  });
});

describe('failure log: the status hook', () => {
  it('reads the status where the sender keeps it, and answers nothing for a non-status', async () => {
    const { logger, records } = pinoLogger();
    const otel = otelLogs();
    const telemetry = new PushTelemetry({ logger, loggerProvider: otel.provider });
    const seen: unknown[] = [];
    const send = telemetry.wrapSender(async (error: unknown) => Promise.reject(error), {
      provider: 'custom',
      status: (error) => {
        seen.push(error);
        return (error as { meta?: { http?: number } }).meta?.http;
      },
    });
    const custom = Object.assign(new Error('bad gateway'), { meta: { http: 502 } });
    await rejection(send(custom));
    await rejection(send(Object.assign(new Error('odd'), { meta: { http: 42 }, statusCode: 503 })));
    assert.deepEqual(
      records().map((r) => [r.error_type, r.status]),
      [
        ['unknown', 502],
        ['provider_unavailable', undefined],
      ],
      'the hook decides the status, not the default; classification keeps its own',
    );
    assert.equal(otel.records()[0]?.attributes[LOG_ATTRIBUTES.status], 502);
    assert.equal(seen[0], custom, 'the hook is given the sender’s own error');
  });

  it('a hook that throws leaves the record without a status, and the send and its error untouched', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger });
    const own = httpError(503);
    const send = telemetry.wrapSender(async () => Promise.reject(own), {
      provider: 'custom',
      status: () => {
        throw new Error('status hook broke');
      },
    });
    assert.equal(await rejection(send()), own);
    const record = records()[0];
    assert.equal(record?.error_type, 'provider_unavailable');
    assert.equal(record?.reason, '503');
    assert.ok(record !== undefined && !('status' in record), 'no status, not even the default one');
    assert.deepEqual(
      telemetry.health().problems.map((p) => [p.kind, p.count]),
      [['status', 1]],
    );
    const ok = telemetry.wrapSender(async () => 'sent', {
      provider: 'custom',
      status: () => {
        throw new Error('never asked');
      },
    });
    assert.equal(await ok(), 'sent', 'a successful send never asks for a status');
    assert.equal(telemetry.health().problems.length, 1);
  });

  it('is asked only when a record is written: not past the rate limit, not without a sink', async () => {
    let asked = 0;
    const status = (): number => {
      asked++;
      return 503;
    };
    const { logger } = pinoLogger();
    const limited = new PushTelemetry({ logger, logRateLimit: { burst: 2, intervalSeconds: 3600 } });
    const send = limited.wrapSender(
      () => {
        throw httpError(503);
      },
      { provider: 'custom', status },
    );
    for (let i = 0; i < 10; i++) assert.throws(() => send());
    assert.equal(asked, 2);
    const silent = new PushTelemetry({ loggerProvider: false });
    const quiet = silent.wrapSender(
      () => {
        throw httpError(503);
      },
      { provider: 'custom', status },
    );
    assert.throws(() => quiet());
    assert.equal(asked, 2);
  });

  it('must be a function', () => {
    const telemetry = new PushTelemetry();
    assert.throws(() => telemetry.wrapSender(async () => 'x', { provider: 'custom', status: 500 as never }), {
      name: 'TypeError',
      message: 'options.status must be a function, got number 500',
    });
  });
});

describe('failure log: OpenTelemetry logs', () => {
  it('emits a record carrying the failed call’s trace and span id to options.loggerProvider', async () => {
    tracing.exporter.reset();
    const { provider, records } = otelLogs();
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, loggerProvider: provider });
    const send = telemetry.wrapSender(async (_batch: string[]) => Promise.reject(httpError(503)), {
      provider: 'sns',
      operation: 'publish',
      app: 'arn-app',
      countMessages: ([batch]) => batch.length,
    });
    // Inside a caller's span, so the call's span is a child and the record must name the child, not the parent.
    const parent = tracing.tracerProvider.getTracer('test').startSpan('handler');
    await context.with(trace.setSpan(context.active(), parent), () => rejection(send(['a', 'b', 'c'])));
    parent.end();

    const callSpan = tracing.spans().find((span) => span.name === 'publish sns');
    assert.ok(callSpan);
    const [record] = records();
    assert.equal(records().length, 1);
    assert.ok(record);
    assert.equal(record.spanContext?.traceId, callSpan.spanContext().traceId);
    assert.equal(record.spanContext?.spanId, callSpan.spanContext().spanId);
    assert.equal(record.severityNumber, 13);
    assert.equal(record.severityText, 'WARN');
    assert.equal(record.body, 'push call failed');
    assert.equal(record.eventName, FAILURE_LOG_EVENT);
    assert.equal(record.instrumentationScope.name, 'push-telemetry');
    const { [LOG_ATTRIBUTES.durationMs]: duration, ...attributes } = record.attributes;
    assert.equal(typeof duration, 'number');
    assert.deepEqual(attributes, {
      'messaging.system.name': 'aws.sns',
      'messaging.system': 'aws.sns',
      'push.app': 'arn-app',
      'messaging.operation.name': 'publish',
      'error.type': 'provider_unavailable',
      'push.provider.reason': '503',
      'http.response.status_code': 503,
      'exception.type': 'Error',
      'messaging.batch.message_count': 3,
      'push.messages.accepted': 0,
      'push.messages.failed': 3,
    });
  });

  it('uses the caller’s span when tracing records none of its own', async () => {
    tracing.exporter.reset();
    const { provider, records } = otelLogs();
    const { logger, records: lines } = pinoLogger();
    // No tracerProvider given: the global one is the API's no-op, so the call makes no span.
    const telemetry = new PushTelemetry({ loggerProvider: provider, logger });
    const send = telemetry.wrapSender(async () => Promise.reject(httpError(500)), { provider: 'fcm' });
    const parent = tracing.tracerProvider.getTracer('test').startSpan('handler');
    await context.with(trace.setSpan(context.active(), parent), () => rejection(send()));
    parent.end();
    assert.equal(records()[0]?.spanContext?.spanId, parent.spanContext().spanId);
    assert.equal(lines()[0]?.span_id, parent.spanContext().spanId);
  });

  it('finds the global logger provider registered after the telemetry was made, and honours loggerProvider: false', async () => {
    const { provider, records } = otelLogs();
    const telemetry = new PushTelemetry();
    const off = new PushTelemetry({ loggerProvider: false });
    const send = telemetry.wrapSender(async () => Promise.reject(httpError(500)), { provider: 'fcm' });
    const sendOff = off.wrapSender(async () => Promise.reject(httpError(500)), { provider: 'fcm' });
    await rejection(send());
    assert.equal(logs.setGlobalLoggerProvider(provider), provider);
    try {
      await rejection(send());
      await rejection(sendOff());
    } finally {
      logs.disable();
    }
    await rejection(send());
    assert.equal(records().length, 1, 'only the failure while the provider was registered, and not from `off`');
    assert.equal(records()[0]?.attributes['error.type'], 'provider_unavailable');
  });
});

describe('failure log: rate limit', () => {
  it('turns a 10k-failure outage into a bounded number of records and one suppression summary', async () => {
    const { logger, records } = pinoLogger();
    const otel = otelLogs();
    const telemetry = new PushTelemetry({
      logger,
      loggerProvider: otel.provider,
      logRateLimit: { burst: 10, intervalSeconds: 3600 },
    });
    const send = telemetry.wrapSender(
      () => {
        throw httpError(503);
      },
      { provider: 'fcm', app: 'a' },
    );
    const auth = telemetry.wrapSender(
      () => {
        throw httpError(401);
      },
      { provider: 'fcm', app: 'a' },
    );
    for (let i = 0; i < 10_000; i++) assert.throws(() => send());
    for (let i = 0; i < 3; i++) assert.throws(() => auth());
    assert.deepEqual(
      records().map((r) => r.error_type),
      [...Array(10).fill('provider_unavailable'), 'auth', 'auth', 'auth'],
      'each error_type has its own budget',
    );

    telemetry.flushFailureLog();
    const summaries = records().filter((r) => r.event === SUPPRESSED_LOG_EVENT);
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]?.msg, '9990 push failure records suppressed');
    assert.equal(summaries[0]?.suppressed, 9990);
    assert.equal(summaries[0]?.provider, 'fcm');
    assert.equal(summaries[0]?.app, 'a');
    assert.equal(summaries[0]?.error_type, 'provider_unavailable');
    assert.equal(summaries[0]?.level, 40);
    const otelSummary = otel.records().find((r) => r.eventName === SUPPRESSED_LOG_EVENT);
    assert.equal(otelSummary?.attributes[LOG_ATTRIBUTES.suppressed], 9990);
    assert.equal(otel.records().length, 14);
    telemetry.flushFailureLog();
    assert.equal(records().length, 14, 'a summary is written once');
  });

  it('writes the summary when the interval ends, and lets records through again after it', async () => {
    const { logger, records } = pinoLogger();
    const telemetry = new PushTelemetry({ logger, logRateLimit: { burst: 2, intervalSeconds: 0.3 } });
    const send = telemetry.wrapSender(
      () => {
        throw httpError(500);
      },
      { provider: 'apns' },
    );
    for (let i = 0; i < 5; i++) assert.throws(() => send());
    assert.equal(records().length, 2);
    for (let waited = 0; records().length < 3 && waited < 10_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const summary = records()[2];
    assert.equal(summary?.event, SUPPRESSED_LOG_EVENT);
    assert.equal(summary?.suppressed, 3);
    // Timers may fire up to a millisecond early by the monotonic clock.
    assert.ok((summary?.interval_seconds as number) >= 0.29);
    assert.throws(() => send());
    assert.equal(records().length, 4);
    assert.equal(records()[3]?.event, FAILURE_LOG_EVENT);
  });

  it('never keeps the process alive: a pending summary’s timer is unref’d', async () => {
    const script = [
      "import { PushTelemetry } from './src/index.ts';",
      'const logger = { info() {}, warn() {}, error() {} };',
      'const telemetry = new PushTelemetry({ logger });',
      "const send = telemetry.wrapSender(() => { throw Object.assign(new Error('x'), { statusCode: 503 }); }, { provider: 'fcm' });",
      'for (let i = 0; i < 100; i++) { try { send(); } catch {} }',
      "process.stdout.write('sent');",
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    // The default interval is 60 s: exiting well before it shows the timer does not hold the event loop.
    const timer = setTimeout(() => child.kill(), 45_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.equal(out, 'sent');
    assert.equal(code, 0, 'the process exited by itself');
  });
});

describe('failure log: never a token or payload', () => {
  // Prefixed so that no token can be a piece of a fixed field name or value.
  const token = fc.stringMatching(/^[A-Za-z0-9_:-]{12,80}$/).map((t) => `T${t}`);
  it('keeps tokens out of every record, whatever the error quotes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(token, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('message', 'code', 'name', 'reason'),
        fc.boolean(),
        fc.boolean(),
        async (tokens, where, recordErrorMessages, settled) => {
          const { logger, lines } = pinoLogger('trace');
          const otel = otelLogs();
          const telemetry = new PushTelemetry({ logger, loggerProvider: otel.provider, recordErrorMessages });
          const quoted = `failed for ${tokens.join(', ')} (payload {"title":"PAYLOAD-SECRET"})`;
          const options = {
            provider: 'fcm',
            tokens: ([list]: [string[]]) => list,
            countMessages: ([list]: [string[]]) => list.length,
          };
          if (settled) {
            const send = telemetry.wrapSender(async (list: string[]) => list, {
              ...options,
              settle: (list) => ({
                accepted: 0,
                failed: list.map((t) => ({ errorType: 'auth' as const, reason: quoted, token: t })),
              }),
            });
            await send(tokens);
          } else {
            const error = Object.assign(new Error(where === 'message' ? quoted : 'failed'), {
              statusCode: 401,
              ...(where === 'code' && { code: quoted }),
            });
            if (where === 'name') error.name = quoted;
            const send = telemetry.wrapSender(
              async (_list: string[]) => Promise.reject(error),
              where === 'reason' ? { ...options, reason: () => quoted } : options,
            );
            await rejection(send(tokens));
          }
          const written = [...lines, ...otel.records().map((r) => JSON.stringify([r.body, r.attributes]))];
          assert.ok(written.length >= 2, 'both sinks wrote the failure');
          for (const text of written) {
            for (const t of tokens) assert.ok(!text.includes(t), `token ${t} in ${text}`);
            // The free-text message (and the payload it quotes) is only written when asked for.
            if (!settled && where === 'message' && !recordErrorMessages)
              assert.ok(!text.includes('PAYLOAD-SECRET'), text);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('failure log: a broken logger never breaks a send', () => {
  it('reports a throwing logger or logger provider in health() and still throws the sender’s own error', async () => {
    const boom = (): never => {
      throw new Error('logger down');
    };
    const logger: PinoCompatibleLogger = { info: boom, warn: boom, error: boom };
    const provider = { getLogger: () => ({ emit: boom }) };
    const telemetry = new PushTelemetry({ logger, loggerProvider: provider });
    const own = httpError(500);
    const send = telemetry.wrapSender(async () => Promise.reject(own), { provider: 'fcm' });
    assert.equal(await rejection(send()), own);
    assert.equal(await rejection(send()), own);
    const kinds = telemetry.health().problems.map((p) => [p.kind, p.count]);
    assert.deepEqual(kinds.sort(), [
      ['logger', 2],
      ['loggerProvider', 2],
    ]);
    const broken = new PushTelemetry({ loggerProvider: { getLogger: boom } });
    const other = broken.wrapSender(async () => Promise.reject(own), { provider: 'fcm' });
    assert.equal(await rejection(other()), own);
    assert.equal(broken.health().problems[0]?.kind, 'loggerProvider');
  });
});

describe('failure log: options', () => {
  const cases: [string, PushTelemetryOptions, RegExp][] = [
    [
      'a logger without warn()',
      { logger: { info() {}, error() {} } as never },
      /options\.logger must be a pino-compatible logger with info\(\), warn\(\), error\(\), got an object without warn\(\)/,
    ],
    ['a string logger', { logger: 'pino' as never }, /options\.logger must be a pino-compatible logger .*got "pino"/],
    [
      'a loggerProvider without getLogger()',
      { loggerProvider: {} as never },
      /options\.loggerProvider must be an OpenTelemetry LoggerProvider \(or false\) with getLogger\(\), got an object$/,
    ],
    [
      'burst 0',
      { logRateLimit: { burst: 0 } },
      /options\.logRateLimit\.burst must be a whole number from 1 to 10000, got number 0/,
    ],
    [
      'a negative interval',
      { logRateLimit: { intervalSeconds: -1 } },
      /options\.logRateLimit\.intervalSeconds must be a number of seconds/,
    ],
    [
      'an unknown limit key',
      { logRateLimit: { perSecond: 1 } as never },
      /options\.logRateLimit: unknown option "perSecond"/,
    ],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name} at construction`, () => {
      assert.throws(
        () => new PushTelemetry(options),
        (error: unknown) => {
          assert.ok(error instanceof TypeError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('accepts a pino child logger', async () => {
    const { logger, records } = pinoLogger();
    const child = logger.child({ component: 'push' });
    const telemetry = new PushTelemetry({ logger: child });
    const send = telemetry.wrapSender(async () => Promise.reject(httpError(503)), { provider: 'fcm' });
    await rejection(send());
    assert.equal(records()[0]?.component, 'push');
    assert.equal(records()[0]?.error_type, 'provider_unavailable');
  });
});
