/**
 * What instrumentation costs a send, and what a scrape costs. Run: npm run bench
 *
 * One process, one interleaved run of every variant (see harness.ts), then a table and the performance targets with
 * PASS/MISS. A MISS is a finding, not a failure: the exit code is 0 unless the bench itself breaks (an exception, or
 * a sanity check showing a variant did not do the work it is supposed to time).
 */
import os from 'node:os';
import type { Registry, RegistryContentType } from 'prom-client';
import { MAX_FAILURE_EVENTS, METRIC_NAMES, OTEL_METRIC_NAMES, PushTelemetry } from '../src/index.js';
import {
  apiNoopSpanOnly,
  bareBatchSender,
  bareSender,
  BATCH_RESULT,
  clockReads,
  freeTracerProvider,
  fullLabelSpace,
  inProcessScrape,
  otelTotal,
  promClientDirect,
  sdkHistogramOnly,
  sdkMeter,
  stubMeterProvider,
  sdkBatchSpanOnly,
  sdkSpanOnly,
  sdkTracing,
  wrapBatch,
  type ScrapeResponse,
  type SdkTracing,
} from './fixtures.js';
import { runInterleaved, type Measurement, type Variant } from './harness.js';
import { check, info, overheadNs, packageVersion, table, targets, type TargetLine } from './report.js';
import { measureImportTime } from './import-time.js';
import { measureTicketMemory } from './ticket-memory.js';
import { runWithContextManager } from './with-context-manager.js';
import { groupFrequencyBench } from './groups-frequency.js';

const OPTIONS = {
  warmupPasses: 2,
  targetRoundMs: 100,
  rounds: 7,
  maxIterations: 2_000_000,
} as const;

// Targets, in ns unless the name says otherwise.
const METRICS_OVERHEAD_MAX = 250;
const TRACING_OVER_SDK_MAX = 300;
const BATCH_TELEMETRY_MAX_US = 20;
const SCRAPE_MAX_MS = 2;
const OTEL_OVER_METRICS_MAX_US = 0.5;

/** Everything the variants time, built up front so no variant pays for set-up. */
function setUp() {
  const sdkSpan = sdkTracing();
  const sdkWrapped = sdkTracing();
  const sdkBatch = sdkTracing();
  const sdkBatchSpan = sdkTracing();
  const meters = { wrapped: sdkMeter(), recordOnly: sdkMeter() };
  const instances = {
    metricsOnly: new PushTelemetry(),
    freeTracer: new PushTelemetry({ tracerProvider: freeTracerProvider() }),
    traced: new PushTelemetry({ tracerProvider: sdkWrapped.provider }),
    batchMetricsOnly: new PushTelemetry(),
    batchTraced: new PushTelemetry({ tracerProvider: sdkBatch.provider }),
    otelSdk: new PushTelemetry({ meterProvider: meters.wrapped.provider }),
    otelStub: new PushTelemetry({ meterProvider: stubMeterProvider() }),
    otlpProducer: new PushTelemetry(),
  };
  const producerReader = sdkMeter([instances.otlpProducer.metricProducer()]);
  return {
    sdk: { span: sdkSpan, wrapped: sdkWrapped, batch: sdkBatch, batchSpan: sdkBatchSpan },
    meters,
    producerReader,
    instances,
  };
}

type SetUp = ReturnType<typeof setUp>;

const V = {
  bare: 'bare call',
  clock: 'bare + 2 × performance.now() (clock cost)',
  prom: 'prom-client direct (counter.inc + histogram.observe)',
  wrapped: 'wrapped, metrics only (API no-op tracer)',
  wrappedFree: 'wrapped, zero-cost stub tracer',
  apiNoop: 'API no-op startSpan + isRecording only',
  sdkSpan: 'SDK span only (startSpan + end)',
  wrappedSdk: 'wrapped, SDK tracer (BatchSpanProcessor)',
  sdkRecord: 'SDK histogram.record only (5 attributes)',
  wrappedOtel: 'wrapped, metrics + OTel meter (SDK MeterProvider)',
  wrappedOtelStub: 'wrapped, metrics + OTel meter (stub meter: our side alone)',
  wrappedOtlp: 'wrapped, metrics + OTel metric producer (SDK reader)',
  batchBare: 'bare batch call (500 msgs)',
  batchWrapped: 'wrapped batch, metrics only',
  batchSdkSpan: `SDK batch span only (7 attrs, ${MAX_FAILURE_EVENTS} events)`,
  batchWrappedSdk: 'wrapped batch, SDK tracer',
  scrape: 'scrape, full label space (in-process handler)',
} as const;

