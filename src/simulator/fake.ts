/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
import type { Server as NetServer, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Http2SecureServer, ServerHttp2Session } from 'node:http2';
import type { FaultPlan } from './faults.js';
import type { TlsIdentity } from './tls.js';

export const SIMULATED_PROVIDERS = ['fcm', 'apns', 'webpush', 'expo', 'sns', 'onesignal'] as const;
export type SimulatedProvider = (typeof SIMULATED_PROVIDERS)[number];

export interface FakeProviderStats {
  /** HTTP requests received. */
  requests: number;
  /** Messages answered as accepted. */
  accepted: number;
  /** Messages answered with a fault, or left unanswered by `hang` (`faults.hanging` says how many requests are held now). */
  refused: number;
}

/** One running fake provider. */
export interface FakeProvider {
  readonly provider: SimulatedProvider;
  /** Base URL, e.g. https://127.0.0.1:43123 (http:// for Expo, SNS and OneSignal, which the SDKs let you point anywhere). */
  readonly url: string;
  readonly port: number;
  /** The scripted faults; `faults.set({ rules })` changes them while the fake runs. */
  readonly faults: FaultPlan;
  readonly stats: FakeProviderStats;
  close(): Promise<void>;
}

export interface FakeProviderOptions {
  readonly host: string;
  /** 0 for a free port. */
  readonly port: number;
  readonly identity: TlsIdentity;
  readonly faults: FaultPlan;
}

/** Listens on host:port and resolves with the port actually bound. */
/** A request body as UTF-8, read to its end; undefined when it is larger than `maxBytes` or the stream fails. */
export function readBody(req: Readable, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= maxBytes ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', () => resolve(undefined));
  });
}

export function listen(server: NetServer | Http2SecureServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * A close() that does not wait for clients: fakes hold connections open on purpose (keep-alive, HTTP/2 sessions,
 * `hang` faults), so every socket and session is destroyed rather than drained.
 */
export function closer(server: NetServer | Http2SecureServer): () => Promise<void> {
  const sockets = new Set<Socket>();
  const sessions = new Set<ServerHttp2Session>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    });
}

export function newStats(): FakeProviderStats {
  return { requests: 0, accepted: 0, refused: 0 };
}
