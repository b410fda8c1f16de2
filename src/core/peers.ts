import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type * as PromClient from 'prom-client';

/**
 * The two packages every user loads with the library, required rather than imported. Both are CommonJS, and an ESM
 * import of CommonJS first scans the package's files for named exports (cjs-module-lexer), which for the API costs
 * more than loading it (docs/performance.md). It is the same module instance either way: import and require share
 * Node's module cache.
 */
const require = createRequire(import.meta.url);

export const {
  context,
  createContextKey,
  createNoopMeter,
  diag,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} = require('@opentelemetry/api') as typeof OtelApi;

/** push-telemetry's channel on the registered DiagLogger: every message arrives after the namespace. */
export const diagLog = diag.createComponentLogger({ namespace: 'push-telemetry' });

export const { AggregatorRegistry, Counter, Gauge, Histogram, Registry } = require('prom-client') as typeof PromClient;
