import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PushTelemetry } from '../src/index.js';

// The wrapper makes its span active around the sender only when a context manager that can carry it is registered;
// these tests follow one wrapped sender through "none yet", "registered after wrapping" and "removed again".
describe('the send span as the active span, with and without a context manager', () => {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = tracerProvider.getTracer('sdk-inside-the-sender');
  const telemetry = new PushTelemetry({ tracerProvider });
  const seenInside: Array<string | undefined> = [];
  // Like an SDK whose HTTP client is instrumented: it starts its own span, after an await, inside the send.
  const send = telemetry.wrapSender(
    async (token: string) => {
      seenInside.push(trace.getActiveSpan()?.spanContext().spanId);
      await delay(1);
      tracer.startSpan('POST').end();
      return `id-${token}`;
    },
    { provider: 'fcm' },
  );
  const spans = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
  after(async () => {
    context.disable();
    await tracerProvider.shutdown();
  });

  it('still records the span and returns the value when no context manager is registered', async () => {
    assert.equal(await send('a'), 'id-a');
    const [push] = spans('send fcm');
    assert.ok(push, 'the send span was exported');
    assert.equal(seenInside[0], undefined, 'nothing can carry a span without a context manager');
    const [child] = spans('POST');
    assert.notEqual(
      child?.spanContext().traceId,
      push.spanContext().traceId,
      'the inner span is a root of its own trace',
    );
  });

  it('parents the spans started inside the sender once a manager is registered, even after wrapping', async () => {
    exporter.reset();
    assert.ok(context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
    await tracer.startActiveSpan('request', async (request) => {
      assert.equal(await send('b'), 'id-b');
      request.end();
    });
    const [push] = spans('send fcm');
    const [child] = spans('POST');
    const [request] = spans('request');
    assert.ok(push && child && request);
    assert.equal(seenInside[1], push.spanContext().spanId, 'the send span is active inside the sender');
    assert.equal(
      child.parentSpanContext?.spanId,
      push.spanContext().spanId,
      'the SDK span is a child of the send span',
    );
    assert.equal(
      push.parentSpanContext?.spanId,
      request.spanContext().spanId,
      'the send span is a child of the caller',
    );
    assert.equal(trace.getActiveSpan(), undefined, 'nothing stays active after the call');
  });

  it('goes back to not propagating, without errors, when the manager is removed', async () => {
    exporter.reset();
    context.disable();
    assert.equal(await send('c'), 'id-c');
    assert.equal(seenInside[2], undefined);
    assert.equal(spans('send fcm').length, 1);
    assert.deepEqual(telemetry.health(), { ok: true, problems: [], invalidTokensHeld: [] });
  });
});
