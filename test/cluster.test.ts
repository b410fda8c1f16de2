import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Registry } from 'prom-client';
import { PushTelemetry, type ErrorType, ERROR_TYPES, METRIC_NAMES, VERSION } from '../src/index.js';
import { startClusterMetricsServer } from '../src/serve/cluster.js';
import type { MetricsServer } from '../src/serve/metrics-server.js';
import type { SenderMix, WorkerMix, WorkerReport } from './fixtures/cluster-worker.js';
import { parseExposition, type Sample } from './helpers.js';

/**
 * Cluster aggregation with real node:cluster workers. This test file's process is the cluster primary: it forks
 * test/fixtures/cluster-worker.ts (cluster.setupPrimary({ exec })), each worker sends a different known mix, and the
 * primary's /metrics (startClusterMetricsServer) must equal the sums: exactly for the counts, bucket by bucket for
 * the histograms, summed for in-flight, the maximum for last success, 1 for push_telemetry_info.
 */

const WORKER = fileURLToPath(new URL('./fixtures/cluster-worker.ts', import.meta.url));
const WAIT_MS = 20_000;

interface JsonMetric {
  readonly name: string;
  readonly aggregator: string;
  readonly values: readonly {
    readonly labels: Readonly<Record<string, string | number>>;
    readonly value: number;
    readonly metricName?: string;
  }[];
}

/** `name{a="1",b="2"}` with labels sorted, the way samples are compared across workers and the primary. */
function keyOf(name: string, labels: Readonly<Record<string, string | number>>): string {
  const pairs = Object.entries(labels)
    .map(([label, value]) => `${label}="${String(value)}"`)
    .sort();
  return `${name}{${pairs.join(',')}}`;
}

function sampleMap(samples: readonly Sample[]): Map<string, number> {
  return new Map(samples.map((sample) => [keyOf(sample.name, sample.labels), sample.value]));
}

/** What the primary should serve: worker registries combined the way each family's aggregator says. */
function combine(reports: readonly (readonly JsonMetric[])[]): Map<string, { aggregator: string; values: number[] }> {
  const combined = new Map<string, { aggregator: string; values: number[] }>();
  for (const metrics of reports) {
    for (const metric of metrics) {
      for (const value of metric.values) {
        const key = keyOf(value.metricName ?? metric.name, value.labels);
        const entry = combined.get(key) ?? { aggregator: metric.aggregator, values: [] };
        entry.values.push(value.value);
        combined.set(key, entry);
      }
    }
  }
  return combined;
}

// The mixes: overlapping (provider, app) pairs across workers, app-less series next to ones with an app, three
// outcomes, two operations, delays that land in different buckets, calls left in flight, receipts on two workers.
const APP = 'com.example.app';
const MIXES: readonly WorkerMix[] = [
  {
    senders: [
      { provider: 'fcm', app: APP, tokens: ['ok', 'ok', 'ok@30', 'ok@120', 'gone', 'busy'], hang: 1 },
      { provider: 'fcm', tokens: ['ok', 'ok@60'] },
    ],
    receipts: [{ provider: 'expo', app: APP, delivered: 2, failedUnregistered: 0 }],
  },
  {
    senders: [
      { provider: 'fcm', app: APP, tokens: ['ok', 'ok@30', 'ok', 'down', 'down@30'], hang: 2 },
      { provider: 'apns', tokens: ['ok', 'gone', 'gone@60'] },
      { provider: 'fcm', app: APP, operation: 'send_each', tokens: ['ok', 'busy'] },
    ],
  },
  {
    senders: [
      { provider: 'apns', tokens: ['ok@120', 'ok', 'busy'], hang: 1 },
      { provider: 'fcm', tokens: ['ok', 'gone@30'] },
    ],
    receipts: [{ provider: 'expo', app: APP, delivered: 5, failedUnregistered: 1 }],
  },
];

const ERROR_OF: Readonly<Record<string, ErrorType>> = {
  gone: 'unregistered',
  busy: 'rate_limited',
  down: 'provider_unavailable',
};

