import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  diag,
  DiagLogLevel,
  metrics,
  type Attributes,
  type BatchObservableResult,
  type Histogram,
  type Meter,
  type MeterProvider as ApiMeterProvider,
} from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type Histogram as HistogramValue,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  DURATION_BUCKETS,
  ERROR_TYPES,
  OTEL_METRIC_NAMES,
  PushTelemetry,
  startMetricsServer,
  type ErrorType,
  type FailedMessage,
  type SettleResult,
} from '../src/index.js';
import { DURATION_BUFFER_SIZE, FLUSH_SOON_AT } from '../src/metrics/otel-binding.js';
import { Registry } from 'prom-client';
import { codeError, httpError, scrape, type Sample } from './helpers.js';

const APP = 'com.example';
/** The system attributes: semconv 1.45's messaging.system.name and the deprecated messaging.system beside it. */
const system = (name: string) => ({ 'messaging.system.name': name, 'messaging.system': name });
const SENT = 'messaging.client.sent.messages';
const DURATION = 'messaging.client.operation.duration';
const RECEIPTS = 'push.client.receipts';
const ACTIVE = 'push.client.active_requests';
const LAST_SUCCESS = 'push.client.last_success.timestamp';

interface Point {
  readonly name: string;
  readonly attributes: Attributes;
  readonly value: number | HistogramValue;
}

/** Every data point of one collection, flattened. */
function pointsOf(resourceMetrics: ResourceMetrics): Point[] {
  return resourceMetrics.scopeMetrics.flatMap((scope) =>
    scope.metrics.flatMap((metric) =>
      metric.dataPoints.map((point) => ({
        name: metric.descriptor.name,
        attributes: point.attributes,
        value: point.value as number | HistogramValue,
      })),
    ),
  );
}