function variants(s: SetUp, scrape: () => Promise<void>): Variant[] {
  const wrap = (telemetry: PushTelemetry) => telemetry.wrapSender(bareSender, { provider: 'fcm' });
  return [
    { name: V.bare, op: bareSender },
    { name: V.clock, op: clockReads() },
    { name: V.prom, op: promClientDirect() },
    { name: V.wrapped, op: wrap(s.instances.metricsOnly) },
    { name: V.wrappedFree, op: wrap(s.instances.freeTracer) },
    { name: V.apiNoop, op: apiNoopSpanOnly() },
    { name: V.sdkSpan, op: sdkSpanOnly(s.sdk.span.provider.getTracer('bench')) },
    { name: V.wrappedSdk, op: wrap(s.instances.traced) },
    { name: V.sdkRecord, op: sdkHistogramOnly(s.meters.recordOnly.provider) },
    { name: V.wrappedOtel, op: wrap(s.instances.otelSdk) },
    { name: V.wrappedOtelStub, op: wrap(s.instances.otelStub) },
    { name: V.wrappedOtlp, op: wrap(s.instances.otlpProducer) },
    { name: V.batchBare, op: bareBatchSender },
    { name: V.batchWrapped, op: wrapBatch(s.instances.batchMetricsOnly) },
    { name: V.batchSdkSpan, op: sdkBatchSpanOnly(s.sdk.batchSpan.provider.getTracer('bench')) },
    { name: V.batchWrappedSdk, op: wrapBatch(s.instances.batchTraced) },
    { name: V.scrape, op: scrape },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Sanity checks: a variant that silently skipped its work (a hook that threw, a span that was dropped) would time
// something cheaper than what it claims to. These throw, and so exit non-zero.

async function sampleSum(
  registry: Registry<RegistryContentType>,
  metricName: string,
  where: (labels: Record<string, unknown>) => boolean,
): Promise<number> {
  const families = await registry.getMetricsAsJSON();
  let sum = 0;
  for (const family of families) {
    for (const sample of family.values) {
      const name = (sample as { metricName?: string }).metricName ?? family.name;
      if (name === metricName && where(sample.labels)) sum += sample.value;
    }
  }
  return sum;
}

function expectEqual(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`sanity check failed: ${what} is ${actual}, expected ${expected}`);
}

async function verify(s: SetUp, byName: Map<string, Measurement>, scrape: ScrapeResponse): Promise<string[]> {
  const calls = (name: string) => (byName.get(name) as Measurement).totalCalls;
  for (const [key, telemetry] of Object.entries(s.instances)) {
    const health = telemetry.health();
    if (!health.ok)
      throw new Error(`sanity check failed: ${key} reported telemetry problems: ${JSON.stringify(health.problems)}`);
  }
  const durationCount = `${METRIC_NAMES.duration}_count`;
  const any = () => true;
  expectEqual(
    'metrics-only calls counted',
    await sampleSum(s.instances.metricsOnly.registry, durationCount, any),
    calls(V.wrapped),
  );
  expectEqual(
    'traced calls counted',
    await sampleSum(s.instances.traced.registry, durationCount, any),
    calls(V.wrappedSdk),
  );
  expectEqual(
    'OTel-metered calls counted on /metrics',
    await sampleSum(s.instances.otelSdk.registry, durationCount, any),
    calls(V.wrappedOtel),
  );
  // The OTel side must have every call too: each duration in the histogram, each message in the sent counter.
  const otel = await s.meters.wrapped.collect();
  expectEqual('OTel durations recorded', otelTotal(otel, OTEL_METRIC_NAMES.duration), calls(V.wrappedOtel));
  expectEqual(
    'OTel messages counted',
    otelTotal(otel, OTEL_METRIC_NAMES.sentMessages, (a) => a['push.outcome'] === 'accepted'),
    calls(V.wrappedOtel),
  );
  const produced = await s.producerReader.collect();
  expectEqual('producer durations', otelTotal(produced, OTEL_METRIC_NAMES.duration), calls(V.wrappedOtlp));
  expectEqual(
    'producer messages',
    otelTotal(produced, OTEL_METRIC_NAMES.sentMessages, (a) => a['push.outcome'] === 'accepted'),
    calls(V.wrappedOtlp),
  );
  expectEqual(
    'SDK-only histogram records',
    otelTotal(await s.meters.recordOnly.collect(), OTEL_METRIC_NAMES.duration),
    calls(V.sdkRecord),
  );
  const failed = BATCH_RESULT.failed.length;
  for (const [instance, name] of [
    [s.instances.batchMetricsOnly, V.batchWrapped],
    [s.instances.batchTraced, V.batchWrappedSdk],
  ] as const) {
    const n = calls(name);
    expectEqual(
      `${name}: accepted messages`,
      await sampleSum(instance.registry, METRIC_NAMES.messages, (l) => l.outcome === 'accepted'),
      BATCH_RESULT.accepted * n,
    );
    expectEqual(
      `${name}: failed messages`,
      await sampleSum(instance.registry, METRIC_NAMES.messages, (l) => l.outcome === 'failed'),
      failed * n,
    );
    expectEqual(
      `${name}: partial calls`,
      await sampleSum(instance.registry, durationCount, (l) => l.outcome === 'partial'),
      n,
    );
  }

  // Every started span must have reached the exporter: none dropped by a full queue, so each was fully paid for.
  const exported = async (tracing: SdkTracing) => {
    await tracing.provider.forceFlush();
    return tracing.exporter.exported;
  };
  expectEqual('SDK-only spans exported', await exported(s.sdk.span), calls(V.sdkSpan));
  expectEqual('wrapped spans exported', await exported(s.sdk.wrapped), calls(V.wrappedSdk));
  expectEqual('batch spans exported', await exported(s.sdk.batch), calls(V.batchWrappedSdk));
  expectEqual('SDK-only batch spans exported', await exported(s.sdk.batchSpan), calls(V.batchSdkSpan));

  if (scrape.status !== 200) throw new Error(`sanity check failed: the metrics handler answered ${scrape.status}`);
  const samples = scrape.body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  const spans = [V.sdkSpan, V.wrappedSdk, V.batchSdkSpan, V.batchWrappedSdk].map(calls).join(' + ');
  return [`spans exported: ${spans}, none dropped`, `scrape: ${samples} samples`];
}

// ---------------------------------------------------------------------------------------------------------------

function environment(): string {
  const version = packageVersion;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [
    `node ${process.version}, ${os.cpus().length} cores (${cpu}), ${os.platform()} ${os.arch()}`,
    `prom-client ${version('prom-client')}, @opentelemetry/api ${version('@opentelemetry/api')}, @opentelemetry/sdk-trace-base ${version('@opentelemetry/sdk-trace-base')}`,
    `method: ${OPTIONS.warmupPasses} warm-up passes, then ${OPTIONS.rounds} interleaved rounds of ~${OPTIONS.targetRoundMs} ms per variant; median round shown, ±range/2 of the rounds`,
  ].join('\n');
}

function tables(byName: Map<string, Measurement>, scrapeBytes: number): string {
  const m = (name: string) => byName.get(name) as Measurement;
  const bare = m(V.bare);
  const batchBare = m(V.batchBare);
  const perCall = table('single message, no-op sender', [
    { label: V.bare, m: bare },
    ...[
      V.clock,
      V.prom,
      V.wrapped,
      V.wrappedFree,
      V.apiNoop,
      V.sdkSpan,
      V.wrappedSdk,
      V.sdkRecord,
      V.wrappedOtel,
      V.wrappedOtelStub,
    ].map((name) => ({
      label: name,
      m: m(name),
      baseline: bare,
    })),
  ]);
  const batch = table('500-message batch (463 accepted, 37 failed)', [
    { label: V.batchBare, m: batchBare },
    ...[V.batchWrapped, V.batchSdkSpan, V.batchWrappedSdk].map((name) => ({
      label: name,
      m: m(name),
      baseline: batchBare,
    })),
  ]);
  const scrape = m(V.scrape);
  const scrapeLine = `${V.scrape}: ${(scrape.medianNs / 1e6).toFixed(3)} ms/scrape (±${((50 * (scrape.maxNs - scrape.minNs)) / scrape.medianNs).toFixed(1)}%), ${scrapeBytes} bytes`;
  return [perCall, '', batch, '', scrapeLine].join('\n');
}

/**
 * The targets. Each "ours" figure subtracts what a variant without our code costs for the same work (the SDK's span,
 * the clock), so a MISS says whether the time is ours to win back.
 */
function targetLines(byName: Map<string, Measurement>): TargetLine[] {
  const m = (name: string) => byName.get(name) as Measurement;
  const bare = m(V.bare);
  const batchBare = m(V.batchBare);
  const metricsOverhead = overheadNs(m(V.wrapped), bare);
  const sdkSpanCost = overheadNs(m(V.sdkSpan), bare);
  const tracedOverhead = overheadNs(m(V.wrappedSdk), bare);
  const noopPath = overheadNs(m(V.wrapped), m(V.wrappedFree));
  const batchSdkSpan = overheadNs(m(V.batchSdkSpan), batchBare);
  const batchTraced = overheadNs(m(V.batchWrappedSdk), batchBare);
  const otelOverMetrics = overheadNs(m(V.wrappedOtel), m(V.wrapped));
  const sdkRecord = overheadNs(m(V.sdkRecord), bare);
  const oursOtel = overheadNs(m(V.wrappedOtelStub), m(V.wrapped));
  const producerOverMetrics = overheadNs(m(V.wrappedOtlp), m(V.wrapped));
  return [
    check(
      'metrics-only overhead over bare',
      metricsOverhead,
      METRICS_OVERHEAD_MAX,
      'ns',
      1,
      ` (of which 2 clock reads ${overheadNs(m(V.clock), bare).toFixed(1)})`,
    ),
    check(
      'tracing overhead over bare',
      tracedOverhead,
      sdkSpanCost + TRACING_OVER_SDK_MAX,
      'ns',
      1,
      ` (SDK span ${sdkSpanCost.toFixed(1)} + ours ${(tracedOverhead - sdkSpanCost).toFixed(1)})`,
    ),
    info(
      'no-op tracer path',
      `${noopPath.toFixed(1)} ns (wrapped on API no-op − wrapped on stub); no-op span alone ${overheadNs(m(V.apiNoop), bare).toFixed(1)} ns`,
    ),
    check(
      '500-message batch telemetry, metrics only',
      overheadNs(m(V.batchWrapped), batchBare) / 1000,
      BATCH_TELEMETRY_MAX_US,
      'µs',
      2,
    ),
    check(
      '500-message batch telemetry, SDK tracer',
      batchTraced / 1000,
      BATCH_TELEMETRY_MAX_US,
      'µs',
      2,
      ` (SDK batch span ${(batchSdkSpan / 1000).toFixed(2)} + ours ${((batchTraced - batchSdkSpan) / 1000).toFixed(2)})`,
    ),
    check('scrape of the full label space', m(V.scrape).medianNs / 1e6, SCRAPE_MAX_MS, 'ms', 3),
    check(
      'OTLP metrics (metricProducer) over metrics-only',
      producerOverMetrics / 1000,
      OTEL_OVER_METRICS_MAX_US,
      'µs',
      3,
      ' (telemetry.metricProducer() on a reader; startTelemetry({ metricExporter }) takes this path)',
    ),
    info(
      'OTel meterProvider instruments over metrics-only',
      `${(otelOverMetrics / 1000).toFixed(2)} µs (SDK histogram.record alone ${(sdkRecord / 1000).toFixed(2)}; our side, on a stub meter, ${(oursOtel / 1000).toFixed(2)})`,
    ),
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(environment());
  const s = setUp();
  const scrapeTelemetry = await fullLabelSpace();
  const lastScrape: ScrapeResponse = { status: 0, body: '' };
  const scrape = inProcessScrape(scrapeTelemetry.metricsHandler(), lastScrape);

  // Progress on a terminal only, so a redirected run's output is just the report.
  const progress = process.stderr.isTTY
    ? (round: number) => process.stderr.write(`round ${round + 1}/${OPTIONS.rounds}\r`)
    : undefined;
  const strategy = groupFrequencyBench();
  const measurements = await runInterleaved([...variants(s, scrape), ...strategy.variants], OPTIONS, progress);
  if (progress !== undefined) process.stderr.write('\n');
  const byName = new Map(measurements.map((measurement) => [measurement.name, measurement]));
  const checks = await verify(s, byName, lastScrape);
  checks.push(await strategy.verify(byName));
  const strategyLines = (name: string) => byName.get(name) as Measurement;
  await Promise.all(Object.values(s.sdk).map((tracing) => tracing.provider.shutdown()));
  const withManager = await runWithContextManager(OPTIONS, TRACING_OVER_SDK_MAX);
  const ticketMemory = measureTicketMemory();
  const importTime = measureImportTime();

  console.log('');
  console.log(tables(byName, Buffer.byteLength(lastScrape.body)));
  console.log('');
  console.log(withManager.table);
  console.log('');
  console.log(strategy.table(byName, strategyLines(V.bare), strategyLines(V.wrapped), strategyLines(V.batchWrapped)));
  console.log('');
  console.log('targets (a MISS is reported, not fatal)');
  console.log(
    targets([
      ...targetLines(byName),
      ...strategy.targets(byName, strategyLines(V.wrapped), strategyLines(V.batchWrapped)),
      withManager.target,
      ticketMemory,
      importTime.line,
    ]),
  );
  console.log('');
  console.log(`checks: ${[...checks, withManager.check, importTime.check].join('; ')}`);
  console.log(`total time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
