import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { DURATION_BUCKETS, ERROR_TYPES, PushTelemetry, type FailedMessage, type SettleResult } from '../src/index.js';
import { codeError, createTracing, httpError, scrape, valueOf, type Sample, type Tracing } from './helpers.js';

interface BatchResult {
  readonly responses: ReadonlyArray<{ token: string; ok: boolean; code?: string }>;
}

const BATCH_TYPES: Record<string, 'unregistered' | 'invalid_token' | 'rate_limited'> = {
  NOT_FOUND: 'unregistered',
  INVALID_TOKEN: 'invalid_token',
  QUOTA: 'rate_limited',
};

function settleBatch(result: BatchResult): SettleResult {
  const failed = result.responses
    .filter((r) => !r.ok)
    .map(
      (r): FailedMessage => ({ errorType: BATCH_TYPES[r.code as string] ?? 'unknown', reason: r.code, token: r.token }),
    );
  return { accepted: result.responses.length - failed.length, failed };
}

describe('the telemetry contract after a scripted mix of outcomes', () => {
  let tracing: Tracing;
  let samples: Sample[];
  let exposition: string;
  const invalidTokens: Array<{ token: string; errorType: string; reason?: string }> = [];
  let parentSpanId = '';
  let activeInsideSender: string | undefined;

  before(async () => {
    tracing = createTracing();
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, app: 'com.example' });

    let single = 0;
    const send = telemetry.wrapSender(
      (message: { token: string; outcome: 'ok' | 410 | 503 | 'refused' }) => {
        activeInsideSender = trace.getActiveSpan()?.spanContext().spanId;
        if (message.outcome === 'refused') throw codeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443');
        if (message.outcome !== 'ok') return Promise.reject(httpError(message.outcome));
        return Promise.resolve(`projects/demo/messages/${++single}`);
      },
      {
        provider: 'fcm',
        tokens: ([message]) => [message.token],
        settle: (id) => ({ accepted: 1, failed: [], messageId: id }),
        onInvalidToken: (event) => void invalidTokens.push(event),
      },
    );
    const sendEach = telemetry.wrapSender(async (result: BatchResult) => result, {
      provider: 'fcm',
      operation: 'send_each',
      countMessages: ([result]) => result.responses.length,
      settle: settleBatch,
      onInvalidToken: (event) => void invalidTokens.push(event),
    });
    const publish = telemetry.wrapSender(async (_text: string) => ({ MessageId: 'sns-1' }), {
      provider: 'sns',
      operation: 'publish',
      app: 'billing',
    });

    const tracer = tracing.tracerProvider.getTracer('test');
    await tracer.startActiveSpan('parent', async (parent) => {
      parentSpanId = parent.spanContext().spanId;
      for (let i = 0; i < 3; i++) await send({ token: `ok-${i}`, outcome: 'ok' });
      parent.end();
    });
    await assert.rejects(send({ token: 'gone-token', outcome: 410 }));
    await assert.rejects(send({ token: 'ok-down', outcome: 503 }));
    assert.throws(() => send({ token: 'ok-x', outcome: 'refused' }), /ECONNREFUSED/);
    await sendEach({
      responses: [
        { token: 'a', ok: true },
        { token: 'b', ok: true },
        { token: 'c', ok: true },
        { token: 'stale-1', ok: false, code: 'NOT_FOUND' },
        { token: 'junk-1', ok: false, code: 'INVALID_TOKEN' },
      ],
    });
    await sendEach({
      responses: [
        { token: 'd', ok: false, code: 'QUOTA' },
        { token: 'e', ok: false, code: 'QUOTA' },
      ],
    });
    await publish('hello');

    ({ samples, text: exposition } = await scrape(telemetry));
  });
  after(() => tracing.shutdown());

  it('counts one push_messages_total per recipient, by outcome and error_type', () => {
    const messages = (labels: Record<string, string>) =>
      valueOf(samples, 'push_messages_total', { provider: 'fcm', app: 'com.example', ...labels });
    assert.equal(messages({ outcome: 'accepted' }), 6);
    const failed: Record<string, number> = {
      unregistered: 2,
      provider_unavailable: 1,
      network: 1,
      invalid_token: 1,
      rate_limited: 2,
    };
    for (const type of ERROR_TYPES)
      assert.equal(messages({ outcome: 'failed', error_type: type }), failed[type] ?? 0, type);
    assert.equal(valueOf(samples, 'push_messages_total', { provider: 'sns', app: 'billing', outcome: 'accepted' }), 1);
  });

  it('never labels accepted messages with an error_type, nor anything with a token', () => {
    for (const sample of samples.filter((s) => s.name === 'push_messages_total' && s.labels.outcome === 'accepted')) {
      assert.equal(sample.labels.error_type, undefined);
    }
    for (const token of ['gone-token', 'stale-1', 'junk-1', 'ok-0']) assert.ok(!exposition.includes(token), token);
  });

  it('observes one duration per API call with the request outcome', () => {
    const count = (operation: string, outcome: string) =>
      valueOf(samples, 'push_request_duration_seconds_count', {
        provider: 'fcm',
        app: 'com.example',
        operation,
        outcome,
      });
    assert.equal(count('send', 'success'), 3);
    assert.equal(count('send', 'failure'), 3);
    assert.equal(count('send', 'partial'), 0);
    assert.equal(count('send_each', 'partial'), 1);
    assert.equal(count('send_each', 'failure'), 1);
    assert.equal(count('send_each', 'success'), 0);
  });

  it('uses the contract buckets, cumulative, ending in +Inf = count', () => {
    const labels = { provider: 'fcm', app: 'com.example', operation: 'send', outcome: 'success' };
    const buckets = samples.filter(
      (s) =>
        s.name === 'push_request_duration_seconds_bucket' &&
        s.labels.operation === 'send' &&
        s.labels.outcome === 'success',
    );
    assert.deepEqual(
      buckets.map((b) => b.labels.le),
      [...DURATION_BUCKETS.map(String), '+Inf'],
    );
    for (let i = 1; i < buckets.length; i++) assert.ok((buckets[i]?.value ?? 0) >= (buckets[i - 1]?.value ?? 0));
    assert.equal(buckets.at(-1)?.value, 3);
    const sum = valueOf(samples, 'push_request_duration_seconds_sum', labels) ?? -1;
    assert.ok(sum > 0 && sum < 1, `sum ${sum}`);
  });

  it('shows nothing in flight once every call settled, and the last success time', () => {
    assert.equal(valueOf(samples, 'push_requests_in_flight', { provider: 'fcm', app: 'com.example' }), 0);
    const last = valueOf(samples, 'push_last_success_timestamp_seconds', { provider: 'fcm', app: 'com.example' }) ?? 0;
    assert.ok(Math.abs(last - Date.now() / 1000) < 60, `last success ${last}`);
    // The version of the package itself, read here and not through src/version.ts: a VERSION that drifted from the
    // manifest (hard-coded, or resolving another package.json) would otherwise label the metric wrongly unnoticed.
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.match(version, /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
    assert.equal(valueOf(samples, 'push_telemetry_info', { version }), 1);
  });

  it('has no other metric names and no other labels', () => {
    const names = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    assert.deepEqual([...names].sort(), [
      'push_invalid_tokens_held_total',
      'push_last_success_timestamp_seconds',
      'push_messages_total',
      'push_request_duration_seconds',
      'push_requests_in_flight',
      'push_telemetry_info',
    ]);
    const allowed = new Set(['provider', 'app', 'outcome', 'error_type', 'operation', 'le', 'version']);
    for (const sample of samples) for (const label of Object.keys(sample.labels)) assert.ok(allowed.has(label), label);
  });

  it('calls onInvalidToken once per unregistered or invalid recipient', () => {
    assert.deepEqual(invalidTokens.map(({ token, errorType }) => `${token}:${errorType}`).sort(), [
      'gone-token:unregistered',
      'junk-1:invalid_token',
      'stale-1:unregistered',
    ]);
    assert.equal(invalidTokens.find((e) => e.token === 'stale-1')?.reason, 'NOT_FOUND');
  });

  it('emits one PRODUCER span per call, named {operation} {provider}, child of the caller', () => {
    const spans = tracing.spans().filter((s) => s.name !== 'parent');
    assert.equal(spans.length, 9);
    assert.deepEqual([...new Set(spans.map((s) => s.name))].sort(), ['publish sns', 'send fcm', 'send_each fcm']);
    for (const span of spans) assert.equal(span.kind, SpanKind.PRODUCER);
    const first = spans[0];
    assert.equal(first?.parentSpanContext?.spanId, parentSpanId);
    assert.ok(
      activeInsideSender !== undefined && spans.some((s) => s.spanContext().spanId === activeInsideSender),
      'the sender runs inside its span',
    );
  });

  it('records the messaging attributes on a successful send', () => {
    const span = tracing.spans().find((s) => s.name === 'send fcm' && s.status.code === SpanStatusCode.UNSET);
    assert.deepEqual(span?.attributes, {
      'messaging.system.name': 'fcm',
      'messaging.system': 'fcm',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.message.id': 'projects/demo/messages/1',
      'push.app': 'com.example',
      'push.messages.accepted': 1,
      'push.messages.failed': 0,
    });
    const sns = tracing.spans().find((s) => s.name === 'publish sns');
    assert.equal(sns?.attributes['messaging.system.name'], 'aws.sns');
    assert.equal(sns?.attributes['messaging.system'], 'aws.sns', 'the deprecated name stays beside the new one');
  });

  it('marks a failed call ERROR with error.type and the raw reason', () => {
    const failed = tracing.spans().filter((s) => s.name === 'send fcm' && s.status.code === SpanStatusCode.ERROR);
    assert.deepEqual(failed.map((s) => s.attributes['error.type']).sort(), [
      'network',
      'provider_unavailable',
      'unregistered',
    ]);
    const gone = failed.find((s) => s.attributes['error.type'] === 'unregistered');
    assert.equal(gone?.attributes['push.provider.reason'], '410');
    assert.equal(gone?.attributes['push.messages.failed'], 1);
    // Class, error.type and reason code only: the sender's own message is recorded only with recordErrorMessages.
    assert.equal(gone?.status.message, 'Error: unregistered (410)');
    assert.equal(
      gone?.events.find((e) => e.name === 'exception')?.attributes?.['exception.message'],
      'Error: unregistered (410)',
    );
    const refused = failed.find((s) => s.attributes['error.type'] === 'network');
    assert.equal(refused?.attributes['push.provider.reason'], 'ECONNREFUSED');
  });

  it('leaves a partial batch UNSET with per-type counts and one event per refused message', () => {
    const [partial, allFailed] = tracing.spans().filter((s) => s.name === 'send_each fcm');
    assert.equal(partial?.status.code, SpanStatusCode.UNSET);
    assert.equal(partial?.attributes['error.type'], undefined);
    assert.equal(partial?.attributes['messaging.batch.message_count'], 5);
    assert.equal(partial?.attributes['push.messages.accepted'], 3);
    assert.equal(partial?.attributes['push.messages.failed'], 2);
    assert.equal(partial?.attributes['push.messages.failed.unregistered'], 1);
    assert.equal(partial?.attributes['push.messages.failed.invalid_token'], 1);
    assert.deepEqual(
      partial?.events.map((e) => [e.name, e.attributes?.['error.type'], e.attributes?.['push.provider.reason']]),
      [
        ['push.message.failed', 'unregistered', 'NOT_FOUND'],
        ['push.message.failed', 'invalid_token', 'INVALID_TOKEN'],
      ],
    );
    assert.equal(allFailed?.status.code, SpanStatusCode.ERROR);
    assert.equal(allFailed?.attributes['error.type'], 'rate_limited');
    assert.equal(allFailed?.attributes['push.messages.failed.rate_limited'], 2);
  });

  it('records no token on any span unless token hashing is on', () => {
    const dump = JSON.stringify(tracing.spans().map((s) => [s.attributes, s.events]));
    for (const token of ['gone-token', 'stale-1', 'junk-1', 'ok-0']) assert.ok(!dump.includes(token), token);
  });
});

