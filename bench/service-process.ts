/**
 * One copy of the demo's sender service for the load bench: a child process running bench/load-service.ts, started,
 * asked for its CPU, memory and in-process scrapes over IPC, and closed. Every wait on the child is bounded.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DemoProvider } from '../src/cli/clients/index.js';
import type { Reply, Request, Scrape, StartMessage, Usage } from './load-service.js';

const SERVICE = fileURLToPath(new URL('./load-service.ts', import.meta.url));
const CHILD_TIMEOUT_MS = 30_000;

export class ServiceProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #nextId = 0;
  readonly #exited: Promise<void>;
  /** Messages answered 200 so far, and how many more may have been served unanswered (in flight when a run ended). */
  messages = 0;
  slack = 0;

  private constructor(
    readonly name: string,
    readonly url: string,
    child: ChildProcess,
    exited: Promise<void>,
  ) {
    this.#child = child;
    this.#exited = exited;
    child.on('message', (reply: Reply) => {
      if (reply.type === 'failed') return void process.stderr.write(`${name} service: ${reply.message}\n`);
      if ('id' in reply) {
        this.#pending.get(reply.id)?.(reply);
        this.#pending.delete(reply.id);
      }
    });
  }

  static async start(
    name: string,
    instrument: boolean,
    prune: boolean,
    fakes: Readonly<Record<DemoProvider, string>>,
  ): Promise<ServiceProcess> {
    const child = fork(SERVICE, [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.send({ type: 'start', instrument, prune, fakes } satisfies StartMessage);
    try {
      const url = await withTimeout(
        new Promise<string>((resolve, reject) => {
          child.once('message', (reply: Reply) =>
            reply.type === 'ready'
              ? resolve(reply.url)
              : reject(new Error(`${name} service: ${reply.type === 'failed' ? reply.message : reply.type}`)),
          );
          child.once('exit', (code) => reject(new Error(`${name} service exited with ${code} before it was ready`)));
        }),
        CHILD_TIMEOUT_MS,
        `${name} service to start`,
      );
      return new ServiceProcess(name, url, child, exited);
    } catch (error) {
      child.kill();
      await exited;
      throw error;
    }
  }

  tally(messages: number, slack: number): void {
    this.messages += messages;
    this.slack += slack;
  }

  #ask(type: Request['type']): Promise<Reply> {
    const id = this.#nextId++;
    return withTimeout(
      new Promise<Reply>((resolve) => {
        this.#pending.set(id, resolve);
        this.#child.send({ type, id } satisfies Request);
      }),
      CHILD_TIMEOUT_MS,
      `${this.name} service to answer ${type}`,
    );
  }

  async usage(afterGc = false): Promise<Usage> {
    const reply = await this.#ask(afterGc ? 'usage-after-gc' : 'usage');
    if (reply.type !== 'usage') throw new Error(`${this.name} service answered ${reply.type} to usage`);
    return reply.usage;
  }

  async scrapeInProcess(): Promise<Scrape> {
    const reply = await this.#ask('scrape');
    if (reply.type !== 'scrape') throw new Error(`${this.name} service answered ${reply.type} to scrape`);
    return reply.scrape;
  }

  /** Asks the service to close its server and clients and exit; kills it if it has not within the timeout. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    try {
      await withTimeout(
        this.#ask('close').then(() => this.#exited),
        CHILD_TIMEOUT_MS,
        `${this.name} service to close`,
      );
    } catch {
      this.#child.kill();
      await this.#exited;
    }
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
