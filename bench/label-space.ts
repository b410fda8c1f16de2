/**
 * The full label space at fleet size, for the load bench: 20 apps × 5 providers, every operation the shipped adapters
 * record, every outcome and every error type seen, Expo receipts of every type. Then N scrapes of
 * telemetry.metricsHandler(), in process and over loopback HTTP, and what the series cost in heap.
 *
 * bench/load.bench.ts forks this with --expose-gc, so the heap figures are this process's alone; it answers with one
 * LabelSpaceResult over IPC. Run by hand, it prints the result as JSON:
 *   node --expose-gc --import tsx bench/label-space.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERROR_TYPES, PushTelemetry, type ErrorType, type FailedMessage, type SettleResult } from '../src/index.js';
import { inProcessScrape, type ScrapeResponse } from './fixtures.js';
import { median } from './harness.js';

export const APPS = 20;

/** The operation labels each shipped adapter records (src/providers/*.ts). */
export const OPERATIONS: Readonly<Record<string, readonly string[]>> = {
  fcm: ['send', 'send_each', 'send_each_for_multicast'],
  apns: ['send', 'broadcast'],
  webpush: ['send_notification'],
  expo: ['send_push_notifications', 'get_push_notification_receipts'],
  sns: ['publish', 'publish_batch'],
};

const WARMUP_SCRAPES = 10;
export const SCRAPES = 100;

export interface Timing {
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface LabelSpaceResult {
  readonly apps: number;
  readonly providers: number;
  readonly operations: number;
  readonly scrapes: number;
  /** Sample lines in the body (every line that is not a # comment). */
  readonly series: number;
  readonly bytes: number;
  readonly inProcess: Timing;
  readonly http: Timing;
  /** heapUsed after a full GC: before the telemetry existed, with every series in it, and after the scrapes. */
  readonly heap: { readonly before: number; readonly populated: number; readonly afterScrapes: number };
  readonly rss: number;
}

type Mode = 'success' | 'partial' | ErrorType;

class TypedError extends Error {
  constructor(readonly errorType: ErrorType) {
    super(`simulated ${errorType}`);
  }
}

const EVERY_FAILURE: readonly FailedMessage[] = ERROR_TYPES.map((errorType) => ({ errorType, reason: errorType }));

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Every (app, provider, operation) sender, driven through success, partial and each error type; receipts for Expo. */
async function populate(telemetry: PushTelemetry): Promise<number> {
  let operations = 0;
  for (let a = 0; a < APPS; a++) {
    const app = `com.example.app${String(a).padStart(2, '0')}`;
    for (const [provider, names] of Object.entries(OPERATIONS)) {
      for (const operation of names) {
        operations++;
        const send = telemetry.wrapSender(
          async (mode: Mode): Promise<SettleResult> => {
            if (mode === 'success') return { accepted: 1, failed: [] };
            if (mode === 'partial') return { accepted: 3, failed: EVERY_FAILURE };
            throw new TypedError(mode);
          },
          {
            provider,
            operation,
            app,
            classify: (error) => (error as TypedError).errorType,
            settle: (result) => result,
          },
        );
        await send('success');
        await send('partial');
        for (const errorType of ERROR_TYPES) await send(errorType).catch(() => undefined);
      }
    }
    telemetry.recordReceipts({ provider: 'expo', app, delivered: 10, failed: EVERY_FAILURE });
  }
  return operations;
}

export function timing(samples: readonly number[]): Timing {
  const sorted = [...samples].sort((x, y) => x - y);
  return {
    medianMs: median(sorted),
    p99Ms: sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] as number,
    maxMs: sorted[sorted.length - 1] as number,
  };
}

/** One GET over a keep-alive connection, timed from the request to the last byte of the body. */
export function httpScrape(url: string, agent: http.Agent): Promise<{ ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url} answered ${res.statusCode}`));
        resolve({ ms: performance.now() - start, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url} took over 10 s`)));
    req.on('error', reject);
  });
}

export async function measureLabelSpace(): Promise<LabelSpaceResult> {
  const before = heapUsed();
  const telemetry = new PushTelemetry();
  const operations = await populate(telemetry);
  const populated = heapUsed();

  const handler = telemetry.metricsHandler();
  const last: ScrapeResponse = { status: 0, body: '' };
  const scrape = inProcessScrape(handler, last);
  for (let i = 0; i < WARMUP_SCRAPES; i++) await scrape();
  const inProcess: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const start = performance.now();
    await scrape();
    inProcess.push(performance.now() - start);
  }
  if (last.status !== 200) throw new Error(`in-process scrape answered ${last.status}`);
  const series = last.body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  const bytes = Buffer.byteLength(last.body);
  // Not held any longer: the heap after the scrapes is the series plus what rendering keeps (its label cache).
  last.body = '';

  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const overHttp: number[] = [];
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    for (let i = 0; i < WARMUP_SCRAPES; i++) await httpScrape(url, agent);
    for (let i = 0; i < SCRAPES; i++) overHttp.push((await httpScrape(url, agent)).ms);
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  return {
    apps: APPS,
    providers: Object.keys(OPERATIONS).length,
    operations,
    scrapes: SCRAPES,
    series,
    bytes,
    inProcess: timing(inProcess),
    http: timing(overHttp),
    heap: { before, populated, afterScrapes: heapUsed() },
    rss: process.memoryUsage().rss,
  };
}

// Forked by the load bench (IPC), or run by hand (JSON on stdout).
if (import.meta.url === `file://${process.argv[1]}`) {
  if ((globalThis as { gc?: unknown }).gc === undefined)
    process.stderr.write('note: run with --expose-gc for heap figures after a full GC\n');
  measureLabelSpace().then(
    (result) => {
      if (process.send) process.send(result, () => process.disconnect());
      else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
      process.exitCode = 1;
      process.disconnect?.();
    },
  );
}
