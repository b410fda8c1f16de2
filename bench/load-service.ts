/**
 * One sender service for the load bench, in a process of its own: the demo's service (createClients +
 * startSenderService, exactly as `push-telemetry demo` builds it), with the SDK clients instrumented or bare.
 * bench/load.bench.ts forks two of these, one of each, and drives them over IPC; this file is not run by hand.
 *
 * The fakes are not started here: they run in the parent, as a provider runs elsewhere in production, so this
 * process spends its CPU on the service alone. The clients only read each fake's URL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createClients, DEMO_PROVIDERS, type DemoProvider } from '../src/cli/clients/index.js';
import { startSenderService } from '../src/cli/sender-service.js';
import { TokenStore } from '../src/cli/tokens.js';
import { FaultPlan, type FakeProvider, type Simulator } from '../src/simulator/index.js';
import { PushTelemetry } from '../src/core/telemetry.js';

export interface StartMessage {
  readonly type: 'start';
  readonly instrument: boolean;
  /**
   * The demo passes onInvalidToken (invalid tokens leave its token store); false leaves it out, for the ablation
   * `LOAD_BENCH_PRUNE=off npm run bench:load` (docs/performance.md). Only the instrumented clients ever call it.
   */
  readonly prune: boolean;
  /** Each fake's base URL, as the parent's simulator reports it. */
  readonly fakes: Readonly<Record<DemoProvider, string>>;
}

/** What the parent asks; every request is answered by one Reply with the same id. */
export type Request =
  | { readonly type: 'usage'; readonly id: number }
  /** Like usage, after two full GCs (the process runs with --expose-gc): the heap the service retains. Not during load. */
  | { readonly type: 'usage-after-gc'; readonly id: number }
  | { readonly type: 'scrape'; readonly id: number }
  | { readonly type: 'close'; readonly id: number };

export interface Usage {
  /** process.cpuUsage(), user + system, in µs since the process started. */
  readonly cpuMicros: number;
  readonly heapUsed: number;
  readonly rss: number;
}

export interface Scrape {
  /** Wall time of one in-process metricsHandler() call, from the call to the body, in ms. */
  readonly ms: number;
  readonly bytes: number;
  readonly status: number;
}

export type Reply =
  | { readonly type: 'ready'; readonly url: string }
  | { readonly type: 'usage'; readonly id: number; readonly usage: Usage }
  | { readonly type: 'scrape'; readonly id: number; readonly scrape: Scrape }
  | { readonly type: 'closed'; readonly id: number }
  | { readonly type: 'failed'; readonly message: string };

/** The demo's SDK timeout: a stuck fake ends a request instead of holding a connection. */
const SDK_TIMEOUT_MS = 2_000;

const send = (reply: Reply) => process.send?.(reply);

/** A Simulator for createClients whose fakes live in another process: the clients read only `url`. */
function remoteSimulator(urls: Readonly<Record<DemoProvider, string>>): Simulator {
  const providers = Object.fromEntries(
    DEMO_PROVIDERS.map((provider): [DemoProvider, FakeProvider] => {
      const url = urls[provider];
      const fake: FakeProvider = {
        provider,
        url,
        port: Number(new URL(url).port),
        faults: new FaultPlan(),
        stats: { requests: 0, accepted: 0, refused: 0 },
        close: async () => {},
      };
      return [provider, fake];
    }),
  ) as Record<DemoProvider, FakeProvider>;
  return { providers, fake: (provider) => providers[provider as DemoProvider], close: async () => {} };
}

/** Calls the /metrics handler in process with the smallest req/res it uses, and times it. */
async function scrapeInProcess(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Scrape> {
  let status = 0;
  let bytes = 0;
  const req = { method: 'GET', headers: {} } as IncomingMessage;
  const res = {
    headersSent: false,
    writeHead(code: number) {
      status = code;
      return this;
    },
    end(body?: string) {
      bytes = Buffer.byteLength(body ?? '');
      return this;
    },
  } as unknown as ServerResponse;
  const start = performance.now();
  await handler(req, res);
  return { ms: performance.now() - start, bytes, status };
}

async function start(message: StartMessage): Promise<void> {
  // The AWS SDK's Node 20 notice, once per process: true, and noise in the bench's table.
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    if (typeof warning === 'string' && warning.startsWith('NodeVersionSupportWarning')) return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;

  // As the demo wires it: one PushTelemetry, a token store that onInvalidToken prunes, the five SDK clients.
  const telemetry = new PushTelemetry();
  const tokens = new TokenStore();
  const clients = await createClients(remoteSimulator(message.fakes), {
    telemetry,
    timeoutMs: SDK_TIMEOUT_MS,
    ...(message.prune && { onInvalidToken: (provider: DemoProvider, token: string) => tokens.prune(provider, token) }),
    instrument: message.instrument,
  });
  const service = await startSenderService({
    telemetry,
    send: clients.send,
    providers: DEMO_PROVIDERS,
    port: 0,
    host: '127.0.0.1',
  });
  const metrics = telemetry.metricsHandler();

  process.on('message', (request: Request) => {
    void (async () => {
      if (request.type === 'usage' || request.type === 'usage-after-gc') {
        if (request.type === 'usage-after-gc') {
          const gc = (globalThis as { gc?: () => void }).gc;
          gc?.();
          gc?.();
        }
        const cpu = process.cpuUsage();
        const memory = process.memoryUsage();
        send({
          type: 'usage',
          id: request.id,
          usage: { cpuMicros: cpu.user + cpu.system, heapUsed: memory.heapUsed, rss: memory.rss },
        });
      } else if (request.type === 'scrape') {
        send({ type: 'scrape', id: request.id, scrape: await scrapeInProcess(metrics) });
      } else if (request.type === 'close') {
        await service.close();
        await clients.close();
        send({ type: 'closed', id: request.id });
        process.disconnect();
      }
    })().catch((error: unknown) => send({ type: 'failed', message: String((error as Error)?.stack ?? error) }));
  });
  send({ type: 'ready', url: service.url });
}

// Without the parent there is nothing to serve: never outlive it.
process.on('disconnect', () => process.exit(0));
process.once('message', (message: StartMessage) => {
  start(message).catch((error: unknown) => {
    send({ type: 'failed', message: String((error as Error)?.stack ?? error) });
    process.exitCode = 1;
    process.disconnect();
  });
});
