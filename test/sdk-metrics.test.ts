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