/** The one point of `name` whose attributes are exactly `attributes`; undefined when there is none. */
function find(points: readonly Point[], name: string, attributes: Attributes): Point | undefined {
  const found = points.filter((p) => p.name === name && isDeepEqual(p.attributes, attributes));
  if (found.length > 1) throw new Error(`${found.length} points of ${name} match ${JSON.stringify(attributes)}`);
  return found[0];
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

function sum(points: readonly Point[], name: string, attributes: Attributes): number | undefined {
  const value = find(points, name, attributes)?.value;
  return typeof value === 'number' ? value : undefined;
}

function histogram(points: readonly Point[], attributes: Attributes): HistogramValue | undefined {
  const value = find(points, DURATION, attributes)?.value;
  return typeof value === 'object' ? value : undefined;
}

interface BatchResult {
  readonly responses: ReadonlyArray<{ token: string; code?: 'NOT_FOUND' | 'INVALID_TOKEN' | 'QUOTA' }>;
  readonly reject?: number;
}

const BATCH_TYPES = { NOT_FOUND: 'unregistered', INVALID_TOKEN: 'invalid_token', QUOTA: 'rate_limited' } as const;

function settleBatch(result: BatchResult) {
  const failed = result.responses
    .filter((r) => r.code !== undefined)
    .map(
      (r): FailedMessage => ({
        errorType: BATCH_TYPES[r.code as keyof typeof BATCH_TYPES],
        reason: r.code,
        token: r.token,
      }),
    );
  return { accepted: result.responses.length - failed.length, failed };
}

const batch = (...codes: Array<'ok' | 'NOT_FOUND' | 'INVALID_TOKEN' | 'QUOTA'>): BatchResult => ({
  responses: codes.map((code, i) => (code === 'ok' ? { token: `t${i}` } : { token: `t${i}`, code })),
});

/**
 * The scripted mix both tests send, and what it must produce. fcm/send: 3 ok, then rejections classified unregistered,
 * provider_unavailable and timeout, and one synchronous throw (network). fcm/send_each: a partial batch, two batches
 * where every message failed (one a 2–2 tie between unregistered and rate_limited), and a whole call rejected with
 * 429. sns/publish (app billing) succeeds once, webpush only fails (401), and Expo receipts come in.
 */
async function sendScriptedMix(telemetry: PushTelemetry): Promise<void> {
  const send = telemetry.wrapSender(
    (outcome: 'ok' | 410 | 503 | 'timeout' | 'refused') => {
      if (outcome === 'refused') throw codeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443');
      if (outcome === 'timeout') return Promise.reject(Object.assign(new Error('deadline'), { name: 'TimeoutError' }));
      if (outcome !== 'ok') return Promise.reject(httpError(outcome));
      return Promise.resolve('id');
    },
    { provider: 'fcm' },
  );
  const sendEach = telemetry.wrapSender(
    async (result: BatchResult) => {
      if (result.reject !== undefined) throw httpError(result.reject);
      return result;
    },
    {
      provider: 'fcm',
      operation: 'send_each',
      countMessages: ([result]) => result.responses.length,
      settle: settleBatch,
    },
  );
  const publish = telemetry.wrapSender(async () => ({ MessageId: 'm-1' }), {
    provider: 'sns',
    operation: 'publish',
    app: 'billing',
  });
  const webpush = telemetry.wrapSender(async () => Promise.reject(httpError(401)), { provider: 'webpush' });

  for (let i = 0; i < 3; i++) await send('ok');
  await assert.rejects(send(410));
  await assert.rejects(send(503));
  await assert.rejects(send('timeout'));
  assert.throws(() => send('refused'), /ECONNREFUSED/);
  await sendEach(batch('ok', 'ok', 'ok', 'NOT_FOUND', 'INVALID_TOKEN'));
  await sendEach(batch('NOT_FOUND', 'QUOTA', 'NOT_FOUND', 'QUOTA'));
  await sendEach(batch('INVALID_TOKEN', 'QUOTA', 'QUOTA'));
  await assert.rejects(sendEach({ ...batch('ok', 'ok'), reject: 429 }));
  await publish();
  await assert.rejects(webpush());
  telemetry.recordReceipts({
    provider: 'expo',
    delivered: 5,
    failed: [{ errorType: 'unregistered' }, { errorType: 'bogus' as ErrorType }],
  });
}

const fcm = (operation: string) => ({ ...system('fcm'), 'messaging.operation.name': operation, 'push.app': APP });
const sent = (base: Attributes, errorType?: ErrorType): Attributes =>
  errorType === undefined
    ? { ...base, 'push.outcome': 'accepted' }
    : { ...base, 'push.outcome': 'failed', 'error.type': errorType };
const duration = (base: Attributes, outcome: 'success' | 'partial' | 'failure', errorType?: ErrorType): Attributes => ({
  ...base,
  'messaging.operation.type': 'send',
  'push.outcome': outcome,
  ...(errorType === undefined ? {} : { 'error.type': errorType }),
});

/** [attributes, value] of every messaging.client.sent.messages point that is not 0. */
const EXPECTED_SENT: ReadonlyArray<readonly [Attributes, number]> = [
  [sent(fcm('send')), 3],
  [sent(fcm('send'), 'unregistered'), 1],
  [sent(fcm('send'), 'provider_unavailable'), 1],
  [sent(fcm('send'), 'timeout'), 1],
  [sent(fcm('send'), 'network'), 1],
  [sent(fcm('send_each')), 3],
  [sent(fcm('send_each'), 'unregistered'), 3],
  [sent(fcm('send_each'), 'invalid_token'), 2],
  [sent(fcm('send_each'), 'rate_limited'), 6],
  [sent({ ...system('aws.sns'), 'messaging.operation.name': 'publish', 'push.app': 'billing' }), 1],
  [sent({ ...system('webpush'), 'messaging.operation.name': 'send', 'push.app': APP }, 'auth'), 1],
];

/** [attributes, count] of every messaging.client.operation.duration point. */
const EXPECTED_DURATIONS: ReadonlyArray<readonly [Attributes, number]> = [
  [duration(fcm('send'), 'success'), 3],
  [duration(fcm('send'), 'failure', 'unregistered'), 1],
  [duration(fcm('send'), 'failure', 'provider_unavailable'), 1],
  [duration(fcm('send'), 'failure', 'timeout'), 1],
  [duration(fcm('send'), 'failure', 'network'), 1],
  [duration(fcm('send_each'), 'partial'), 1],
  // The 2–2 tie goes to the type that appears first, as error.type on the span does.
  [duration(fcm('send_each'), 'failure', 'unregistered'), 1],
  [duration(fcm('send_each'), 'failure', 'rate_limited'), 2],
  [duration({ ...system('aws.sns'), 'messaging.operation.name': 'publish', 'push.app': 'billing' }, 'success'), 1],
  [duration({ ...system('webpush'), 'messaging.operation.name': 'send', 'push.app': APP }, 'failure', 'auth'), 1],
];

const EXPO = { ...system('expo'), 'push.app': APP };

describe('OTel metrics through the SDK in-memory exporter, after a scripted mix of outcomes', () => {
  let exporter: InMemoryMetricExporter;
  let meterProvider: MeterProvider;
  let telemetry: PushTelemetry;
  let points: Point[];
  let descriptors: Map<string, { kind: string; unit: string; monotonic: boolean | undefined; scope: string }>;
  let prometheus: Sample[];
  const releases: Array<() => void> = [];
  let pending: Promise<unknown>[];
  let pendingPoints: Point[];
  const sendStart = Date.now() / 1000;

  async function collect(): Promise<ResourceMetrics> {
    exporter.reset();
    await meterProvider.forceFlush();
    const [last] = exporter.getMetrics().slice(-1);
    assert.ok(last, 'the reader exported');
    return last;
  }

  before(async () => {
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    meterProvider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    });
    telemetry = new PushTelemetry({ meterProvider, app: APP });
    await sendScriptedMix(telemetry);

    // Two calls left hanging for the in-flight instrument.
    const hang = telemetry.wrapSender(() => new Promise<string>((resolve) => releases.push(() => resolve('late'))), {
      provider: 'apns',
    });
    pending = [hang(), hang()];
    pendingPoints = pointsOf(await collect());
    releases.forEach((release) => release());
    await Promise.all(pending);

    const collected = await collect();
    points = pointsOf(collected);
    descriptors = new Map(
      collected.scopeMetrics.flatMap((scope) =>
        scope.metrics.map((m) => [
          m.descriptor.name,
          {
            kind: DataPointType[m.dataPointType],
            unit: m.descriptor.unit,
            monotonic: 'isMonotonic' in m ? m.isMonotonic : undefined,
            scope: `${scope.scope.name}@${scope.scope.version}`,
          },
        ]),
      ),
    );
    prometheus = (await scrape(telemetry)).samples;
  });
  after(() => meterProvider.shutdown());

  it('creates the six instruments, with the conventions names, kinds and units, under the push-telemetry scope', () => {
    assert.deepEqual(Object.fromEntries(descriptors), {
      [SENT]: { kind: 'SUM', unit: '{message}', monotonic: true, scope: 'push-telemetry@0.1.0' },
      [DURATION]: { kind: 'HISTOGRAM', unit: 's', monotonic: undefined, scope: 'push-telemetry@0.1.0' },
      [RECEIPTS]: { kind: 'SUM', unit: '{receipt}', monotonic: true, scope: 'push-telemetry@0.1.0' },
      [ACTIVE]: { kind: 'SUM', unit: '{request}', monotonic: false, scope: 'push-telemetry@0.1.0' },
      [LAST_SUCCESS]: { kind: 'GAUGE', unit: 's', monotonic: undefined, scope: 'push-telemetry@0.1.0' },
      [OTEL_METRIC_NAMES.invalidTokensHeld]: {
        kind: 'SUM',
        unit: '{verdict}',
        monotonic: true,
        scope: 'push-telemetry@0.1.0',
      },
    });
    assert.deepEqual(Object.values(OTEL_METRIC_NAMES).sort(), [...descriptors.keys()].sort());
  });

  it('counts messaging.client.sent.messages per recipient, by push.outcome and error.type', () => {
    for (const [attributes, value] of EXPECTED_SENT)
      assert.equal(sum(points, SENT, attributes), value, JSON.stringify(attributes));
    const nonZero = points.filter((p) => p.name === SENT && p.value !== 0);
    assert.equal(nonZero.length, EXPECTED_SENT.length + 1, 'plus apns, accepted 2');
    assert.equal(
      sum(points, SENT, sent({ ...system('apns'), 'messaging.operation.name': 'send', 'push.app': APP })),
      2,
    );
  });

  it('starts every message series at 0: accepted and all 12 error types, per wrapped operation', () => {
    const operations = [
      fcm('send'),
      fcm('send_each'),
      { ...system('aws.sns'), 'messaging.operation.name': 'publish', 'push.app': 'billing' },
    ];
    for (const base of operations) {
      assert.notEqual(sum(points, SENT, sent(base)), undefined);
      for (const type of ERROR_TYPES) assert.notEqual(sum(points, SENT, sent(base, type)), undefined, type);
    }
    assert.equal(points.filter((p) => p.name === SENT).length, 5 * (1 + ERROR_TYPES.length), '5 operations × 13');
  });

  it('never puts error.type on accepted messages, and no attribute beyond the documented ones', () => {
    for (const point of points.filter(
      (p) => p.attributes['push.outcome'] === 'accepted' || p.attributes['push.outcome'] === 'success',
    )) {
      assert.equal(point.attributes['error.type'], undefined);
    }
    const allowed: Record<string, readonly string[]> = {
      [SENT]: [
        'messaging.system.name',
        'messaging.system',
        'messaging.operation.name',
        'push.app',
        'push.outcome',
        'error.type',
      ],
      [DURATION]: [
        'messaging.system.name',
        'messaging.system',
        'messaging.operation.name',
        'messaging.operation.type',
        'push.app',
        'push.outcome',
        'error.type',
      ],
      [RECEIPTS]: ['messaging.system.name', 'messaging.system', 'push.app', 'push.outcome', 'error.type'],
      [ACTIVE]: ['messaging.system.name', 'messaging.system', 'push.app'],
      [LAST_SUCCESS]: ['messaging.system.name', 'messaging.system', 'push.app'],
      [OTEL_METRIC_NAMES.invalidTokensHeld]: ['messaging.system.name', 'messaging.system', 'push.app'],
    };
    for (const point of points)
      for (const key of Object.keys(point.attributes))
        assert.ok(allowed[point.name]?.includes(key), `${point.name}: ${key}`);
  });

  it('observes one messaging.client.operation.duration per call, error.type only when the call failed', () => {
    const observed = points.filter((p) => p.name === DURATION);
    assert.equal(observed.length, EXPECTED_DURATIONS.length + 1, 'plus apns success');
    for (const [attributes, count] of EXPECTED_DURATIONS) {
      const value = histogram(points, attributes);
      assert.ok(value, JSON.stringify(attributes));
      assert.equal(value.count, count, JSON.stringify(attributes));
      assert.deepEqual(value.buckets.boundaries, [...DURATION_BUCKETS]);
      assert.equal(value.buckets.counts.length, DURATION_BUCKETS.length + 1);
      assert.equal(
        value.buckets.counts.reduce((a, b) => a + b, 0),
        count,
      );
      assert.ok(value.sum !== undefined && value.sum > 0 && value.sum < 1, `sum ${value.sum}`);
      assert.ok(value.min !== undefined && value.max !== undefined && value.min <= value.max);
    }
  });

  it('matches the Prometheus duration histogram: the same seconds in the same buckets', () => {
    const promSum = prometheus.find(
      (s) =>
        s.name === 'push_request_duration_seconds_sum' &&
        s.labels.operation === 'send' &&
        s.labels.outcome === 'success' &&
        s.labels.provider === 'fcm',
    );
    const otel = histogram(points, duration(fcm('send'), 'success'));
    assert.equal(otel?.sum, promSum?.value);
    const promBuckets = prometheus.filter(
      (s) =>
        s.name === 'push_request_duration_seconds_bucket' &&
        s.labels.operation === 'send' &&
        s.labels.outcome === 'success' &&
        s.labels.provider === 'fcm',
    );
    let cumulative = 0;
    otel?.buckets.counts.forEach((count, i) => {
      cumulative += count;
      assert.equal(promBuckets[i]?.value, cumulative, `bucket ${promBuckets[i]?.labels.le}`);
    });
  });

  it('keeps the Prometheus series on by default, and they agree with their OTel twins', () => {
    for (const sample of prometheus.filter((s) => s.name === 'push_messages_total')) {
      const name = sample.labels.provider === 'sns' ? 'aws.sns' : sample.labels.provider;
      const twin = points
        .filter(
          (p) =>
            p.name === SENT &&
            p.attributes['messaging.system.name'] === name &&
            p.attributes['messaging.system'] === name &&
            p.attributes['push.app'] === sample.labels.app,
        )
        .filter(
          (p) =>
            p.attributes['push.outcome'] === sample.labels.outcome &&
            p.attributes['error.type'] === sample.labels.error_type,
        );
      assert.equal(
        twin.reduce((total, p) => total + (p.value as number), 0),
        sample.value,
        JSON.stringify(sample.labels),
      );
    }
    for (const sample of prometheus.filter((s) => s.name === 'push_receipts_total')) {
      assert.equal(
        sum(points, RECEIPTS, {
          ...EXPO,
          'push.outcome': sample.labels.outcome,
          ...(sample.labels.error_type ? { 'error.type': sample.labels.error_type } : {}),
        }),
        sample.value,
      );
    }
  });

  it('counts push.client.receipts, unknown error types as unknown, all 13 series from the first receipt', () => {
    assert.equal(sum(points, RECEIPTS, { ...EXPO, 'push.outcome': 'delivered' }), 5);
    assert.equal(sum(points, RECEIPTS, { ...EXPO, 'push.outcome': 'failed', 'error.type': 'unregistered' }), 1);
    assert.equal(sum(points, RECEIPTS, { ...EXPO, 'push.outcome': 'failed', 'error.type': 'unknown' }), 1);
    assert.equal(points.filter((p) => p.name === RECEIPTS).length, 13);
    assert.equal(points.filter((p) => p.name === RECEIPTS && p.value !== 0).length, 3);
  });

  it('observes push.client.active_requests per (system, app): 2 while two calls hang, 0 once they settle', () => {
    const apns = { ...system('apns'), 'push.app': APP };
    assert.equal(sum(pendingPoints, ACTIVE, apns), 2);
    assert.equal(sum(points, ACTIVE, apns), 0);
    for (const name of ['fcm', 'webpush', 'expo'])
      assert.equal(sum(points, ACTIVE, { ...system(name), 'push.app': APP }), 0, name);
    assert.equal(sum(points, ACTIVE, { ...system('aws.sns'), 'push.app': 'billing' }), 0);
    assert.equal(points.filter((p) => p.name === ACTIVE).length, 5);
  });

  it('observes push.client.last_success.timestamp in Unix seconds, only where a message was accepted', () => {
    const now = Date.now() / 1000;
    for (const attributes of [
      { ...system('fcm'), 'push.app': APP },
      { ...system('aws.sns'), 'push.app': 'billing' },
      { ...system('apns'), 'push.app': APP },
    ]) {
      const value = sum(points, LAST_SUCCESS, attributes) ?? 0;
      assert.ok(value >= sendStart - 1 && value <= now + 1, `${JSON.stringify(attributes)}: ${value}`);
    }
    assert.equal(
      sum(points, LAST_SUCCESS, { ...system('webpush'), 'push.app': APP }),
      undefined,
      'webpush never succeeded',
    );
    assert.equal(
      sum(pendingPoints, LAST_SUCCESS, { ...system('apns'), 'push.app': APP }),
      undefined,
      'not before apns succeeded',
    );
    assert.equal(points.filter((p) => p.name === LAST_SUCCESS).length, 3);
  });

  it('reports no telemetry problems', () => {
    assert.deepEqual(telemetry.health(), { ok: true, problems: [], invalidTokensHeld: [] });
  });
});

