import type { PushTelemetryOptions } from '../core/types.js';
import { PushTelemetry } from '../core/telemetry.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { describe, rejectUnknownOptions } from '../core/options.js';
import { readProperty } from '../core/read.js';
import type { PushMetricCollection, PushMetricProducer } from '../metrics/otel-producer.js';

const EMPTY_PRODUCER: PushMetricProducer = {
  collect: async (): Promise<PushMetricCollection> => ({
    resourceMetrics: { resource: undefined as never, scopeMetrics: [] },
    errors: [],
  }),
};

export interface StartTelemetryOptions {
  /** `service.name` of the traces. Default: OTEL_SERVICE_NAME, else "push-sender". */
  readonly serviceName?: string;
  /** Options for the PushTelemetry instance (tracerProvider is taken from the started SDK). */
  readonly telemetry?: Omit<PushTelemetryOptions, 'tracerProvider'>;
  /** Serve /metrics and /healthz on this port (default 9464), or false for none. */
  readonly metricsPort?: number | false;
  /** Interface for the metrics server. Default 127.0.0.1. */
  readonly metricsHost?: string;
  /**
   * Export the push metrics to this OpenTelemetry metric exporter (`new OTLPMetricExporter()`, say) through
   * `telemetry.metricProducer()`, on a PeriodicExportingMetricReader of the SDK: the OTLP path that adds nothing to a
   * send. The push metrics then never go on the SDK's instruments, so readers in `sdk.metricReaders` get only the
   * SDK's other metrics.
   */
  readonly metricExporter?: PushMetricExporter;
  /** How often the metricExporter receives the push metrics, in ms. Default: the SDK's (60 s). */
  readonly metricExportIntervalMillis?: number;
  /**
   * Further NodeSDK configuration (traceExporter, spanProcessors, sampler, instrumentations, resource, metricReaders…),
   * passed through as is. Without a traceExporter the SDK follows the standard OTEL_* variables (OTLP by default).
   * When metrics export is asked for, by `metricReaders` (or `metricReader`) here or by OTEL_METRICS_EXPORTER, the
   * push metrics are recorded on the SDK's meter provider too (`messaging.client.*`, see docs/metrics.md), unless
   * `telemetry.meterProvider` says otherwise.
   */
  readonly sdk?: Readonly<Record<string, unknown>>;
}

/** An sdk-metrics PushMetricExporter, such as the OTLP exporters; only what startTelemetry checks is spelled out. */
export interface PushMetricExporter {
  export(metrics: never, resultCallback: (result: { code: number; error?: Error }) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface StartedTelemetry {
  readonly telemetry: PushTelemetry;
  /** The metrics server, unless metricsPort was false. */
  readonly server: MetricsServer | undefined;
  /** Writes pending failure-log summaries, then flushes and stops the SDK and the metrics server. */
  shutdown(): Promise<void>;
}

function asksForMetricsExport(sdk: StartTelemetryOptions['sdk']): boolean {
  if (sdk !== undefined && (sdk.metricReaders !== undefined || sdk.metricReader !== undefined)) return true;
  const exporters = process.env.OTEL_METRICS_EXPORTER?.trim();
  return exporters !== undefined && exporters !== '' && exporters !== 'none';
}

/**
 * Starts OpenTelemetry's NodeSDK (an optional peer dependency: `npm i @opentelemetry/sdk-node`), a PushTelemetry
 * instance tracing through it, and the /metrics server: one call for a service that has no telemetry set up yet.
 */
export async function startTelemetry(options: StartTelemetryOptions = {}): Promise<StartedTelemetry> {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`startTelemetry(options): options must be an object, got ${describe(options)}`);
  rejectUnknownOptions(
    options,
    ['serviceName', 'telemetry', 'metricsPort', 'metricsHost', 'metricExporter', 'metricExportIntervalMillis', 'sdk'],
    'startTelemetry(options)',
  );
  const { metricExporter, metricExportIntervalMillis } = options;
  if (metricExporter !== undefined && typeof readProperty(metricExporter, 'export') !== 'function')
    throw new TypeError(
      `startTelemetry(options): options.metricExporter must be an OpenTelemetry metric exporter (with export()), got ${describe(metricExporter)}`,
    );
  if (
    metricExportIntervalMillis !== undefined &&
    (!Number.isInteger(metricExportIntervalMillis) || metricExportIntervalMillis <= 0)
  )
    throw new TypeError(
      `startTelemetry(options): options.metricExportIntervalMillis must be a positive integer of ms, got ${describe(metricExportIntervalMillis)}`,
    );
  let sdkModule: typeof import('@opentelemetry/sdk-node');
  try {
    sdkModule = await import('@opentelemetry/sdk-node');
  } catch (error) {
    throw new Error(
      'startTelemetry() needs the optional peer dependency @opentelemetry/sdk-node: npm install @opentelemetry/sdk-node',
      { cause: error },
    );
  }
  const serviceName = options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'push-sender';
  // The producer's reader must exist before the SDK starts and the telemetry after it (its tracer comes from the
  // SDK), so the reader gets a producer that forwards to the telemetry's once there is one.
  let producer: PushMetricProducer | undefined;
  const forwarding: PushMetricProducer = {
    collect: (collectOptions) => (producer ?? EMPTY_PRODUCER).collect(collectOptions),
  };
  const sdkOptions: Record<string, unknown> = { serviceName, ...options.sdk };
  if (metricExporter !== undefined) {
    const { PeriodicExportingMetricReader } = sdkModule.metrics;
    const reader = new PeriodicExportingMetricReader({
      exporter: metricExporter as unknown as ConstructorParameters<typeof PeriodicExportingMetricReader>[0]['exporter'],
      metricProducers: [forwarding],
      ...(metricExportIntervalMillis !== undefined && { exportIntervalMillis: metricExportIntervalMillis }),
    });
    const given = (options.sdk?.metricReaders as unknown[] | undefined) ?? [];
    sdkOptions.metricReaders = [...given, reader];
  }
  const sdk = new sdkModule.NodeSDK(sdkOptions);
  const { metrics, trace } = await import('@opentelemetry/api');
  const meterProviderBefore = metrics.getMeterProvider();
  sdk.start();
  // NodeSDK registers a meter provider by default (an OTLP reader when OTEL_METRICS_EXPORTER is unset); the push
  // metrics go there only when metrics export was asked for, so the default stays one path: the /metrics scrape.
  // A provider registered before this start (NodeSDK leaves its own registered even after shutdown) is not ours.
  const meterProvider = metrics.getMeterProvider();
  const useSdkMeters =
    metricExporter === undefined && meterProviderBefore !== meterProvider && asksForMetricsExport(options.sdk);
  let telemetry: PushTelemetry;
  try {
    telemetry = new PushTelemetry({
      ...(useSdkMeters && { meterProvider }),
      ...options.telemetry,
      tracerProvider: trace.getTracerProvider(),
    });
    if (metricExporter !== undefined) producer = telemetry.metricProducer();
  } catch (error) {
    await sdk.shutdown();
    throw error;
  }
  const server =
    options.metricsPort === false
      ? undefined
      : await startMetricsServer({
          telemetry,
          port: options.metricsPort ?? 9464,
          host: options.metricsHost ?? '127.0.0.1',
        }).catch(async (error: unknown) => {
          await sdk.shutdown();
          throw error;
        });
  return {
    telemetry,
    server,
    async shutdown() {
      // Suppressed-record summaries first, so that the SDK's log processors still export them.
      telemetry.flushFailureLog();
      await Promise.all([sdk.shutdown(), server?.close()]);
    },
  };
}