/** push_messages_total per (provider, app, outcome, error_type), counted from the mixes; hanging calls as accepted once released. */
function expectedMessages(released: boolean): Map<string, number> {
  const expected = new Map<string, number>();
  const add = (spec: SenderMix, labels: Record<string, string>, count: number) => {
    const key = keyOf(METRIC_NAMES.messages, {
      provider: spec.provider,
      ...(spec.app === undefined ? {} : { app: spec.app }),
      ...labels,
    });
    expected.set(key, (expected.get(key) ?? 0) + count);
  };
  for (const mix of MIXES) {
    for (const spec of mix.senders) {
      // Every sender series exposes every outcome and error type, zeros included.
      add(spec, { outcome: 'accepted' }, 0);
      for (const type of ERROR_TYPES) add(spec, { outcome: 'failed', error_type: type }, 0);
      for (const token of spec.tokens) {
        const kind = token.split('@')[0] as string;
        const errorType = ERROR_OF[kind];
        add(spec, errorType === undefined ? { outcome: 'accepted' } : { outcome: 'failed', error_type: errorType }, 1);
      }
      if (released) add(spec, { outcome: 'accepted' }, spec.hang ?? 0);
    }
    // recordReceipts creates the sender's series too: all zeros, since receipts count in push_receipts_total.
    for (const receipt of mix.receipts ?? []) {
      const spec = {
        provider: receipt.provider,
        ...(receipt.app === undefined ? {} : { app: receipt.app }),
        tokens: [],
      };
      add(spec, { outcome: 'accepted' }, 0);
      for (const type of ERROR_TYPES) add(spec, { outcome: 'failed', error_type: type }, 0);
    }
  }
  return expected;
}

function fork(env: Record<string, string>): Worker {
  const worker = cluster.fork(env);
  // Workers are silent (stdio piped): keep their stderr for failure messages, and drain both pipes.
  const stderr: string[] = [];
  worker.process.stdout?.resume();
  worker.process.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  Object.assign(worker, { stderrText: () => stderr.join('') });
  return worker;
}

function stderrOf(worker: Worker): string {
  return (worker as Worker & { stderrText?: () => string }).stderrText?.() ?? '';
}

/** The next report of `type` from a worker, within WAIT_MS. */
function nextReport<T extends WorkerReport['type']>(
  worker: Worker,
  type: T,
): Promise<Extract<WorkerReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`worker ${worker.id} sent no ${type} within ${WAIT_MS} ms; stderr:\n${stderrOf(worker)}`));
    }, WAIT_MS);
    const onMessage = (message: WorkerReport) => {
      if (message?.type === 'push-test:error') {
        cleanup();
        reject(new Error(`worker ${worker.id}: ${message.message}`));
      } else if (message?.type === type) {
        cleanup();
        resolve(message as Extract<WorkerReport, { type: T }>);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`worker ${worker.id} exited (${code}) before ${type}; stderr:\n${stderrOf(worker)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

/** Disconnects a worker and waits for it to exit, killing it if it has not within 5 s. */
async function stop(worker: Worker): Promise<void> {
  if (worker.isDead()) return;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  if (worker.isConnected()) worker.disconnect();
  const timer = setTimeout(() => worker.process.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Histogram buckets per series (labels without le), sorted by le. */
function bucketsBySeries(samples: Map<string, number>): Map<string, [number, number][]> {
  const series = new Map<string, [number, number][]>();
  for (const [key, value] of samples) {
    if (!key.startsWith(`${METRIC_NAMES.duration}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1] as string;
    const rest = key.replace(/,?le="[^"]+",?/, ',');
    series.set(rest, [...(series.get(rest) ?? []), [le === '+Inf' ? Infinity : Number(le), value]]);
  }
  for (const buckets of series.values()) buckets.sort((a, b) => a[0] - b[0]);
  return series;
}

