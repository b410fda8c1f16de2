/**
 * One server of the receipts bench, in a process of its own (bench/receipts.bench.ts): `bare`, a node:http handler
 * that reads the body, parses the JSON and answers 204, or `receipts`, startMetricsServer with receipts on (and a
 * secret, so only signed receipts count, when the second argument is `signed`). It sends
 * { type: 'ready', url } once it listens, answers { type: 'counted' } with the receipts it counted and { type: 'cpu' }
 * with the CPU time it has used (user + system, µs), and closes on { type: 'close' }.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { PushTelemetry, startMetricsServer } from '../src/index.js';

export type ServerKind = 'bare' | 'receipts';
export type ServerMessage =
  | { type: 'ready'; url: string }
  | { type: 'counted'; receipts: number }
  | { type: 'cpu'; micros: number };
export type ParentMessage = { type: 'count' } | { type: 'cpu' } | { type: 'close' };

export const BENCH_APP = 'com.example.app';
export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

/** The baseline: what any receipts endpoint has to do at least. */
function startBare(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      }),
    ),
  );
}

async function main(kind: ServerKind, signed: boolean): Promise<void> {
  const telemetry = new PushTelemetry();
  const receipts = signed ? { apps: [BENCH_APP], secret: BENCH_SECRET } : { apps: [BENCH_APP] };
  const server = kind === 'bare' ? await startBare() : await startMetricsServer({ telemetry, port: 0, receipts });
  const send = (message: ServerMessage) => process.send?.(message);
  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'count') {
      const metric = await telemetry.registry.getSingleMetricAsString('push_device_receipts_total').catch(() => '');
      const receipts = [...metric.matchAll(/^push_device_receipts_total\{[^}]*\} (\d+)$/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
      send({ type: 'counted', receipts });
    } else if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', micros: user + system });
    } else {
      await server.close();
      process.disconnect();
    }
  });
  send({ type: 'ready', url: server.url });
}

// Only when run as the child: the bench imports this file for its constants.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  await main(process.argv[2] === 'bare' ? 'bare' : 'receipts', process.argv[3] === 'signed');
