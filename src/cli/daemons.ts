/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Prometheus and Alertmanager as child processes of the demo: found on PATH, started on free loopback ports, waited
 * for until ready, and stopped (SIGTERM, then SIGKILL) by the demo on exit, on Ctrl-C, and on failure.
 */

/** The first of `names` found on PATH (Debian calls Alertmanager prometheus-alertmanager), or undefined. */
export function findBinary(names: readonly string[]): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter((entry) => entry !== '')) {
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Daemon {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** The last few KB of its output, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

const LOG_KEEP = 8_000;

/** `track` sees the child as soon as it is spawned, so a last-resort kill can reach it even before it is ready. */
export async function startDaemon(
  name: string,
  binary: string,
  args: (port: number) => string[],
  cwd: string,
  track: (child: ChildProcess) => void,
): Promise<Daemon> {
  const port = await freePort();
  // cwd in the demo's temp dir: anything a daemon writes relative to it is removed with the dir.
  const child = spawn(binary, args(port), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let log = '';
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-LOG_KEEP));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawned = new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  const url = `http://127.0.0.1:${port}`;
  const daemon: Daemon = {
    name,
    url,
    child,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await spawned;
    await waitReady(`${url}/-/ready`, child);
  } catch (error) {
    await daemon.stop();
    throw new Error(
      `${name} did not start: ${(error as Error).message}\n${log.trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  return daemon;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('not ready after 30 s');
}