describe('registry and meterProvider together and apart', () => {
  function inMemory() {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const meterProvider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    });
    return {
      meterProvider,
      async points() {
        exporter.reset();
        await meterProvider.forceFlush();
        return pointsOf(exporter.getMetrics().at(-1) as ResourceMetrics);
      },
    };
  }

  it('records OTel only with registry: false; registry and metricsHandler then throw a TypeError', async () => {
    const otel = inMemory();
    const telemetry = new PushTelemetry({ meterProvider: otel.meterProvider, registry: false });
    const send = telemetry.wrapSender(async () => 'ok', { provider: 'fcm' });
    await send();
    assert.equal(sum(await otel.points(), SENT, sent({ ...system('fcm'), 'messaging.operation.name': 'send' })), 1);
    assert.throws(() => telemetry.registry, { name: 'TypeError', message: /telemetry\.registry: .*registry: false/ });
    assert.throws(() => telemetry.metricsHandler(), {
      name: 'TypeError',
      message: /metricsHandler\(\): .*registry: false/,
    });
    await assert.rejects(startMetricsServer({ telemetry, port: 0 }), { name: 'TypeError', message: /registry: false/ });
    assert.ok(telemetry.health().ok);
    await otel.meterProvider.shutdown();
  });

  it('does nothing OTel-side without a meterProvider', async () => {
    const telemetry = new PushTelemetry();
    await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })();
    assert.match(await telemetry.registry.metrics(), /push_messages_total\{provider="fcm",outcome="accepted"\} 1/);
  });

  it('shares instruments between instances given one meterProvider, so their in-flight calls add up', async () => {
    const otel = inMemory();
    const a = new PushTelemetry({ meterProvider: otel.meterProvider });
    const b = new PushTelemetry({ meterProvider: otel.meterProvider });
    const releases: Array<() => void> = [];
    const hang = () => new Promise<void>((resolve) => releases.push(resolve));
    const calls = [
      a.wrapSender(hang, { provider: 'fcm' })(),
      b.wrapSender(hang, { provider: 'fcm' })(),
      b.wrapSender(hang, { provider: 'fcm', operation: 'send_each' })(),
    ];
    const during = await otel.points();
    assert.equal(sum(during, ACTIVE, { ...system('fcm') }), 3);
    releases.forEach((release) => release());
    await Promise.all(calls);
    const settled = await otel.points();
    assert.equal(sum(settled, ACTIVE, { ...system('fcm') }), 0);
    assert.equal(sum(settled, SENT, sent({ ...system('fcm'), 'messaging.operation.name': 'send' })), 2);
    assert.equal(settled.filter((p) => p.name === SENT).length, 2 * 13);
    await otel.meterProvider.shutdown();
  });

  it('never lets a throwing meter reach a send: the call returns, the problem is in health()', async () => {
    const throwing = () => {
      throw new Error('meter broke');
    };
    const meter = fakeMeter(throwing);
    const telemetry = new PushTelemetry({ meterProvider: meter.provider, recordErrorMessages: true });
    const send = telemetry.wrapSender(async (fail: boolean) => (fail ? Promise.reject(httpError(503)) : 'ok'), {
      provider: 'fcm',
    });
    assert.equal(await send(false), 'ok');
    await assert.rejects(send(true), /HTTP 503/);
    telemetry.recordReceipts({ provider: 'expo', delivered: 1 });
    // The durations reach the Histogram when the provider collects (or a buffer fills), not during the sends.
    assert.deepEqual(telemetry.health().problems, []);
    meter.collect();
    const problems = telemetry.health().problems;
    assert.deepEqual(
      problems.map((p) => [p.kind, p.count]),
      [['metrics', 2]],
    );
    assert.match(problems[0]?.lastError ?? '', /meter broke/);
  });

  it('never lets a histogram that throws when a send fills the buffer reach that send', () => {
    const meter = fakeMeter(() => {
      throw new Error('meter broke');
    });
    const telemetry = new PushTelemetry({ meterProvider: meter.provider });
    const send = telemetry.wrapSender(() => 'sent', { provider: 'fcm' });
    for (let i = 0; i < DURATION_BUFFER_SIZE; i++) assert.equal(send(), 'sent');
    assert.deepEqual(
      telemetry.health().problems.map((p) => [p.kind, p.count]),
      [['metrics', DURATION_BUFFER_SIZE]],
    );
  });

  it('warns through diag when given the API no-op provider (metrics.getMeterProvider() before an SDK started)', () => {
    const warnings: string[] = [];
    const ignore = () => undefined;
    diag.setLogger(
      {
        warn: (message: string) => void warnings.push(message),
        error: ignore,
        info: ignore,
        debug: ignore,
        verbose: ignore,
      },
      DiagLogLevel.WARN,
    );
    try {
      const telemetry = new PushTelemetry({ meterProvider: metrics.getMeterProvider() });
      assert.equal(telemetry.wrapSender(() => 'sent', { provider: 'fcm' })(), 'sent');
    } finally {
      diag.disable();
    }
    assert.equal(
      warnings.filter((w) => /no-op provider, so no OTel metrics will be recorded/.test(w)).length,
      1,
      warnings.join('\n'),
    );
  });

  it('rejects bad input with a TypeError naming the option', () => {
    const otel = inMemory();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { meterProvider: {} },
        /^options\.meterProvider must be an OpenTelemetry MeterProvider \(with getMeter\(\)\), got an object$/,
      ],
      [
        { meterProvider: 'otlp' },
        /^options\.meterProvider must be an OpenTelemetry MeterProvider \(with getMeter\(\)\), got "otlp"$/,
      ],
      [{ meterProvider: null }, /^options\.meterProvider must be an OpenTelemetry MeterProvider .* got null$/],
      [
        { registry: false },
        /^options\.registry: false turns the Prometheus metrics off.*give options\.meterProvider too/,
      ],
      [
        { registry: true, meterProvider: otel.meterProvider },
        /^options\.registry must be a prom-client Registry, got boolean true$/,
      ],
      [
        { registry: false, meterProvider: otel.meterProvider, exemplars: true },
        /^options\.exemplars needs the Prometheus metrics/,
      ],
      [
        {
          meterProvider: {
            getMeter: () => {
              throw new Error('no');
            },
          },
        },
        /^options\.meterProvider could not create the push-telemetry instruments/,
      ],
      [
        { meterProvidr: otel.meterProvider },
        /unknown option "meterProvidr"; expected one of registry, tracerProvider, meterProvider,/,
      ],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => new PushTelemetry(options as never),
        (error: unknown) => error instanceof TypeError && message.test(error.message),
        `${Object.keys(options).join(', ')}: ${message}`,
      );
    }
  });
});

