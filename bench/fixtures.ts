/**
 * What the benchmark measures against: the senders, the tracer set-ups, the hand-rolled prom-client baseline and a
 * PushTelemetry with the whole label space populated for the scrape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  context,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  trace,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type Histogram as HistogramPoint,
  type MetricProducer,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type {
  Attributes,
  Histogram as OtelHistogram,
  Meter,
  MeterProvider as ApiMeterProvider,
} from '@opentelemetry/api';
import { Counter, Histogram, Registry } from 'prom-client';
import {
  DURATION_BUCKETS,
  ERROR_TYPES,
  MAX_FAILURE_EVENTS,
  PushTelemetry,
  type ErrorType,
  type FailedMessage,
  type MetricsHandler,
  type SettleResult,
} from '../src/index.js';

/** The no-op provider call everything is compared with. */
export const bareSender = async (): Promise<string> => 'id';

/** Read by nothing; written so the clock reads below cannot be optimised away. */
export let clockSink = 0;

/**
 * The bare call between two clock reads, as any duration measurement needs. Its overhead over bare is the part of
 * every instrumented call's cost that is the platform's clock, not anyone's code (it varies a lot between machines:
 * VMs often pay several times what bare metal does).
 */
export function clockReads(): () => Promise<string> {
  return () => {
    const start = performance.now();
    const pending = bareSender();
    clockSink += performance.now() - start;
    return pending;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Tracing

type ExportCallback = Parameters<SpanExporter['export']>[1];

/** An exporter that accepts every batch at once: the SDK's span bookkeeping is timed, no serialisation or I/O. */
export class NoopExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], resultCallback: ExportCallback): void {
    this.exported += spans.length;
    resultCallback({ code: 0 }); // ExportResultCode.SUCCESS; @opentelemetry/core is not a dependency of ours.
  }
  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}

export interface SdkTracing {
  readonly provider: BasicTracerProvider;
  readonly exporter: NoopExporter;
}

/** The SDK as an app would set it up for production: batching processor, default (always-on) sampler and limits. */
export function sdkTracing(): SdkTracing {
  const exporter = new NoopExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  return { provider, exporter };
}

/**
 * A tracer provider that costs nothing: startSpan hands back one shared non-recording span. The wrapped call with
 * this provider, compared with the wrapped call on the API's default no-op provider, isolates what the default
 * no-op tracer path costs (proxy lookup, context read, a NonRecordingSpan per call).
 */
export function freeTracerProvider(): TracerProvider {
  const span: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  const tracer = {
    startSpan: () => span,
    startActiveSpan: (...args: unknown[]) => (args[args.length - 1] as (s: Span) => unknown)(span),
  } as unknown as Tracer;
  return { getTracer: () => tracer };
}

/**
 * The five attributes the wrapped single-message call records on its span (three set at start, accepted and failed
 * at the end), so the SDK-span baseline does the same attribute work minus our code.
 */
export const SPAN_ATTRIBUTES = {
  'messaging.system.name': 'fcm',
  'messaging.system': 'fcm',
  'messaging.operation.name': 'send',
  'messaging.operation.type': 'send',
  'push.messages.accepted': 1,
  'push.messages.failed': 0,
} as const;

/** The SDK's own cost for a span like ours: start with kind and attributes, end, around the bare call. */
export function sdkSpanOnly(tracer: Tracer): () => Promise<string> {
  return async () => {
    const span = tracer.startSpan('send fcm', { kind: SpanKind.PRODUCER, attributes: SPAN_ATTRIBUTES });
    const id = await bareSender();
    span.end();
    return id;
  };
}

/**
 * The SDK's own cost for an active span, what `tracer.startActiveSpan` does: start, put in a context, run the call
 * inside it (so spans started within become children), end. The baseline once a context manager is registered.
 */
export function sdkActiveSpanOnly(tracer: Tracer): () => Promise<string> {
  return async () => {
    const span = tracer.startSpan('send fcm', { kind: SpanKind.PRODUCER, attributes: SPAN_ATTRIBUTES });
    const id = await context.with(trace.setSpan(context.active(), span), bareSender);
    span.end();
    return id;
  };
}

/** What the default no-op tracer costs by itself, called the way the wrapper calls it. */
export function apiNoopSpanOnly(): () => Promise<string> {
  const tracer = trace.getTracer('bench');
  const attributes = {
    'messaging.system.name': 'fcm',
    'messaging.system': 'fcm',
    'messaging.operation.name': 'send',
    'messaging.operation.type': 'send',
  };
  return async () => {
    const span = tracer.startSpan('send fcm', { kind: SpanKind.PRODUCER, attributes });
    if (span.isRecording()) span.end();
    return bareSender();
  };
}

