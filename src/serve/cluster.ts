import type { IncomingMessage, ServerResponse } from 'node:http';
import { AggregatorRegistry } from '../core/peers.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/exposition.js';
import { ProblemLog } from '../core/problems.js';
import { publicProblems, serveMetrics, type MetricsServer, type MetricsServerAuth } from './metrics-server.js';
import { describe, rejectUnknownOptions } from '../core/options.js';

/**
 * The primary's side of a node:cluster fleet: one /metrics that asks every worker for its registry over the cluster
 * IPC channel (prom-client's AggregatorRegistry) and serves the sum. Each worker answers only if it has registered
 * the registry PushTelemetry uses, which takes two prom-client lines in the worker:
 *
 *     // An AggregatorRegistry is a Registry that also answers the primary's requests...
 *     const telemetry = new PushTelemetry({ registry: new AggregatorRegistry() });
 *     // ...with the registries given here (prom-client's global registry otherwise).
 *     AggregatorRegistry.setRegistries([telemetry.registry]);
 *
 * See docs/scaling.md.
 */

export interface ClusterMetricsServerOptions {
  /** Default 9464, the port OpenTelemetry's Prometheus exporter uses; 0 picks a free one. */
  readonly port?: number;
  /** Default 127.0.0.1: /metrics is reachable from this host only until you choose otherwise. */
  readonly host?: string;
  /** Require a bearer token or basic auth on every route. Default none. */
  readonly auth?: MetricsServerAuth;
}

// node:cluster is loaded on first use only, as prom-client does: some application servers (Passenger) crash when it
// is merely imported, and most users of this package never call this function.
type Cluster = typeof import('node:cluster').default;

function connectedWorkers(cluster: Cluster): number {
  return Object.values(cluster.workers ?? {}).filter((worker) => worker?.isConnected() === true).length;
}

/**
 * Serves the sum of every cluster worker's metrics on `/metrics` (Prometheus text), over the same hardened server as
 * startMetricsServer: GET and HEAD only, optional auth, no stack traces, 127.0.0.1 by default. Call it in the cluster
 * primary. Counters and histograms (bucket by bucket) are summed, `push_requests_in_flight` is summed,
 * `push_last_success_timestamp_seconds` and `push_telemetry_info` take the maximum. Exemplars do not survive the
 * aggregation. A scrape fails with 500 when a connected worker does not answer within prom-client's 5 s.
 */
export async function startClusterMetricsServer(options: ClusterMetricsServerOptions = {}): Promise<MetricsServer> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`startClusterMetricsServer(options): options must be an object, got ${describe(options)}`);
  }
  rejectUnknownOptions(options, ['port', 'host', 'auth'], 'startClusterMetricsServer(options)');
  const { default: cluster } = await import('node:cluster');
  if (!cluster.isPrimary) {
    throw new Error(
      'startClusterMetricsServer() runs in the cluster primary; in a worker, register your registry with ' +
        'AggregatorRegistry.setRegistries() instead (see docs/scaling.md). Under PM2 cluster mode, which runs no code ' +
        'of yours in its primary, give each instance its own startMetricsServer port instead.',
    );
  }
  const problems = new ProblemLog();
  const health = () => {
    const list = problems.list();
    return {
      status: list.length === 0 ? 'ok' : 'degraded',
      workers: connectedWorkers(cluster),
      problems: publicProblems(list),
    };
  };

  // Built once the options have passed: constructing an AggregatorRegistry makes prom-client listen for the workers.
  return serveMetrics(options, () => {
    const aggregator = new AggregatorRegistry();
    const metrics = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res
          .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
          .end('method not allowed\n');
        return;
      }
      try {
        const body = await aggregator.clusterMetrics();
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch (error) {
        // A worker that timed out or failed to collect: the reason goes to the diag log and /healthz, not the scraper.
        problems.report('collect', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics collection failed; see the process diag log\n');
      }
    };
    return { metrics, health };
  });
}