interface OtlpAttribute {
  readonly key: string;
  readonly value: { readonly stringValue?: string; readonly intValue?: number | string; readonly doubleValue?: number };
}
interface OtlpPoint {
  readonly attributes?: readonly OtlpAttribute[];
  readonly asDouble?: number;
  readonly asInt?: number | string;
  readonly count?: number | string;
  readonly sum?: number;
  readonly bucketCounts?: ReadonlyArray<number | string>;
  readonly explicitBounds?: readonly number[];
}
interface OtlpMetric {
  readonly name: string;
  readonly unit?: string;
  readonly description?: string;
  readonly sum?: {
    readonly dataPoints: readonly OtlpPoint[];
    readonly isMonotonic?: boolean;
    readonly aggregationTemporality?: number;
  };
  readonly gauge?: { readonly dataPoints: readonly OtlpPoint[] };
  readonly histogram?: { readonly dataPoints: readonly OtlpPoint[]; readonly aggregationTemporality?: number };
}
interface OtlpRequest {
  readonly resourceMetrics: ReadonlyArray<{
    readonly resource?: { readonly attributes?: readonly OtlpAttribute[] };
    readonly scopeMetrics: ReadonlyArray<{
      readonly scope?: { readonly name?: string; readonly version?: string };
      readonly metrics: readonly OtlpMetric[];
    }>;
  }>;
}

