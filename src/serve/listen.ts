import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';

export interface ListeningApp {
  readonly server: Server;
  /** `http://host:port` of the bound address, IPv6 hosts in brackets. */
  readonly url: string;
  /** The bound port: the one asked for, or the one the OS picked for port 0. */
  readonly port: number;
}

/** Starts `app` on host:port and resolves once it listens, or rejects with the bind error (EADDRINUSE…). */
export async function listen(app: express.Express, port: number, host: string): Promise<ListeningApp> {
  const server = app.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${urlHost}:${address.port}`, port: address.port };
}
