import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { Counter, Registry } from 'prom-client';
import { PushTelemetry, startMetricsServer } from '../src/index.js';
import { httpError, scrape, valueOf } from './helpers.js';

type ExportCallback = Parameters<SpanExporter['export']>[1];

/** An exporter whose export() does `behave`; the SDK owns retries and timeouts, we only check the send is unharmed. */
function exporter(behave: (spans: ReadableSpan[], done: ExportCallback) => void): SpanExporter & { calls: number } {
  const self = {
    calls: 0,
    export(spans: ReadableSpan[], done: ExportCallback) {
      self.calls++;
      behave(spans, done);
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  return self;
}

const logged: string[] = [];
diag.setLogger(
  {
    error: (...args) => logged.push(args.join(' ')),
    warn: (...args) => logged.push(args.join(' ')),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  },
  { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
);
after(() => diag.disable());

/** Sends `n` times through a sender wrapped on `telemetry`, mixing outcomes, and checks every result is the sender's own. */
async function sendMix(telemetry: PushTelemetry, n: number): Promise<number> {
  const gone = httpError(410);
  const send = telemetry.wrapSender(
    async (i: number) => {
      if (i % 4 === 3) throw gone;
      return `id-${i}`;
    },
    { provider: 'fcm' },
  );
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    if (i % 4 === 3) await assert.rejects(send(i), (error) => error === gone);
    else assert.equal(await send(i), `id-${i}`);
  }
  return performance.now() - started;
}

describe('broken telemetry backends never change a send', () => {
  it('a span exporter that throws', async () => {
    const broken = exporter(() => {
      throw new Error('exporter exploded');
    });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(broken)] });
    const telemetry = new PushTelemetry({ tracerProvider: provider });
    await sendMix(telemetry, 40);
    assert.ok(broken.calls > 0, 'the exporter was called');
    assert.equal(
      valueOf((await scrape(telemetry)).samples, 'push_messages_total', { provider: 'fcm', outcome: 'accepted' }),
      30,
    );
  });

  it('a span exporter that hangs: sends do not wait for it', async () => {
    const hanging = exporter(() => {});
    const provider = new BasicTracerProvider({
      spanProcessors: [
        new SimpleSpanProcessor(hanging),
        new BatchSpanProcessor(
          exporter(() => {}),
          { scheduledDelayMillis: 1 },
        ),
      ],
    });
    const telemetry = new PushTelemetry({ tracerProvider: provider });
    const elapsed = await sendMix(telemetry, 200);
    // Not a benchmark: a bound loose enough for any machine, tight enough to catch a send that awaited an export.
    assert.ok(elapsed < 2000, `200 sends took ${elapsed.toFixed(0)} ms with a hung exporter`);
    assert.equal(hanging.calls, 200);
  });

  it('a slow span exporter (500 ms per export)', async () => {
    const slow = exporter(
      (_spans, done) => void setTimeout(() => done({ code: ExportResultCode.SUCCESS }), 500).unref(),
    );
    const provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(slow, { scheduledDelayMillis: 1, maxExportBatchSize: 1 })],
    });
    const telemetry = new PushTelemetry({ tracerProvider: provider });
    const elapsed = await sendMix(telemetry, 100);
    assert.ok(elapsed < 2000, `100 sends took ${elapsed.toFixed(0)} ms with a 500 ms exporter`);
  });

  it('a span exporter that reports failure', async () => {
    const failing = exporter((_spans, done) =>
      done({ code: ExportResultCode.FAILED, error: new Error('collector down') }),
    );
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(failing)] });
    await sendMix(new PushTelemetry({ tracerProvider: provider }), 20);
    assert.equal(failing.calls, 20);
  });

  it('a tracer whose startSpan throws is reported once through diag', async () => {
    logged.length = 0;
    const tracerProvider = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error('tracer down');
        },
        startActiveSpan: () => {
          throw new Error('tracer down');
        },
      }),
    };
    const telemetry = new PushTelemetry({ tracerProvider: tracerProvider as never });
    await sendMix(telemetry, 100);
    assert.equal(logged.filter((line) => line.includes('tracing failed')).length, 1, logged.join('\n'));
    assert.deepEqual(
      telemetry.health().problems.map((p) => [p.kind, p.count]),
      [['tracing', 100]],
    );
  });

  it('a registry whose metrics() rejects, and a collect() that throws', async () => {
    const registry = new Registry();
    let collects = 0;
    new Counter({
      name: 'flaky_total',
      help: 'throws on collect',
      registers: [registry],
      collect() {
        collects++;
        throw new Error('collect failed');
      },
    });
    registry.metrics = () => Promise.reject(new Error('metrics() failed'));
    const telemetry = new PushTelemetry({ registry });
    await sendMix(telemetry, 20);
    const server = await startMetricsServer({ telemetry, port: 0 });
    const response = await fetch(`${server.url}/metrics`).finally(() => server.close());
    assert.equal(response.status, 500);
    assert.match(await response.text(), /^metrics collection failed/);
    assert.ok(collects > 0);
    await sendMix(telemetry, 20);
    assert.deepEqual(
      telemetry.health().problems.map((p) => [p.kind, p.count]),
      [['collect', 1]],
    );
  });
});