function attributesOf(point: { readonly attributes?: readonly OtlpAttribute[] }): Record<string, string | number> {
  return Object.fromEntries(
    (point.attributes ?? []).map(({ key, value }) => [
      key,
      value.stringValue ?? Number(value.intValue ?? value.doubleValue),
    ]),
  );
}

/** A meter whose Histogram calls `record`, and whose batch callback runs when the test says: a collection. */
function fakeMeter(record: (value: number, attributes?: Attributes) => void) {
  let callback: ((result: BatchObservableResult) => void) | undefined;
  const result: BatchObservableResult = { observe: () => undefined };
  const meter = {
    createHistogram: () => ({ record }) as Histogram,
    createObservableCounter: () => ({}),
    createObservableUpDownCounter: () => ({}),
    createObservableGauge: () => ({}),
    addBatchObservableCallback: (observe: (result: BatchObservableResult) => void) => {
      callback = observe;
    },
  } as unknown as Meter;
  return {
    provider: { getMeter: () => meter } as ApiMeterProvider,
    collect: () => callback?.(result),
  };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the duration buffer: off the send path, every call recorded once, in the collection it belongs to', () => {
  function sdk(temporality = AggregationTemporality.CUMULATIVE) {
    const exporter = new InMemoryMetricExporter(temporality);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    return {
      meterProvider,
      async points() {
        exporter.reset();
        await reader.forceFlush();
        return pointsOf(exporter.getMetrics().at(-1) as ResourceMetrics);
      },
    };
  }
  const fcmSend = { ...system('fcm'), 'messaging.operation.name': 'send' };

  it('flushes in the observable callback, so a duration recorded before a collection is in that collection', async () => {
    // The SDK's MeterSharedState.collect runs every observable callback, then collects the synchronous storages.
    const otel = sdk();
    const telemetry = new PushTelemetry({ meterProvider: otel.meterProvider });
    const send = telemetry.wrapSender(() => 'sent', { provider: 'fcm' });
    for (let i = 0; i < 3; i++) send();
    assert.equal(histogram(await otel.points(), duration(fcmSend, 'success'))?.count, 3);
    send();
    assert.equal(histogram(await otel.points(), duration(fcmSend, 'success'))?.count, 4);
    await otel.meterProvider.shutdown();
  });

  it('keeps every duration across several buffers, with the Prometheus sum to the last bit', async () => {
    const otel = sdk();
    const telemetry = new PushTelemetry({ meterProvider: otel.meterProvider });
    const send = telemetry.wrapSender(() => 'sent', { provider: 'fcm' });
    const calls = 2 * DURATION_BUFFER_SIZE + 17;
    for (let i = 0; i < calls; i++) send();
    await nextTurn();
    for (let i = 0; i < FLUSH_SOON_AT - 1; i++) send();
    const value = histogram(await otel.points(), duration(fcmSend, 'success'));
    const prometheus = (await scrape(telemetry)).samples;
    const promSum = prometheus.find(
      (s) => s.name === 'push_request_duration_seconds_sum' && s.labels.outcome === 'success',
    );
    assert.equal(value?.count, calls + FLUSH_SOON_AT - 1);
    assert.equal(value?.sum, promSum?.value, 'the same seconds, added in the same order');
    await otel.meterProvider.shutdown();
  });

  it('holds at most DURATION_BUFFER_SIZE durations: the send that fills the buffer records them', () => {
    const recorded: number[] = [];
    const meter = fakeMeter((value) => void recorded.push(value));
    const telemetry = new PushTelemetry({ meterProvider: meter.provider });
    const send = telemetry.wrapSender(() => 'sent', { provider: 'fcm' });
    for (let i = 0; i < DURATION_BUFFER_SIZE - 1; i++) send();
    assert.equal(recorded.length, 0, 'no event-loop turn yet, so nothing recorded');
    send();
    assert.equal(recorded.length, DURATION_BUFFER_SIZE);
    send();
    meter.collect();
    assert.equal(recorded.length, DURATION_BUFFER_SIZE + 1);
    assert.ok(recorded.every((seconds) => seconds >= 0 && seconds < 1));
  });

  it(`records in an event-loop turn of its own once ${FLUSH_SOON_AT} durations wait`, async () => {
    const recorded: Attributes[] = [];
    const meter = fakeMeter((_value, attributes) => void recorded.push(attributes ?? {}));
    const telemetry = new PushTelemetry({ meterProvider: meter.provider });
    const send = telemetry.wrapSender(() => 'sent', { provider: 'fcm' });
    for (let i = 0; i < FLUSH_SOON_AT - 1; i++) send();
    await nextTurn();
    assert.equal(recorded.length, 0, 'below the mark, durations wait for the collection');
    send();
    assert.equal(recorded.length, 0, 'not within the send');
    await nextTurn();
    assert.equal(recorded.length, FLUSH_SOON_AT);
    assert.ok(recorded.every((attributes) => isDeepEqual(attributes, duration(fcmSend, 'success'))));
  });

  it('gives each of two readers every duration once', async () => {
    const exporters = [
      new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      new InMemoryMetricExporter(AggregationTemporality.DELTA),
    ];
    const readers = exporters.map(
      (exporter) => new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 }),
    );
    const meterProvider = new MeterProvider({ readers });
    const telemetry = new PushTelemetry({ meterProvider });
    const send = telemetry.wrapSender(() => 'sent', { provider: 'fcm' });
    const countOf = async (i: number) => {
      exporters[i]?.reset();
      await readers[i]?.forceFlush();
      return histogram(pointsOf(exporters[i]?.getMetrics().at(-1) as ResourceMetrics), duration(fcmSend, 'success'))
        ?.count;
    };
    for (let i = 0; i < 5; i++) send();
    assert.equal(await countOf(0), 5, 'the first reader flushes the buffer');
    assert.equal(await countOf(1), 5, 'the second reader still gets what the first one flushed');
    for (let i = 0; i < 2; i++) send();
    assert.equal(await countOf(1), 2, 'delta: the two new ones');
    assert.equal(await countOf(0), 7, 'cumulative');
    await meterProvider.shutdown();
  });

  it('with delta temporality, reports each call in exactly one collection', async () => {
    const otel = sdk(AggregationTemporality.DELTA);
    const telemetry = new PushTelemetry({ meterProvider: otel.meterProvider });
    const send = telemetry.wrapSender(() => 'sent', { provider: 'fcm' });
    const counts: Array<number | undefined> = [];
    for (const calls of [3, FLUSH_SOON_AT + 5, 0, DURATION_BUFFER_SIZE + 1]) {
      for (let i = 0; i < calls; i++) send();
      await nextTurn();
      const points = await otel.points();
      counts.push(histogram(points, duration(fcmSend, 'success'))?.count ?? 0);
      assert.equal(sum(points, SENT, sent(fcmSend)), calls, 'the sent-messages delta too');
    }
    assert.deepEqual(counts, [3, FLUSH_SOON_AT + 5, 0, DURATION_BUFFER_SIZE + 1]);
    await otel.meterProvider.shutdown();
  });
});

