/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListeningApp {
  readonly server: Server;
  /** `http://host:port` of the bound address, IPv6 hosts in brackets. */
  readonly url: string;
  /** The bound port: the one asked for, or the one the OS picked for port 0. */
  readonly port: number;
}

/** Starts `app` (an express app or any request listener) on host:port and resolves once it listens, or rejects with the bind error (EADDRINUSE…). */
export async function listen(
  app: (req: IncomingMessage, res: ServerResponse) => void,
  port: number,
  host: string,
): Promise<ListeningApp> {
  // Loaded when a server starts, like express: the root import never pays for node:http.
  const { createServer } = await import('node:http');
  const server = createServer(app).listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${urlHost}:${address.port}`, port: address.port };
}