// ---------------------------------------------------------------------------------------------------------------
// OpenTelemetry metrics

/** A reader that exports nothing and collects only when asked: the bench collects once, after the run, to count. */
class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface SdkMeter {
  readonly provider: MeterProvider;
  /** One collection, as an exporter would get it. */
  collect(): Promise<ResourceMetrics>;
}

/**
 * The SDK's MeterProvider with its default aggregation (cumulative, explicit buckets), collected only on demand; its
 * reader also collects `producers` (a PushTelemetry's metricProducer()).
 */
export function sdkMeter(producers: MetricProducer[] = []): SdkMeter {
  const reader = new ManualReader({ metricProducers: producers });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0)
        throw new Error(
          `sanity check failed: the metric collection reported ${errors.length} errors: ${String(errors[0])}`,
        );
      return resourceMetrics;
    },
  };
}

/** Sum of one metric's data points: a Sum's values, or a Histogram's counts. */
export function otelTotal(
  metrics: ResourceMetrics,
  name: string,
  where: (attributes: Attributes) => boolean = () => true,
): number {
  let total = 0;
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        if (!where(point.attributes)) continue;
        total +=
          metric.dataPointType === DataPointType.HISTOGRAM
            ? (point.value as HistogramPoint).count
            : (point.value as number);
      }
    }
  }
  return total;
}

/**
 * A meter whose instruments do nothing: the wrapped call with it, against metrics only, is what our side of the OTel
 * path costs (its bookkeeping, and handing each duration to a Histogram), without the SDK's.
 */
export function stubMeterProvider(): ApiMeterProvider {
  const histogram: OtelHistogram = { record: () => undefined };
  const observable = { addCallback: () => undefined, removeCallback: () => undefined };
  const meter = {
    createHistogram: () => histogram,
    createObservableCounter: () => observable,
    createObservableUpDownCounter: () => observable,
    createObservableGauge: () => observable,
    addBatchObservableCallback: () => undefined,
  } as unknown as Meter;
  return { getMeter: () => meter };
}

/** The duration attributes the wrapped single-message call records (fcm, send, success, no app). */
export const DURATION_ATTRIBUTES = Object.freeze({
  'messaging.system.name': 'fcm',
  'messaging.system': 'fcm',
  'messaging.operation.name': 'send',
  'messaging.operation.type': 'send',
  'push.outcome': 'success',
});

