// Run: node --import tsx examples/cluster.ts
//
// A node:cluster primary forks three workers. Each worker wraps a sender and sends its own mix of notifications;
// the primary serves the workers' metrics summed on one /metrics (startClusterMetricsServer, prom-client's
// AggregatorRegistry underneath), prints the aggregated lines, then stops the workers and exits. No network beyond
// 127.0.0.1. How this behaves at fleet scale, and what to do under PM2: docs/scaling.md.
import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { PushTelemetry, startClusterMetricsServer } from 'push-telemetry';

// What each worker sends: a different mix of outcomes per worker, so the sums are easy to check by eye.
const MIXES = [
  ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'gone-1'],
  ['ok-5', 'ok-6', 'ok-7', 'busy-1', 'busy-2'],
  ['ok-8', 'ok-9', 'gone-2', 'down-1'],
];

interface Sent {
  readonly type: 'example:sent';
  readonly accepted: number;
  readonly total: number;
}

if (cluster.isPrimary) {
  const server = await startClusterMetricsServer({ port: Number(process.env.PORT ?? 0) });
  const workers = MIXES.map((_, index) => cluster.fork({ WORKER_INDEX: String(index) }));
  // Wait until every worker has sent its mix (the workers stay up: the primary asks them for their metrics).
  const reports = await Promise.all(
    workers.map(
      (worker) =>
        new Promise<Sent>((resolve) =>
          worker.on('message', (message: Sent) => message.type === 'example:sent' && resolve(message)),
        ),
    ),
  );
  reports.forEach(({ accepted, total }, index) => console.log(`worker ${index + 1}: ${accepted} of ${total} accepted`));

  console.log(`aggregated /metrics: ${server.url}/metrics (${workers.length} workers)`);
  const exposition = await (await fetch(`${server.url}/metrics`)).text();
  const interesting = exposition
    .split('\n')
    .filter((line) =>
      /^push_messages_total.* [1-9]|_count\{.* [1-9]|^push_requests_in_flight\{|^push_last_success|^push_telemetry_info/.test(
        line,
      ),
    );
  console.log(interesting.join('\n'));

  // Disconnecting lets each worker's event loop empty, so it exits by itself; then the primary can too.
  await new Promise<void>((resolve) => cluster.disconnect(resolve));
  await server.close();
  console.log('workers stopped');
} else {
  // The worker side: an AggregatorRegistry is a prom-client Registry that also answers the primary's requests;
  // setRegistries makes it the one answered with (prom-client's global registry otherwise).
  const telemetry = new PushTelemetry({ registry: new AggregatorRegistry(), app: 'com.example.app' });
  AggregatorRegistry.setRegistries([telemetry.registry]);

  // Stands in for a provider SDK: fails the way real providers do, keyed off the token so the output is repeatable.
  async function sendPush(token: string, title: string): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    if (token.startsWith('gone')) throw Object.assign(new Error('Unregistered'), { statusCode: 410 });
    if (token.startsWith('busy')) throw Object.assign(new Error('Too many requests'), { statusCode: 429 });
    if (token.startsWith('down')) throw Object.assign(new Error('Service unavailable'), { statusCode: 503 });
    return `msg-${token}-${title.length}`;
  }
  const send = telemetry.wrapSender(sendPush, { provider: 'fcm', tokens: ([token]) => [token] });

  const tokens = MIXES[Number(process.env.WORKER_INDEX)] ?? [];
  const results = await Promise.allSettled(tokens.map((token) => send(token, 'Hello')));
  const accepted = results.filter((result) => result.status === 'fulfilled').length;
  process.send?.({ type: 'example:sent', accepted, total: tokens.length } satisfies Sent);
}