describe('one store, read by /metrics and by every meter provider given it', () => {
  function inMemory() {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const meterProvider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    });
    return {
      meterProvider,
      async points() {
        exporter.reset();
        await meterProvider.forceFlush();
        return pointsOf(exporter.getMetrics().at(-1) as ResourceMetrics);
      },
    };
  }
  const fcmSend = { ...system('fcm'), 'messaging.operation.name': 'send' };

  it('does not double count instances that share a registry and a meter provider', async () => {
    const otel = inMemory();
    const registry = new PushTelemetry().registry;
    const a = new PushTelemetry({ registry, meterProvider: otel.meterProvider });
    const b = new PushTelemetry({ registry, meterProvider: otel.meterProvider });
    await a.wrapSender(async () => 'ok', { provider: 'fcm' })();
    await b.wrapSender(async () => 'ok', { provider: 'fcm' })();
    const points = await otel.points();
    assert.equal(sum(points, SENT, sent(fcmSend)), 2);
    assert.equal(histogram(points, duration(fcmSend, 'success'))?.count, 2);
    assert.match(await registry.metrics(), /push_messages_total\{provider="fcm",outcome="accepted"\} 2/);
    await otel.meterProvider.shutdown();
  });

  it('adds up the stores of instances with different registries, and of registry: false instances', async () => {
    const otel = inMemory();
    const instances = [
      new PushTelemetry({ meterProvider: otel.meterProvider }),
      new PushTelemetry({ meterProvider: otel.meterProvider }),
      new PushTelemetry({ meterProvider: otel.meterProvider, registry: false }),
      new PushTelemetry({ meterProvider: otel.meterProvider, registry: false }),
    ];
    for (const telemetry of instances) {
      await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })();
      telemetry.recordReceipts({ provider: 'expo', delivered: 1 });
    }
    const points = await otel.points();
    assert.equal(sum(points, SENT, sent(fcmSend)), 4);
    assert.equal(points.filter((p) => p.name === SENT).length, 13, 'one set of points, not one per store');
    assert.equal(histogram(points, duration(fcmSend, 'success'))?.count, 4);
    assert.equal(sum(points, RECEIPTS, { ...system('expo'), 'push.outcome': 'delivered' }), 4);
    assert.equal(points.filter((p) => p.name === LAST_SUCCESS).length, 1);
    const last = sum(points, LAST_SUCCESS, system('fcm')) ?? 0;
    assert.ok(Math.abs(last - Date.now() / 1000) < 60, `the latest success: ${last}`);
    for (const telemetry of instances.slice(0, 2)) {
      assert.match(
        await telemetry.registry.metrics(),
        /push_messages_total\{provider="fcm",outcome="accepted"\} 1/,
        'each registry its own',
      );
    }
    await otel.meterProvider.shutdown();
  });

  it('sums push_messages_total over the operations of a (provider, app), with the same output as before', async () => {
    const telemetry = new PushTelemetry();
    await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })();
    await telemetry.wrapSender(
      async (): Promise<SettleResult> => ({ accepted: 2, failed: [{ errorType: 'unregistered' }] }),
      { provider: 'fcm', operation: 'send_each', settle: (r) => r },
    )();
    await assert.rejects(
      telemetry.wrapSender(async () => Promise.reject(httpError(503)), {
        provider: 'fcm',
        operation: 'send_multicast',
        countMessages: () => 4,
      })(),
    );
    telemetry.recordReceipts({ provider: 'expo', delivered: 1 });
    const messages = (await scrape(telemetry)).samples.filter((s) => s.name === 'push_messages_total' && s.value !== 0);
    assert.deepEqual(
      messages.map((s) => [s.labels.provider, s.labels.outcome, s.labels.error_type, s.value]),
      [
        ['fcm', 'accepted', undefined, 3],
        ['fcm', 'failed', 'provider_unavailable', 4],
        ['fcm', 'failed', 'unregistered', 1],
      ],
    );
    const expo = (await scrape(telemetry)).samples.filter(
      (s) => s.name === 'push_messages_total' && s.labels.provider === 'expo',
    );
    assert.equal(
      expo.length,
      13,
      'a (provider, app) seen only through receipts still shows its 13 message series at 0',
    );
  });
});

