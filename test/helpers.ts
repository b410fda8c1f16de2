import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import type { PushTelemetry } from '../src/index.js';
import { startMetricsServer } from '../src/index.js';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly exemplar?: string;
}

/** Parses Prometheus text or OpenMetrics exposition into samples (comments skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*?)\})? (\S+)(?: # (.*))?$/.exec(line);
    if (!match) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = pair[2] as string;
    const raw = match[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push(
      match[4] === undefined
        ? { name: match[1] as string, labels, value }
        : { name: match[1] as string, labels, value, exemplar: match[4] },
    );
  }
  return samples;
}

/** The value of the one sample with exactly these labels, or undefined when there is none. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels);
  const found = samples.filter(
    (s) =>
      s.name === name && Object.keys(s.labels).length === wanted.length && wanted.every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Scrapes /metrics over real HTTP from a metrics server started (and stopped) for the purpose. */
export async function scrape(
  telemetry: PushTelemetry,
  accept?: string,
): Promise<{ text: string; contentType: string | null; samples: Sample[] }> {
  const server = await startMetricsServer({ telemetry, port: 0 });
  try {
    const response = await fetch(`${server.url}/metrics`, accept === undefined ? {} : { headers: { accept } });
    const text = await response.text();
    return { text, contentType: response.headers.get('content-type'), samples: parseExposition(text) };
  } finally {
    await server.close();
  }
}

export interface Tracing {
  readonly tracerProvider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
  /** Restores the global context manager; call from after(). */
  shutdown(): Promise<void>;
}

/** An SDK tracer provider recording into memory, with async context so parent/child links are real. */
export function createTracing(): Tracing {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  return {
    tracerProvider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      context.disable();
      await tracerProvider.shutdown();
    },
  };
}

export function httpError(statusCode: number, message = `HTTP ${statusCode}`): Error {
  return Object.assign(new Error(message), { statusCode });
}

export function codeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** mulberry32: a small seeded generator, so a share a test asserts is the same every run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
