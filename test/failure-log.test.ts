import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
import fc from 'fast-check';
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
import { instrumentWebPush } from '../src/providers/webpush.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { startFakeWebPush, webPushSubscription } from '../src/simulator/webpush.js';
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
