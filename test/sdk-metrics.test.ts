import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { OTEL_METRIC_NAMES, startTelemetry } from '../src/index.js';

// A file of its own: NodeSDK leaves its global meter provider registered after shutdown, and startTelemetry uses the
// SDK's meters only when its own start registered them.

/** The summed data points of one metric across everything the exporter received last. */
function sumOf(exported: ResourceMetrics[], name: string): number | undefined {
  const found = exported
    .at(-1)
    ?.scopeMetrics.flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === name);
  return found?.dataPoints.reduce(
    (sum, point) => sum + (typeof point.value === 'number' ? point.value : (point.value as { count: number }).count),
    0,
  );
}

describe('startTelemetry with metrics export', () => {
  it('records the push metrics on the SDK meter provider too when metric readers are given', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const started = await startTelemetry({ metricsPort: false, sdk: { metricReaders: [reader], spanProcessors: [] } });
    try {
      const send = started.telemetry.wrapSender(async (_token: string) => 'id', { provider: 'fcm' });
      await send('a');
      await send('b');
      await reader.forceFlush();
      assert.equal(sumOf(exporter.getMetrics(), OTEL_METRIC_NAMES.sentMessages), 2);
      assert.equal(sumOf(exporter.getMetrics(), OTEL_METRIC_NAMES.duration), 2, 'two durations recorded');
      assert.match(
        await started.telemetry.registry.metrics(),
        /push_messages_total\{provider="fcm",outcome="accepted"\} 2/,
        'and still in Prometheus',
      );
    } finally {
      await started.shutdown();
    }
  });
});

describe('startTelemetry({ metricExporter }): the push metrics through telemetry.metricProducer()', () => {
  it('exports them to the exporter without recording them on the SDK instruments', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const started = await startTelemetry({
      metricsPort: false,
      metricExporter: exporter,
      metricExportIntervalMillis: 3_600_000,
      sdk: { spanProcessors: [] },
    });
    const send = started.telemetry.wrapSender(async (_token: string) => 'id', { provider: 'fcm', app: 'producer' });
    await send('a');
    await send('b');
    await send('c');
    await started.shutdown();
    const exported = exporter.getMetrics();
    assert.ok(exported.length > 0, 'the reader exported at shutdown');
    const scopes = exported.at(-1)?.scopeMetrics.map((scope) => scope.scope.name);
    assert.deepEqual(scopes, ['push-telemetry'], 'only the producer: the SDK instruments recorded nothing');
    assert.equal(sumOf(exported, OTEL_METRIC_NAMES.sentMessages), 3);
    assert.equal(sumOf(exported, OTEL_METRIC_NAMES.duration), 3, 'three durations');
    assert.equal(exported.at(-1)?.resource.attributes['service.name'], 'push-sender', "under the SDK's resource");
  });

  it('rejects an exporter without export() and a bad interval, naming the option', async () => {
    await assert.rejects(
      startTelemetry({ metricsPort: false, metricExporter: {} as never }),
      /^TypeError: startTelemetry\(options\): options\.metricExporter must be an OpenTelemetry metric exporter/,
    );
    await assert.rejects(
      startTelemetry({
        metricsPort: false,
        metricExporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        metricExportIntervalMillis: 0,
      }),
      /options\.metricExportIntervalMillis must be a positive integer of ms, got number 0/,
    );
  });
});