describe('OTLP/HTTP export to a loopback collector', () => {
  const received: Array<{ path: string | undefined; headers: IncomingHttpHeaders; body: OtlpRequest }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let metrics: Map<string, OtlpMetric>;
  let request: OtlpRequest;

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${port}/v1/metrics` });
    const meterProvider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    });
    // OTLP only: the Prometheus side is off, so whatever the test reads came over the wire.
    const telemetry = new PushTelemetry({ meterProvider, registry: false, app: APP });
    await sendScriptedMix(telemetry);
    await meterProvider.forceFlush();
    await meterProvider.shutdown();
    assert.ok(received.length >= 1, 'the collector received an export');
    request = (received.at(-1) as (typeof received)[number]).body;
    const scopes = request.resourceMetrics.flatMap((rm) => rm.scopeMetrics);
    metrics = new Map(scopes.flatMap((scope) => scope.metrics.map((m) => [m.name, m])));
    assert.deepEqual(telemetry.health(), { ok: true, problems: [], invalidTokensHeld: [] });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const point = (metric: OtlpMetric | undefined, attributes: Record<string, string>) => {
    const points = (metric?.sum ?? metric?.gauge ?? metric?.histogram)?.dataPoints ?? [];
    const found = points.filter((p) => isDeepEqual(attributesOf(p), attributes));
    assert.equal(found.length, 1, `${metric?.name} ${JSON.stringify(attributes)}: ${found.length} points`);
    return found[0] as OtlpPoint;
  };

  it('posts OTLP JSON to /v1/metrics with the resource and the push-telemetry scope', () => {
    const last = received.at(-1);
    assert.equal(last?.path, '/v1/metrics');
    assert.equal(last?.headers['content-type'], 'application/json');
    assert.match(String(attributesOf(request.resourceMetrics[0]?.resource ?? {})['service.name']), /^unknown_service/);
    const scope = request.resourceMetrics[0]?.scopeMetrics.find((s) => s.scope?.name === 'push-telemetry')?.scope;
    assert.deepEqual(scope, { name: 'push-telemetry', version: '0.1.0' });
  });

  it('carries every instrument with its unit and kind', () => {
    assert.deepEqual(
      [...metrics.keys()].sort(),
      [ACTIVE, LAST_SUCCESS, DURATION, SENT, RECEIPTS, OTEL_METRIC_NAMES.invalidTokensHeld].sort(),
    );
    const shape = (m: OtlpMetric | undefined) => [
      m?.unit,
      m?.sum ? `sum monotonic=${m.sum.isMonotonic}` : m?.gauge ? 'gauge' : m?.histogram ? 'histogram' : '?',
    ];
    assert.deepEqual(shape(metrics.get(SENT)), ['{message}', 'sum monotonic=true']);
    assert.deepEqual(shape(metrics.get(DURATION)), ['s', 'histogram']);
    assert.deepEqual(shape(metrics.get(RECEIPTS)), ['{receipt}', 'sum monotonic=true']);
    assert.deepEqual(shape(metrics.get(ACTIVE)), ['{request}', 'sum monotonic=false']);
    assert.deepEqual(shape(metrics.get(LAST_SUCCESS)), ['s', 'gauge']);
    assert.deepEqual(shape(metrics.get(OTEL_METRIC_NAMES.invalidTokensHeld)), ['{verdict}', 'sum monotonic=true']);
  });

  it('delivers the sent-message counts with their attributes', () => {
    const sentMetric = metrics.get(SENT);
    for (const [attributes, value] of EXPECTED_SENT) {
      const p = point(sentMetric, attributes as Record<string, string>);
      assert.equal(Number(p.asDouble ?? p.asInt), value, JSON.stringify(attributes));
    }
    const nonZero = (sentMetric?.sum?.dataPoints ?? []).filter((p) => Number(p.asDouble ?? p.asInt) !== 0);
    assert.equal(nonZero.length, EXPECTED_SENT.length);
  });

  it('delivers the duration histograms with the contract buckets', () => {
    const durationMetric = metrics.get(DURATION);
    assert.equal(durationMetric?.histogram?.dataPoints.length, EXPECTED_DURATIONS.length);
    for (const [attributes, count] of EXPECTED_DURATIONS) {
      const p = point(durationMetric, attributes as Record<string, string>);
      assert.equal(Number(p.count), count, JSON.stringify(attributes));
      assert.deepEqual(p.explicitBounds, [...DURATION_BUCKETS]);
      assert.equal(
        (p.bucketCounts ?? []).reduce((a: number, b) => a + Number(b), 0),
        count,
      );
      assert.ok((p.sum ?? 0) > 0);
    }
  });

  it('delivers receipts, in-flight and last success', () => {
    assert.equal(Number(point(metrics.get(RECEIPTS), { ...EXPO, 'push.outcome': 'delivered' }).asDouble), 5);
    assert.equal(
      Number(point(metrics.get(RECEIPTS), { ...EXPO, 'push.outcome': 'failed', 'error.type': 'unknown' }).asDouble),
      1,
    );
    assert.equal(Number(point(metrics.get(ACTIVE), { ...system('fcm'), 'push.app': APP }).asInt ?? 0), 0);
    const last = Number(point(metrics.get(LAST_SUCCESS), { ...system('aws.sns'), 'push.app': 'billing' }).asDouble);
    assert.ok(Math.abs(last - Date.now() / 1000) < 60, `last success ${last}`);
    assert.equal(metrics.get(LAST_SUCCESS)?.gauge?.dataPoints.length, 2, 'fcm and sns; webpush never succeeded');
  });
});

describe('telemetry.metricProducer(): the same metrics, collected by a reader instead of recorded on instruments', () => {
  interface Described {
    readonly kind: string;
    readonly unit: string;
    readonly description: string;
    readonly monotonic: boolean | undefined;
    readonly temporality: AggregationTemporality;
    readonly scope: string;
  }
  interface Collected {
    readonly points: Point[];
    readonly described: Map<string, Described>;
  }

  function collected(resourceMetrics: ResourceMetrics): Collected {
    const described = new Map<string, Described>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics)
        described.set(metric.descriptor.name, {
          kind: DataPointType[metric.dataPointType],
          unit: metric.descriptor.unit,
          description: metric.descriptor.description,
          monotonic: 'isMonotonic' in metric ? metric.isMonotonic : undefined,
          temporality: metric.aggregationTemporality,
          scope: `${scope.scope.name}@${scope.scope.version}`,
        });
    return { points: pointsOf(resourceMetrics), described };
  }

  const keyOf = (point: Point) => `${point.name} ${JSON.stringify(Object.entries(point.attributes).sort())}`;

  async function exportOnce(setUp: (exporter: InMemoryMetricExporter) => Promise<MeterProvider>): Promise<Collected> {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const meterProvider = await setUp(exporter);
    try {
      await meterProvider.forceFlush();
      const [last] = exporter.getMetrics().slice(-1);
      assert.ok(last, 'the reader exported');
      return collected(last);
    } finally {
      await meterProvider.shutdown();
    }
  }

  let viaInstruments: Collected;
  let viaProducer: Collected;
  let producerTelemetry: PushTelemetry;

  before(async () => {
    viaInstruments = await exportOnce(async (exporter) => {
      const meterProvider = new MeterProvider({
        readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
      });
      await sendScriptedMix(new PushTelemetry({ meterProvider, app: APP, registry: new Registry() }));
      return meterProvider;
    });
    viaProducer = await exportOnce(async (exporter) => {
      producerTelemetry = new PushTelemetry({ app: APP, registry: new Registry() });
      const reader = new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: 3_600_000,
        metricProducers: [producerTelemetry.metricProducer()],
      });
      const meterProvider = new MeterProvider({ readers: [reader] });
      await sendScriptedMix(producerTelemetry);
      return meterProvider;
    });
  });

  it('describes every metric as the instruments do: name, kind, unit, description, monotonicity, scope', () => {
    assert.deepEqual([...viaProducer.described.entries()].sort(), [...viaInstruments.described.entries()].sort());
    assert.equal(viaProducer.described.get(SENT)?.temporality, AggregationTemporality.CUMULATIVE);
  });

  it('reports the same data points with the same values, histograms bucket by bucket', () => {
    const instruments = new Map(viaInstruments.points.map((point) => [keyOf(point), point.value]));
    assert.deepEqual(viaProducer.points.map(keyOf).sort(), [...instruments.keys()].sort());
    for (const point of viaProducer.points) {
      const expected = instruments.get(keyOf(point));
      if (typeof point.value === 'number') {
        if (point.name === LAST_SUCCESS) assert.ok(Math.abs(point.value - (expected as number)) < 60, keyOf(point));
        else assert.equal(point.value, expected, keyOf(point));
        continue;
      }
      const want = expected as HistogramValue;
      assert.deepEqual(point.value.buckets, want.buckets, keyOf(point));
      assert.equal(point.value.count, want.count, keyOf(point));
      assert.ok(Math.abs((point.value.sum ?? 0) - (want.sum ?? 0)) < 0.05, `${keyOf(point)}: sum`);
      assert.ok((point.value.min ?? Number.NaN) <= (point.value.max ?? Number.NaN), `${keyOf(point)}: min ≤ max`);
    }
    assert.ok(viaProducer.points.some((point) => point.name === DURATION));
    assert.ok(viaProducer.points.some((point) => point.name === RECEIPTS));
  });

  it('is one producer per registry, shared by the instances bound to it', () => {
    const registry = new Registry();
    const first = new PushTelemetry({ registry });
    assert.equal(new PushTelemetry({ registry }).metricProducer(), first.metricProducer());
    assert.notEqual(new PushTelemetry({ registry: new Registry() }).metricProducer(), first.metricProducer());
  });

  it('reports calls in flight while they hang, and no telemetry problems', async () => {
    const registry = new Registry();
    const telemetry = new PushTelemetry({ registry });
    const producer = telemetry.metricProducer();
    let release = () => {};
    const hang = telemetry.wrapSender(() => new Promise<string>((resolve) => (release = () => resolve('late'))), {
      provider: 'apns',
    });
    const pending = hang();
    const activeOf = async () =>
      (await producer.collect()).resourceMetrics.scopeMetrics[0]?.metrics
        .find((metric) => metric.descriptor.name === ACTIVE)
        ?.dataPoints.map((point) => point.value);
    assert.deepEqual(await activeOf(), [1]);
    release();
    await pending;
    assert.deepEqual(await activeOf(), [0]);
    assert.equal(producerTelemetry.health().ok, true);
  });

  it("uses sdk-metrics' own enum values", () => {
    // The producer writes them as literals, since sdk-metrics is an optional peer it never imports.
    assert.equal(AggregationTemporality.CUMULATIVE, 1);
    assert.deepEqual([DataPointType.HISTOGRAM, DataPointType.GAUGE, DataPointType.SUM], [0, 2, 3]);
  });
});