async function scrape(
  server: MetricsServer,
  init?: RequestInit,
): Promise<{ status: number; text: string; samples: Map<string, number> }> {
  const response = await fetch(`${server.url}/metrics`, init);
  const text = await response.text();
  return {
    status: response.status,
    text,
    samples: response.status === 200 ? sampleMap(parseExposition(text)) : new Map(),
  };
}

/** Every sample the workers hold is in the primary's answer, combined by its family's aggregator, and nothing else is. */
function assertAggregated(primary: Map<string, number>, reports: readonly (readonly JsonMetric[])[]): void {
  const combined = combine(reports);
  assert.deepEqual(
    [...primary.keys()].sort(),
    [...combined.keys()].sort(),
    'the primary serves exactly the series the workers hold',
  );
  for (const [key, { aggregator, values }] of combined) {
    const actual = primary.get(key) as number;
    if (aggregator === 'max') {
      assert.equal(actual, Math.max(...values), `${key}: max of ${values.join(', ')}`);
    } else if (key.startsWith(`${METRIC_NAMES.duration}_sum{`)) {
      // Float sums: the order the workers answer in changes the last bits.
      const sum = values.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(actual - sum) <= 1e-9 * Math.max(1, sum), `${key}: ${actual} ≈ ${sum}`);
    } else {
      assert.equal(aggregator, 'sum', key);
      assert.equal(
        actual,
        values.reduce((a, b) => a + b, 0),
        `${key}: sum of ${values.join(', ')}`,
      );
    }
  }
}

describe('AggregatorRegistry.aggregate over getMetricsAsJSON (in process)', () => {
  it('declares sum for counters, histograms and in-flight, max for last success and info, average for shares', async () => {
    const registry = new Registry();
    new PushTelemetry({ registry });
    const metrics = await registry.getMetricsAsJSON();
    assert.deepEqual(Object.fromEntries(metrics.map((metric) => [metric.name, metric.aggregator])), {
      [METRIC_NAMES.messages]: 'sum',
      [METRIC_NAMES.duration]: 'sum',
      [METRIC_NAMES.inFlight]: 'sum',
      [METRIC_NAMES.lastSuccess]: 'max',
      [METRIC_NAMES.receipts]: 'sum',
      [METRIC_NAMES.info]: 'max',
      [METRIC_NAMES.invalidTokensHeld]: 'sum',
      [METRIC_NAMES.recipientDailySends]: 'sum',
      [METRIC_NAMES.recipientsOverSendCap]: 'average',
    });
  });

  it('sums two registries bucket by bucket, keeps app-less series apart, and info stays 1', async () => {
    const registries = [new Registry(), new Registry()];
    const ok = async () => 'ok';
    const gone = async () => {
      throw Object.assign(new Error('gone'), { statusCode: 410 });
    };
    for (const registry of registries) {
      const withApp = new PushTelemetry({ registry, app: APP });
      const without = new PushTelemetry({ registry });
      await withApp.wrapSender(ok, { provider: 'fcm' })();
      await without.wrapSender(ok, { provider: 'fcm' })();
      await without
        .wrapSender(gone, { provider: 'fcm' })()
        .catch(() => undefined);
    }
    const reports = (await Promise.all(
      registries.map((registry) => registry.getMetricsAsJSON()),
    )) as unknown as JsonMetric[][];
    const aggregated = sampleMap(parseExposition(await AggregatorRegistry.aggregate(reports as never).metrics()));
    assertAggregated(aggregated, reports);
    assert.equal(aggregated.get(keyOf(METRIC_NAMES.messages, { provider: 'fcm', app: APP, outcome: 'accepted' })), 2);
    assert.equal(aggregated.get(keyOf(METRIC_NAMES.messages, { provider: 'fcm', outcome: 'accepted' })), 2);
    assert.equal(
      aggregated.get(keyOf(METRIC_NAMES.messages, { provider: 'fcm', outcome: 'failed', error_type: 'unregistered' })),
      2,
    );
    assert.equal(
      aggregated.get(
        keyOf(`${METRIC_NAMES.duration}_count`, { provider: 'fcm', operation: 'send', outcome: 'failure' }),
      ),
      2,
    );
    assert.equal(
      aggregated.get(
        keyOf(`${METRIC_NAMES.duration}_bucket`, {
          provider: 'fcm',
          operation: 'send',
          outcome: 'failure',
          le: '+Inf',
        }),
      ),
      2,
    );
    assert.equal(aggregated.get(keyOf(METRIC_NAMES.info, { version: VERSION })), 1);
  });

  it('keeps workers apart when each registry has a worker default label (docs/scaling.md, restarts)', async () => {
    const registries = [new Registry(), new Registry()];
    for (const [index, registry] of registries.entries()) {
      registry.setDefaultLabels({ worker: String(index) });
      const telemetry = new PushTelemetry({ registry });
      const send = telemetry.wrapSender(async () => 'ok', { provider: 'fcm' });
      for (let i = 0; i <= index; i++) await send();
    }
    const reports = await Promise.all(registries.map((registry) => registry.getMetricsAsJSON()));
    const aggregated = sampleMap(parseExposition(await AggregatorRegistry.aggregate(reports).metrics()));
    assert.equal(
      aggregated.get(keyOf(METRIC_NAMES.messages, { provider: 'fcm', outcome: 'accepted', worker: '0' })),
      1,
    );
    assert.equal(
      aggregated.get(keyOf(METRIC_NAMES.messages, { provider: 'fcm', outcome: 'accepted', worker: '1' })),
      2,
    );
    // push_telemetry_info too: one per worker, each 1.
    assert.equal(aggregated.get(keyOf(METRIC_NAMES.info, { version: VERSION, worker: '1' })), 1);
  });
});

