/**
 * The Expo push endpoint the load bench sends to: POST /--/api/v2/push/send answered as the simulator's fake Expo
 * answers a send without faults (src/simulator/expo.ts): one `{ status: 'ok', id }` ticket per recipient, in order,
 * gzip bodies accepted. Nothing else: no faults, no getReceipts, and no receipts kept.
 *
 * Why not the simulator's fake itself: it keeps the receipts of its last 100,000 tickets and evicts the oldest with
 * `map.delete(map.keys().next().value)`, which in V8 skips every deleted entry still in the table: past 100,000
 * messages each accepted message costs it tens of µs. At the batch scenario's ~20,000 messages/s that made the fake,
 * which shares this process with autocannon, the bottleneck of the whole run within seconds (since fixed with
 * BoundedMap; this endpoint stays so the bench measures the service, not a fake doing bookkeeping).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readJson } from '../src/simulator/expo.js';

export interface ExpoEndpoint {
  readonly url: string;
  /** Recipients answered with an ok ticket. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

export async function startExpoEndpoint(): Promise<ExpoEndpoint> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url?.split('?', 1)[0] !== '/--/api/v2/push/send') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: `No route for ${req.method} ${req.url}` }] }));
      return;
    }
    readJson(req).then(
      (payload) => {
        const tickets: { status: 'ok'; id: string }[] = [];
        for (const message of Array.isArray(payload) ? payload : [payload]) {
          const to = (message as { to?: unknown } | null)?.to;
          for (let i = 0, n = Array.isArray(to) ? to.length : 1; i < n; i++)
            tickets.push({ status: 'ok', id: randomUUID() });
        }
        accepted += tickets.length;
        res
          .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
          .end(JSON.stringify({ data: tickets }));
      },
      () =>
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: [{ code: 'VALIDATION_ERROR', message: 'The request body must be JSON' }] })),
    );
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
