/**
 * The traced call once more, with an AsyncLocalStorage context manager registered as NodeSDK registers one. The
 * wrapper then makes its span the active one around the sender (so the SDK's HTTP spans become its children), which
 * costs what `startActiveSpan` costs; the SDK baseline here pays that too. A separate interleaved run, because the
 * context manager is global and would change what every variant of the main run measures.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PushTelemetry } from '../src/index.js';
import { bareSender, sdkActiveSpanOnly, sdkTracing } from './fixtures.js';
import { runInterleaved, type HarnessOptions, type Measurement } from './harness.js';
import { check, overheadNs, table, type TargetLine } from './report.js';

const V = {
  bare: 'bare call',
  sdkActiveSpan: 'SDK active span only (startSpan + context.with + end)',
  wrappedSdk: 'wrapped, SDK tracer (BatchSpanProcessor)',
} as const;

export interface ContextManagerRun {
  readonly table: string;
  readonly target: TargetLine;
  readonly check: string;
}

export async function runWithContextManager(options: HarnessOptions, maxOverSdkNs: number): Promise<ContextManagerRun> {
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) throw new Error('a global context manager was already registered');
  const sdkSpan = sdkTracing();
  const wrapped = sdkTracing();
  try {
    const telemetry = new PushTelemetry({ tracerProvider: wrapped.provider });
    const measurements = await runInterleaved(
      [
        { name: V.bare, op: bareSender },
        { name: V.sdkActiveSpan, op: sdkActiveSpanOnly(sdkSpan.provider.getTracer('bench')) },
        { name: V.wrappedSdk, op: telemetry.wrapSender(bareSender, { provider: 'fcm' }) },
      ],
      options,
    );
    const [bare, sdk, ours] = measurements as [Measurement, Measurement, Measurement];
    await Promise.all([sdkSpan.provider.forceFlush(), wrapped.provider.forceFlush()]);
    for (const [m, tracing] of [
      [sdk, sdkSpan],
      [ours, wrapped],
    ] as const) {
      if (tracing.exporter.exported !== m.totalCalls)
        throw new Error(
          `sanity check failed: ${m.name} exported ${tracing.exporter.exported} spans for ${m.totalCalls} calls`,
        );
    }
    const sdkCost = overheadNs(sdk, bare);
    const traced = overheadNs(ours, bare);
    return {
      table: table('single message, AsyncLocalStorage context manager registered', [
        { label: V.bare, m: bare },
        { label: V.sdkActiveSpan, m: sdk, baseline: bare },
        { label: V.wrappedSdk, m: ours, baseline: bare },
      ]),
      target: check(
        'tracing overhead, context manager registered',
        traced,
        sdkCost + maxOverSdkNs,
        'ns',
        1,
        ` (SDK active span ${sdkCost.toFixed(1)} + ours ${(traced - sdkCost).toFixed(1)})`,
      ),
      check: `context-manager spans exported: ${sdk.totalCalls} + ${ours.totalCalls}, none dropped`,
    };
  } finally {
    context.disable();
    await Promise.all([sdkSpan.provider.shutdown(), wrapped.provider.shutdown()]);
  }
}
