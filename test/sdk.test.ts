import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry } from '../src/index.js';

describe('startTelemetry', () => {
  it('starts the NodeSDK, traces wrapped sends through it and serves /metrics', async () => {
    const exporter = new InMemorySpanExporter();
    const started = await startTelemetry({
      serviceName: 'notifier-test',
      metricsPort: 0,
      telemetry: { app: 'com.example' },
      sdk: { spanProcessors: [new SimpleSpanProcessor(exporter)] },
    });
    try {
      const send = started.telemetry.wrapSender(async () => 'id-1', { provider: 'expo' });
      const tracer = trace.getTracer('test');
      await tracer.startActiveSpan('request', async (parent) => {
        await send();
        parent.end();
      });
      // NodeSDK's resource detectors are async; SimpleSpanProcessor exports once they settle.
      for (let i = 0; i < 100 && exporter.getFinishedSpans().length < 2; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      const spans = exporter.getFinishedSpans();
      const push = spans.find((s) => s.name === 'send expo');
      assert.ok(push, spans.map((s) => s.name).join());
      assert.equal(push.parentSpanContext?.spanId, spans.find((s) => s.name === 'request')?.spanContext().spanId);
      assert.equal(push.resource.attributes['service.name'], 'notifier-test');
      const text = await (await fetch(`${started.server?.url}/metrics`)).text();
      assert.match(text, /^push_messages_total\{provider="expo",app="com\.example",outcome="accepted"\} 1$/m);
    } finally {
      await started.shutdown();
    }
    await assert.rejects(fetch(`${started.server?.url}/metrics`));
  });

  it('stops the SDK again when the telemetry options are bad', async () => {
    await assert.rejects(startTelemetry({ metricsPort: false, telemetry: { app: 'not an app label!' } }), /app/);
  });

  it('rejects unknown options before starting anything', async () => {
    await assert.rejects(startTelemetry({ servicename: 'x' } as never), /unknown option "servicename"/);
  });
});
