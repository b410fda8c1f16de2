import type { PushTelemetryOptions } from './types.js';
import { PushTelemetry } from './telemetry.js';
import { startMetricsServer, type MetricsServer } from './server.js';
import { describe, rejectUnknownOptions } from './utils.js';

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
   * Further NodeSDK configuration (traceExporter, spanProcessors, sampler, instrumentations, resource…), passed
   * through as is. Without a traceExporter the SDK follows the standard OTEL_* variables (OTLP by default).
   */
  readonly sdk?: Readonly<Record<string, unknown>>;
}

export interface StartedTelemetry {
  readonly telemetry: PushTelemetry;
  /** The metrics server, unless metricsPort was false. */
  readonly server: MetricsServer | undefined;
  /** Flushes and stops the SDK and the metrics server. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry's NodeSDK (an optional peer dependency: `npm i @opentelemetry/sdk-node`), a PushTelemetry
 * instance tracing through it, and the /metrics server: one call for a service that has no telemetry set up yet.
 */
export async function startTelemetry(options: StartTelemetryOptions = {}): Promise<StartedTelemetry> {
  if (options === null || typeof options !== 'object') throw new TypeError(`startTelemetry(options): options must be an object, got ${describe(options)}`);
  rejectUnknownOptions(options, ['serviceName', 'telemetry', 'metricsPort', 'metricsHost', 'sdk'], 'startTelemetry(options)');
  let sdkModule: typeof import('@opentelemetry/sdk-node');
  try {
    sdkModule = await import('@opentelemetry/sdk-node');
  } catch (error) {
    throw new Error('startTelemetry() needs the optional peer dependency @opentelemetry/sdk-node: npm install @opentelemetry/sdk-node', { cause: error });
  }
  const serviceName = options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'push-sender';
  const sdk = new sdkModule.NodeSDK({ serviceName, ...options.sdk });
  sdk.start();
  const { trace } = await import('@opentelemetry/api');
  const telemetry = new PushTelemetry({ ...options.telemetry, tracerProvider: trace.getTracerProvider() });
  const server =
    options.metricsPort === false
      ? undefined
      : await startMetricsServer({ telemetry, port: options.metricsPort ?? 9464, host: options.metricsHost ?? '127.0.0.1' }).catch(async (error: unknown) => {
          await sdk.shutdown();
          throw error;
        });
  return {
    telemetry,
    server,
    async shutdown() {
      await Promise.all([sdk.shutdown(), server?.close()]);
    },
  };
}