/** The SDK's own cost for one duration: a synchronous `histogram.record` with the call's 5 attributes, after the bare call. */
export function sdkHistogramOnly(provider: MeterProvider): () => Promise<string> {
  const histogram = provider.getMeter('bench').createHistogram('messaging.client.operation.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
  });
  return async () => {
    const id = await bareSender();
    histogram.record(0.000_05, DURATION_ATTRIBUTES);
    return id;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-rolled prom-client instrumentation: what a team would write instead of this package.

const APP = 'com.example.app';

export function promClientDirect(): () => Promise<string> {
  const registers = [new Registry()];
  const counter = new Counter({
    name: 'push_messages_total',
    help: 'messages',
    labelNames: ['provider', 'app', 'outcome', 'error_type'],
    registers,
  });
  const histogram = new Histogram({
    name: 'push_request_duration_seconds',
    help: 'duration',
    labelNames: ['provider', 'app', 'operation', 'outcome'],
    buckets: [...DURATION_BUCKETS],
    registers,
  });
  return async () => {
    // Timed the way the wrapper times a call, so both pay for two clock reads.
    const start = performance.now();
    const id = await bareSender();
    const seconds = (performance.now() - start) / 1000;
    counter.inc({ provider: 'fcm', app: APP, outcome: 'accepted' });
    histogram.observe({ provider: 'fcm', app: APP, operation: 'send', outcome: 'success' }, seconds);
    return id;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The 500-message batch

/** 37 refusals over 4 error types, shaped like what an FCM sendEachForMulticast settle() would report. */
const BATCH_FAILURES: readonly [ErrorType, string, number][] = [
  ['unregistered', 'messaging/registration-token-not-registered', 20],
  ['invalid_token', 'messaging/invalid-registration-token', 9],
  ['rate_limited', 'messaging/message-rate-exceeded', 5],
  ['payload_too_large', 'messaging/payload-size-limit-exceeded', 3],
];

export const BATCH_SIZE = 500;

function batchResult(): SettleResult {
  const failed: FailedMessage[] = [];
  for (const [errorType, reason, count] of BATCH_FAILURES) {
    for (let i = 0; i < count; i++)
      failed.push({ errorType, reason, token: `token-${errorType}-${i}-${'x'.repeat(140)}` });
  }
  return Object.freeze({ accepted: BATCH_SIZE - failed.length, failed: Object.freeze(failed) });
}

/** Computed once: the batch variants time telemetry, not building a 500-message result. */
export const BATCH_RESULT = batchResult();

export const bareBatchSender = async (): Promise<SettleResult> => BATCH_RESULT;

/**
 * The SDK's own cost for the span the wrapper records for this batch, called directly: start with the send
 * attributes and the batch size, accepted/failed counts, one count per error type, one event per refused message up
 * to the wrapper's cap of MAX_FAILURE_EVENTS, end. Wrapped-with-tracing minus this is what our code adds on top of the SDK.
 */
export function sdkBatchSpanOnly(tracer: Tracer): () => Promise<SettleResult> {
  const attributes = {
    'messaging.system.name': 'fcm',
    'messaging.system': 'fcm',
    'messaging.operation.name': 'send_each_for_multicast',
    'messaging.operation.type': 'send',
  };
  return async () => {
    const span = tracer.startSpan('send_each_for_multicast fcm', { kind: SpanKind.PRODUCER, attributes });
    span.setAttribute('messaging.batch.message_count', BATCH_SIZE);
    const result = await bareBatchSender();
    span.setAttribute('push.messages.accepted', result.accepted);
    span.setAttribute('push.messages.failed', result.failed.length);
    for (const [errorType, , count] of BATCH_FAILURES) span.setAttribute(`push.messages.failed.${errorType}`, count);
    for (const message of result.failed.slice(0, MAX_FAILURE_EVENTS)) {
      span.addEvent('push.message.failed', {
        'error.type': message.errorType,
        'push.provider.reason': message.reason as string,
      });
    }
    span.end();
    return result;
  };
}

export function wrapBatch(telemetry: PushTelemetry): () => Promise<SettleResult> {
  return telemetry.wrapSender(bareBatchSender, {
    provider: 'fcm',
    operation: 'send_each_for_multicast',
    countMessages: () => BATCH_SIZE,
    settle: (r) => r,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The scrape of a full label space

const PROVIDERS = ['fcm', 'apns', 'webpush', 'expo', 'sns'] as const;
const OPERATIONS = ['send', 'send_batch', 'send_multicast'] as const;

type Mode = 'success' | 'partial' | ErrorType;

class TypedError extends Error {
  constructor(readonly errorType: ErrorType) {
    super(`simulated ${errorType}`);
  }
}

/** One refused message of every type, so `partial` calls alone already touch every failed series. */
const EVERY_FAILURE: readonly FailedMessage[] = ERROR_TYPES.map((errorType) => ({ errorType, reason: errorType }));

/**
 * A PushTelemetry with 5 providers × 3 operations, each of which has seen success, partial and failure calls and a
 * failure of every error type, plus Expo receipts of every type: every series the contract can produce for that
 * sender set exists and is non-zero.
 */
export async function fullLabelSpace(): Promise<PushTelemetry> {
  const telemetry = new PushTelemetry();
  for (const provider of PROVIDERS) {
    for (const operation of OPERATIONS) {
      const send = telemetry.wrapSender(
        async (mode: Mode): Promise<SettleResult> => {
          if (mode === 'success') return { accepted: 1, failed: [] };
          if (mode === 'partial') return { accepted: 3, failed: EVERY_FAILURE };
          throw new TypedError(mode);
        },
        {
          provider,
          operation,
          classify: (error) => (error as TypedError).errorType,
          settle: (r) => r,
        },
      );
      await send('success');
      await send('partial');
      for (const errorType of ERROR_TYPES) await send(errorType).catch(() => undefined);
    }
  }
  telemetry.recordReceipts({ provider: 'expo', delivered: 10, failed: EVERY_FAILURE });
  return telemetry;
}

export interface ScrapeResponse {
  status: number;
  body: string;
}

/**
 * Calls the public /metrics handler in process with the smallest req/res it uses. No socket, so the timing is the
 * collection and rendering our code does, not loopback HTTP.
 */
export function inProcessScrape(handler: MetricsHandler, last: ScrapeResponse): () => Promise<void> {
  const req = { method: 'GET', headers: {} } as IncomingMessage;
  const res = {
    headersSent: false,
    writeHead(status: number) {
      last.status = status;
      return this;
    },
    end(body?: string) {
      last.body = body ?? '';
      return this;
    },
  } as unknown as ServerResponse;
  return () => handler(req, res);
}