describe('startClusterMetricsServer with real node:cluster workers', { timeout: 120_000 }, () => {
  const workers: Worker[] = [];
  const servers: MetricsServer[] = [];
  let server: MetricsServer;
  let ready: JsonMetric[][];

  before(async () => {
    cluster.setupPrimary({ exec: WORKER, execArgv: ['--import', 'tsx'], silent: true });
    server = await startClusterMetricsServer({ port: 0 });
    servers.push(server);
    const forked = MIXES.map((mix) => fork({ PUSH_TEST_MIX: JSON.stringify(mix) }));
    workers.push(...forked);
    ready = (await Promise.all(forked.map((worker) => nextReport(worker, 'push-test:ready')))).map(
      (report) => report.metrics as JsonMetric[],
    );
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(
      Object.values(cluster.workers ?? {}).map((worker) => (worker === undefined ? undefined : stop(worker))),
    );
  });

  it('serves the sum of the workers: exact message counts, histograms bucket by bucket, in-flight summed, last success max, info 1', async () => {
    const { status, text, samples } = await scrape(server);
    assert.equal(status, 200, text);
    assertAggregated(samples, ready);

    // Exact counts from the mixes, not only from what the workers said.
    const messages = new Map([...samples].filter(([key]) => key.startsWith(`${METRIC_NAMES.messages}{`)));
    assert.deepEqual(messages, expectedMessages(false));
    assert.equal(
      samples.get(keyOf(METRIC_NAMES.messages, { provider: 'fcm', app: APP, outcome: 'accepted' })),
      4 + 3 + 1,
    );
    assert.equal(samples.get(keyOf(METRIC_NAMES.messages, { provider: 'fcm', outcome: 'accepted' })), 2 + 1);
    assert.equal(
      samples.get(keyOf(METRIC_NAMES.messages, { provider: 'apns', outcome: 'failed', error_type: 'unregistered' })),
      2,
    );
    assert.equal(
      samples.get(keyOf(METRIC_NAMES.messages, { provider: 'apns', outcome: 'failed', error_type: 'rate_limited' })),
      1,
    );

    const count = (labels: Record<string, string>) => samples.get(keyOf(`${METRIC_NAMES.duration}_count`, labels));
    const bucket = (labels: Record<string, string>, le: string) =>
      samples.get(keyOf(`${METRIC_NAMES.duration}_bucket`, { ...labels, le }));
    const fcmApp = { provider: 'fcm', app: APP, operation: 'send' };
    assert.equal(count({ ...fcmApp, outcome: 'success' }), 4 + 3);
    assert.equal(count({ ...fcmApp, outcome: 'failure' }), 2 + 2);
    assert.equal(count({ provider: 'fcm', app: APP, operation: 'send_each', outcome: 'failure' }), 1);
    assert.equal(count({ provider: 'apns', operation: 'send', outcome: 'success' }), 1 + 2);
    assert.equal(bucket({ ...fcmApp, outcome: 'success' }, '+Inf'), 7);
    // 0.01 s cannot hold the 30 ms and 120 ms calls; 10 s holds them all. Buckets stay cumulative after summing.
    assert.ok((bucket({ ...fcmApp, outcome: 'success' }, '0.01') as number) <= 7 - 3);
    assert.equal(bucket({ ...fcmApp, outcome: 'success' }, '10'), 7);
    for (const [series, buckets] of bucketsBySeries(samples)) {
      assert.equal(buckets.length, 15, `${series}: 14 bounds and +Inf`);
      buckets.forEach(([, value], i) =>
        assert.ok(i === 0 || value >= (buckets[i - 1] as [number, number])[1], `${series} stays cumulative`),
      );
    }

    // In flight: 1 + 2 on fcm/app, 1 on apns; the app-less fcm series has none.
    assert.equal(samples.get(keyOf(METRIC_NAMES.inFlight, { provider: 'fcm', app: APP })), 3);
    assert.equal(samples.get(keyOf(METRIC_NAMES.inFlight, { provider: 'apns' })), 1);
    assert.equal(samples.get(keyOf(METRIC_NAMES.inFlight, { provider: 'fcm' })), 0);

    // Last success: the latest of the workers', never a sum (a sum of timestamps would be decades ahead).
    const lastSuccess = samples.get(keyOf(METRIC_NAMES.lastSuccess, { provider: 'fcm' })) as number;
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 120, `last success ${lastSuccess} is a recent Unix time`);

    assert.equal(samples.get(keyOf(METRIC_NAMES.info, { version: VERSION })), 1);
    assert.equal(samples.get(keyOf(METRIC_NAMES.receipts, { provider: 'expo', app: APP, outcome: 'delivered' })), 7);
    assert.equal(
      samples.get(
        keyOf(METRIC_NAMES.receipts, { provider: 'expo', app: APP, outcome: 'failed', error_type: 'unregistered' }),
      ),
      1,
    );
    assert.match(text, /^# TYPE push_request_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE push_messages_total counter$/m);
  });

  it('follows the workers: released calls leave in-flight and count as accepted', async () => {
    const released = Promise.all(workers.map((worker) => nextReport(worker, 'push-test:released')));
    for (const worker of workers) worker.send({ type: 'push-test:release' });
    const reports = (await released).map((report) => report.metrics as JsonMetric[]);
    const { status, text, samples } = await scrape(server);
    assert.equal(status, 200, text);
    assertAggregated(samples, reports);
    assert.deepEqual(
      new Map([...samples].filter(([key]) => key.startsWith(`${METRIC_NAMES.messages}{`))),
      expectedMessages(true),
    );
    assert.equal(samples.get(keyOf(METRIC_NAMES.inFlight, { provider: 'fcm', app: APP })), 0);
    assert.equal(samples.get(keyOf(METRIC_NAMES.inFlight, { provider: 'apns' })), 0);
    assert.equal(
      samples.get(
        keyOf(`${METRIC_NAMES.duration}_count`, { provider: 'fcm', app: APP, operation: 'send', outcome: 'success' }),
      ),
      7 + 3,
    );
  });

  it('is the same hardened server: GET and HEAD only, 404 elsewhere, /healthz counts workers', async () => {
    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(head.headers.get('cache-control'), 'no-store');
    assert.equal(await head.text(), '');
    for (const path of ['/metrics', '/healthz']) {
      const post = await fetch(`${server.url}${path}`, { method: 'POST' });
      assert.equal(post.status, 405, path);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
    }
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), {
      status: 'ok',
      workers: MIXES.length,
      problems: [],
    });
  });

  it('requires auth when configured', async () => {
    const bearerToken = 'cluster-scrape-secret-0123';
    const secured = await startClusterMetricsServer({ port: 0, auth: { bearerToken } });
    servers.push(secured);
    assert.equal((await fetch(`${secured.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${secured.url}/healthz`)).status, 401);
    const { status, samples } = await scrape(secured, { headers: { authorization: `Bearer ${bearerToken}` } });
    assert.equal(status, 200);
    assert.equal(samples.get(keyOf(METRIC_NAMES.info, { version: VERSION })), 1);
  });

  it('refuses to start in a worker', async () => {
    const worker = fork({ PUSH_TEST_MODE: 'start-server' });
    try {
      const answer = await nextReport(worker, 'push-test:ready').then(
        () => assert.fail('expected an error report'),
        (error: Error) => error.message,
      );
      assert.match(answer, /startClusterMetricsServer\(\) runs in the cluster primary/);
    } finally {
      await stop(worker);
    }
  });

  it('answers 500 (and reports it on /healthz) while a connected worker does not answer, 200 once it is gone', async () => {
    // A worker that never set up prom-client's cluster support: prom-client waits 5 s for it, then gives up.
    const silent = fork({
      PUSH_TEST_MODE: 'no-aggregator',
      PUSH_TEST_MIX: JSON.stringify({ senders: [{ provider: 'fcm', tokens: ['ok'] }] }),
    });
    await nextReport(silent, 'push-test:ready');
    const started = Date.now();
    const failed = await scrape(server);
    assert.equal(failed.status, 500);
    assert.equal(failed.text, 'metrics collection failed; see the process diag log\n');
    assert.ok(Date.now() - started >= 4000, 'prom-client waited for the silent worker');
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as {
      status: string;
      workers: number;
      problems: { kind: string; count: number }[];
    };
    assert.equal(health.status, 'degraded');
    assert.equal(health.workers, MIXES.length + 1);
    assert.deepEqual(
      health.problems.map((p) => [p.kind, p.count]),
      [['collect', 1]],
    );

    await stop(silent);
    const recovered = await scrape(server);
    assert.equal(recovered.status, 200);
    assert.equal(recovered.samples.get(keyOf(METRIC_NAMES.info, { version: VERSION })), 1);
  });
});

describe('startClusterMetricsServer options', () => {
  it('checks its options like startMetricsServer', async () => {
    await assert.rejects(
      startClusterMetricsServer({ prot: 1 } as never),
      /startClusterMetricsServer\(options\): unknown option "prot"/,
    );
    await assert.rejects(startClusterMetricsServer(null as never), /options must be an object/);
    await assert.rejects(
      startClusterMetricsServer({ port: 70000 }),
      /options\.port must be a whole number from 0 to 65535/,
    );
    await assert.rejects(startClusterMetricsServer({ host: '' }), /options\.host must be/);
    await assert.rejects(
      startClusterMetricsServer({ auth: { bearerToken: 'short' } }),
      /options\.auth\.bearerToken must be a string of at least 16 characters/,
    );
  });

  it('serves an empty exposition when no worker is running', async () => {
    const server = await startClusterMetricsServer({ port: 0 });
    try {
      // Runs after the cluster suite stopped its workers: prom-client answers '' at once instead of waiting.
      const response = await fetch(`${server.url}/metrics`);
      assert.equal(response.status, 200);
      assert.equal((await response.text()).trim(), '');
    } finally {
      await server.close();
    }
  });
});
