import type { AddressInfo } from 'node:net';
import express from 'express';
import type { PushTelemetry } from './telemetry.js';
import { describe, rejectUnknownOptions } from './utils.js';

export interface MetricsServerOptions {
  readonly telemetry: PushTelemetry;
  /** Default 9464, the port OpenTelemetry's Prometheus exporter uses; 0 picks a free one. */
  readonly port?: number;
  /** Default 127.0.0.1: /metrics is reachable from this host only until you choose otherwise. */
  readonly host?: string;
}

export interface MetricsServer {
  /** Base URL, e.g. http://127.0.0.1:9464 (append /metrics or /healthz). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes idle keep-alive ones; resolves when the server is closed. */
  close(): Promise<void>;
}

/** An express app serving `/metrics` and `/healthz`, listening once the promise resolves. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  if (options === null || typeof options !== 'object') throw new TypeError(`startMetricsServer(options): options must be an object, got ${describe(options)}`);
  rejectUnknownOptions(options, ['telemetry', 'port', 'host'], 'startMetricsServer(options)');
  const { telemetry, port = 9464, host = '127.0.0.1' } = options;
  if (telemetry === null || typeof telemetry !== 'object' || typeof telemetry.metricsHandler !== 'function') {
    throw new TypeError(`options.telemetry must be a PushTelemetry instance, got ${describe(telemetry)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`options.port must be a whole number from 0 to 65535, got ${describe(port)}`);
  if (typeof host !== 'string' || host === '') throw new TypeError(`options.host must be a host name or address, got ${describe(host)}`);

  const app = express();
  app.disable('x-powered-by');
  const metrics = telemetry.metricsHandler();
  app.all('/metrics', (req, res) => void metrics(req, res));
  app.get('/healthz', (_req, res) => {
    // Telemetry trouble is reported, never turned into a failing probe: the sender itself is fine.
    const health = telemetry.health();
    res.json({ status: health.ok ? 'ok' : 'degraded', problems: health.problems });
  });

  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