describe('push_requests_in_flight', () => {
  it('counts calls started and not yet settled', async () => {
    const telemetry = new PushTelemetry();
    const releases: Array<() => void> = [];
    const send = telemetry.wrapSender(() => new Promise<void>((resolve) => releases.push(resolve)), {
      provider: 'webpush',
    });
    const pending = [send(), send()];
    assert.equal(valueOf((await scrape(telemetry)).samples, 'push_requests_in_flight', { provider: 'webpush' }), 2);
    releases.forEach((release) => release());
    await Promise.all(pending);
    assert.equal(valueOf((await scrape(telemetry)).samples, 'push_requests_in_flight', { provider: 'webpush' }), 0);
  });
});

describe('push_receipts_total', () => {
  it('counts delivered and failed receipts, and shows only providers that have receipts', async () => {
    const telemetry = new PushTelemetry();
    telemetry.wrapSender(async () => 'ok', { provider: 'fcm' });
    telemetry.recordReceipts({
      provider: 'expo',
      delivered: 5,
      failed: [{ errorType: 'unregistered' }, { errorType: 'unregistered' }, { errorType: 'provider_unavailable' }],
    });
    const { samples } = await scrape(telemetry);
    assert.equal(valueOf(samples, 'push_receipts_total', { provider: 'expo', outcome: 'delivered' }), 5);
    assert.equal(
      valueOf(samples, 'push_receipts_total', { provider: 'expo', outcome: 'failed', error_type: 'unregistered' }),
      2,
    );
    assert.equal(
      valueOf(samples, 'push_receipts_total', {
        provider: 'expo',
        outcome: 'failed',
        error_type: 'provider_unavailable',
      }),
      1,
    );
    assert.equal(samples.filter((s) => s.name === 'push_receipts_total' && s.labels.provider === 'fcm').length, 0);
  });

  it('rejects bad receipt input with a TypeError naming the option', () => {
    const telemetry = new PushTelemetry();
    assert.throws(() => telemetry.recordReceipts({ provider: 'Expo!', delivered: 1 }), /options\.provider/);
    assert.throws(() => telemetry.recordReceipts({ provider: 'expo', delivered: -1 }), /options\.delivered/);
  });
});
