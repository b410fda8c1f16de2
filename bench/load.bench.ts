/**
 * Load proof: the demo's sender service under sustained load on loopback, with and without push-telemetry, in one
 * run; then scrape time and memory at the full label space of 20 apps × 5 providers. Run: npm run bench:load
 * (about 3 minutes on 2 vCPUs). Method and results: docs/performance.md.
 *
 * - Two copies of the demo's service (createClients + startSenderService, wired as `push-telemetry demo` wires them,
 *   onInvalidToken pruning a TokenStore), each in a process of its own (bench/load-service.ts): one with the SDK
 *   clients instrumented, one with them bare (`instrument: false`). Both send to the same endpoints, which run here
 *   with the load generator, so a service process spends its CPU on the service alone, as it would with the
 *   provider across the network.
 * - autocannon drives POST /send to Expo: expo-server-sdk against bench/expo-endpoint.ts, which answers like the
 *   simulator's fake Expo without keeping receipts (see that file for why). One token per request, then a 50-token
 *   batch per request; closed loop, a fixed number of connections.
 * - Before anything is timed, FILL_MESSAGES go through each service, so every bounded cache on the send path is at
 *   its steady-state size, as in a service that has been up for a while.
 * - Rounds are interleaved, the order flipping every round, so machine noise lands on both variants. Each figure is
 *   taken over a window that skips the first half second of a round (connections opening); a ratio is the median of
 *   the per-round ratios, the two runs of a round being seconds apart.
 * - After the rounds of a scenario, one more run of the instrumented service under the same load times /metrics every
 *   200 ms, alternately over HTTP, as a scraper sees it (queued behind the load), and in process (the handler alone,
 *   on the busy event loop). The paired rounds are not scraped (see SCRAPE_EVERY_MS).
 *
 * A MISS is reported, not fatal: the exit code is non-zero only on an exception, which includes a sanity check
 * failing (a request not answered 200, a bare service that recorded something, an instrumented one whose count does
 * not match what was sent). Every server and process started here is stopped before the bench returns.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { DEMO_PROVIDERS, type DemoProvider } from '../src/cli/clients/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { startExpoEndpoint, type ExpoEndpoint } from './expo-endpoint.js';
import { median } from './harness.js';
import { info, packageVersion, targets, type TargetLine } from './report.js';
import { httpScrape, type LabelSpaceResult } from './label-space.js';
import { ServiceProcess, withTimeout } from './service-process.js';
import type { Scrape } from './load-service.js';

// ---------------------------------------------------------------------------------------------------------------
// Settings: about 3 minutes in all on 2 vCPUs.

const PROVIDER: DemoProvider = 'expo';
const ROUNDS = 8;
const ROUND_SECONDS = 3.5;
const WARMUP_SECONDS = 2;
/** Messages sent through each service before anything is timed (see fill()). */
const FILL_MESSAGES = 150_000;
/** Skipped at the start of each round: connections opening, the first requests of a cold socket. */
const SKIP_MS = 500;
/** Between two rounds, so requests still in flight from one (autocannon drops its sockets) do not land in the next. */
const PAUSE_MS = 300;
/**
 * /metrics is timed in a run of its own per scenario, after the paired rounds: a scrape every 200 ms, alternately over
 * HTTP and in process. The paired rounds are not scraped, as at this rate scrapes would weigh on the instrumented
 * service's tail 75 times more than at Prometheus's default 15 s interval.
 */
const SCRAPE_EVERY_MS = 200;
const SCRAPE_RUN_SECONDS = 5;

/**
 * The demo's services prune invalid tokens (onInvalidToken), which makes the Expo adapter remember ticket ids.
 * LOAD_BENCH_PRUNE=off builds both without it: an ablation, not the demo's configuration.
 */
const PRUNE = process.env.LOAD_BENCH_PRUNE !== 'off';

const THROUGHPUT_RATIO_MIN = 0.97;
const P99_RATIO_MAX = 1.05;

interface Scenario {
  readonly name: string;
  readonly tokens: number;
  readonly connections: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: '1 token per request', tokens: 1, connections: 16 },
  { name: '50-token batch per request', tokens: 50, connections: 8 },
];

const NOTIFICATION = { title: 'Your order shipped', body: 'Order #1234 is on its way', data: { kind: 'order' } };

function bodyFor(scenario: Scenario): string {
  const tokens = Array.from(
    { length: scenario.tokens },
    (_, i) => `ExponentPushToken[load-${String(i).padStart(4, '0')}]`,
  );
  return JSON.stringify({ provider: PROVIDER, tokens, notification: NOTIFICATION });
}

// ---------------------------------------------------------------------------------------------------------------
// One run: a service under load for some seconds, or for some requests

interface Run {
  /** 200s over the whole run, as autocannon counted them. */
  readonly answered: number;
  /** Wall time of the whole run, in s. */
  readonly seconds: number;
  /** Requests per second over the window. */
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  /** Every latency in the window, ascending, in ms. */
  readonly latencies: Float64Array;
  /** The service process's CPU time (user + system) per answered request, in µs. */
  readonly cpuMicros: number;
  /** CPU time over wall time, in % of one core: the service process, and this one (autocannon and the endpoints). */
  readonly serviceCpu: number;
  readonly driverCpu: number;
  readonly httpScrapes: readonly number[];
  readonly inProcessScrapes: readonly Scrape[];
  readonly scrapeBytes: number;
}

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

const scrapeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

type Length = { readonly seconds: number } | { readonly requests: number };

async function drive(service: ServiceProcess, scenario: Scenario, length: Length, scrape = false): Promise<Run> {
  const before = await service.usage();
  const driverBefore = process.cpuUsage();
  const latencies: number[] = [];
  // Failures are kept as values until the run is over, then thrown: a rejection must not go unhandled meanwhile.
  const httpScrapes: Promise<{ ms: number; body: string } | Error>[] = [];
  const inProcessScrapes: Promise<Scrape | Error>[] = [];
  const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));
  const timers: NodeJS.Timeout[] = [];

  const start = performance.now();
  const windowStart = start + SKIP_MS;
  // autocannon stops on a 1 s tick that may come up to a second after `duration`; the window ends before either.
  const windowEnd = 'seconds' in length ? start + length.seconds * 1000 - 100 : Number.POSITIVE_INFINITY;
  const result = await new Promise<Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${service.url}/send`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodyFor(scenario),
        connections: scenario.connections,
        ...('seconds' in length ? { duration: length.seconds } : { amount: length.requests }),
        timeout: 10,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      const now = performance.now();
      if (status === 200 && now >= windowStart && now < windowEnd) latencies.push(ms);
    });
    // Bounded whatever autocannon does: stopped if a timed run outlives its duration by far, or a counted one takes over a minute.
    timers.push(setTimeout(() => instance.stop(), 'seconds' in length ? length.seconds * 1000 + 15_000 : 60_000));
    if (scrape && 'seconds' in length) {
      for (let at = SKIP_MS, i = 0; at < length.seconds * 1000 - 500; at += SCRAPE_EVERY_MS, i++) {
        const scrapeOnce =
          i % 2 === 0
            ? () => httpScrapes.push(httpScrape(`${service.url}/metrics`, scrapeAgent).catch(asError))
            : () => inProcessScrapes.push(service.scrapeInProcess().catch(asError));
        timers.push(setTimeout(scrapeOnce, at));
      }
    }
  }).finally(() => timers.forEach(clearTimeout));
  const after = await service.usage();
  const driver = process.cpuUsage(driverBefore);
  const wall = performance.now() - start;
  const scrapes = await Promise.all(httpScrapes);
  const inProcess = await Promise.all(inProcessScrapes);
  for (const outcome of [...scrapes, ...inProcess]) if (outcome instanceof Error) throw outcome;

  service.tally(result['2xx'] * scenario.tokens, scenario.connections * scenario.tokens);
  if (result.errors + result.timeouts + result.non2xx + result.resets > 0 || result['2xx'] === 0) {
    throw new Error(
      `${service.name} service, ${scenario.name}: ${result['2xx']} answered 200, ${result.non2xx} other statuses, ` +
        `${result.errors} errors, ${result.timeouts} timeouts, ${result.resets} resets`,
    );
  }
  for (const s of inProcess as Scrape[])
    if (s.status !== 200) throw new Error(`in-process scrape of the ${service.name} service answered ${s.status}`);
  const sorted = Float64Array.from(latencies).sort();
  const windowSeconds = (Math.min(windowEnd, start + wall) - windowStart) / 1000;
  return {
    answered: result['2xx'],
    seconds: wall / 1000,
    throughput: latencies.length / windowSeconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    latencies: sorted,
    cpuMicros: (after.cpuMicros - before.cpuMicros) / result['2xx'],
    serviceCpu: (100 * (after.cpuMicros - before.cpuMicros)) / (wall * 1000),
    driverCpu: (100 * (driver.user + driver.system)) / (wall * 1000),
    httpScrapes: (scrapes as { ms: number; body: string }[]).map((s) => s.ms),
    inProcessScrapes: inProcess as Scrape[],
    scrapeBytes: scrapes.length > 0 ? Buffer.byteLength((scrapes[scrapes.length - 1] as { body: string }).body) : 0,
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends FILL_MESSAGES through a service before anything is timed, so every bounded cache on the send path is at the
 * size it keeps in a service that has been up for a while (the Expo adapter remembers the last 100,000 ticket ids).
 */
async function fill(service: ServiceProcess): Promise<Run> {
  const scenario = SCENARIOS.find((candidate) => candidate.tokens > 1) as Scenario;
  const run = await drive(service, scenario, { requests: Math.ceil(FILL_MESSAGES / scenario.tokens) });
  await pause(PAUSE_MS);
  return run;
}

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly instrumented: readonly Run[];
  readonly bare: readonly Run[];
  /** The instrumented service under the same load, scraped every SCRAPE_EVERY_MS. */
  readonly scraped: Run;
}

async function runScenario(
  scenario: Scenario,
  instrumented: ServiceProcess,
  bare: ServiceProcess,
  progress: (text: string) => void,
): Promise<ScenarioResult> {
  // Warm-up, untimed: the JIT on this request shape, the sockets to the fake.
  for (const service of [instrumented, bare]) {
    progress(`${scenario.name}: warm-up, ${service.name}`);
    await drive(service, scenario, { seconds: WARMUP_SECONDS });
    await pause(PAUSE_MS);
  }
  const runs = { instrumented: [] as Run[], bare: [] as Run[] };
  for (let round = 0; round < ROUNDS; round++) {
    // The order flips every round, so neither variant always runs first (or right after the other).
    const order = round % 2 === 0 ? [instrumented, bare] : [bare, instrumented];
    for (const service of order) {
      progress(`${scenario.name}: round ${round + 1}/${ROUNDS}, ${service.name}`);
      runs[service === bare ? 'bare' : 'instrumented'].push(await drive(service, scenario, { seconds: ROUND_SECONDS }));
      await pause(PAUSE_MS);
    }
  }
  progress(`${scenario.name}: /metrics under load`);
  const scraped = await drive(instrumented, scenario, { seconds: SCRAPE_RUN_SECONDS }, true);
  await pause(PAUSE_MS);
  return { scenario, ...runs, scraped };
}

// ---------------------------------------------------------------------------------------------------------------
// Sanity: each service did the work, and only the instrumented one recorded it

async function get(url: string): Promise<string> {
  const { body } = await httpScrape(url, scrapeAgent);
  return body;
}

/** One request of each scenario to each service, answered in full before any load. */
async function smokeTest(services: readonly ServiceProcess[]): Promise<void> {
  for (const service of services) {
    for (const scenario of SCENARIOS) {
      const response = await fetch(`${service.url}/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodyFor(scenario),
      });
      const answer = (await response.json()) as { accepted?: number; failed?: unknown[] };
      if (response.status !== 200 || answer.accepted !== scenario.tokens || answer.failed?.length !== 0) {
        throw new Error(
          `${service.name} service: ${scenario.name} came back ${response.status} ${JSON.stringify(answer)}, not ${scenario.tokens} accepted`,
        );
      }
      service.tally(scenario.tokens, 0);
    }
  }
}

const ACCEPTED = new RegExp(
  `^push_messages_total\\{provider="${PROVIDER}",app="[^"]*",outcome="accepted"\\} (\\S+)$`,
  'm',
);

async function verify(instrumented: ServiceProcess, bare: ServiceProcess, endpoint: ExpoEndpoint): Promise<string[]> {
  // Requests in flight when autocannon drops its sockets at the end of a run are served, and counted, unanswered.
  const inRange = (value: number, low: number, slack: number) => value >= low && value <= low + slack;
  const counted = Number(ACCEPTED.exec(await get(`${instrumented.url}/metrics`))?.[1] ?? Number.NaN);
  if (!inRange(counted, instrumented.messages, instrumented.slack)) {
    throw new Error(
      `the instrumented service counted ${counted} accepted messages; ${instrumented.messages} to ${instrumented.messages + instrumented.slack} were sent`,
    );
  }
  const sent = instrumented.messages + bare.messages;
  if (!inRange(endpoint.accepted(), sent, instrumented.slack + bare.slack)) {
    throw new Error(
      `the Expo endpoint accepted ${endpoint.accepted()} messages; ${sent} to ${sent + instrumented.slack + bare.slack} were sent`,
    );
  }
  if (/^push_messages_total\{/m.test(await get(`${bare.url}/metrics`)))
    throw new Error('the bare service recorded push_messages_total: it is not bare');
  const health = JSON.parse(await get(`${instrumented.url}/healthz`)) as { status: string; problems: unknown[] };
  if (health.status !== 'ok') throw new Error(`instrumented service health: ${JSON.stringify(health)}`);
  return [
    'every request answered 200',
    `the instrumented service counted ${counted} accepted messages (${instrumented.messages} answered + up to ${instrumented.slack} in flight at run ends)`,
    `the Expo endpoint took ${endpoint.accepted()} from both`,
    'the bare service recorded none',
    'telemetry health ok',
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The full label space, in a process of its own

const LABEL_SPACE = fileURLToPath(new URL('./label-space.ts', import.meta.url));

function labelSpace(): Promise<LabelSpaceResult> {
  const child = fork(LABEL_SPACE, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const result = new Promise<LabelSpaceResult>((resolve, reject) => {
    child.once('message', (message: LabelSpaceResult) => resolve(message));
    void exited.then((code) => reject(new Error(`label-space process exited with ${code} without a result`)));
  });
  return withTimeout(result, 60_000, 'the label-space process').finally(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await exited;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const fixed = (value: number, digits: number) => value.toFixed(digits);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Median of per-round ratios, and their range. */
function ratio(
  instrumented: readonly Run[],
  bare: readonly Run[],
  pick: (run: Run) => number,
): { median: number; min: number; max: number } {
  const ratios = instrumented.map((run, i) => pick(run) / pick(bare[i] as Run));
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

function scenarioTable(r: ScenarioResult): string {
  const rows: [string, (run: Run) => number, number][] = [
    ['requests/s', (run) => run.throughput, 0],
    ['p50 latency, ms', (run) => run.p50, 2],
    ['p99 latency, ms', (run) => run.p99, 2],
    ['service CPU per request, µs', (run) => run.cpuMicros, 0],
    ['service CPU, % of a core', (run) => run.serviceCpu, 0],
    ['autocannon + endpoints CPU, % of a core', (run) => run.driverCpu, 0],
  ];
  const head = `POST /send, ${r.scenario.name}`;
  const width = Math.max(head.length, ...rows.map(([label]) => label.length));
  const header = `${head.padEnd(width)}  ${'bare'.padStart(9)}  ${'instrumented'.padStart(12)}  ${'instr/bare'.padStart(10)}  per-round range`;
  const lines = rows.map(([label, pick, digits]) => {
    const b = median(r.bare.map(pick));
    const i = median(r.instrumented.map(pick));
    const q = ratio(r.instrumented, r.bare, pick);
    return `${label.padEnd(width)}  ${fixed(b, digits).padStart(9)}  ${fixed(i, digits).padStart(12)}  ${fixed(q.median, 3).padStart(10)}  ${fixed(q.min, 3)}–${fixed(q.max, 3)}`;
  });
  const note = `${r.scenario.connections} connections, ${ROUNDS} rounds × ${ROUND_SECONDS} s per variant (window ${fixed((ROUND_SECONDS * 1000 - SKIP_MS - 100) / 1000, 1)} s); medians of rounds`;
  return [header, '-'.repeat(header.length), ...lines, note].join('\n');
}

function scrapeSummary(results: readonly ScenarioResult[]): string[] {
  return results.map((r) => {
    const overHttp = [...r.scraped.httpScrapes].sort((x, y) => x - y);
    const inProcess = r.scraped.inProcessScrapes.map((s) => s.ms).sort((x, y) => x - y);
    const bytes = r.scraped.scrapeBytes;
    return (
      `/metrics under load (${r.scenario.name}): over HTTP median ${fixed(median(overHttp), 2)} ms, max ${fixed(overHttp[overHttp.length - 1] as number, 2)} ms ` +
      `(${overHttp.length} scrapes); in process median ${fixed(median(inProcess), 3)} ms, max ${fixed(inProcess[inProcess.length - 1] as number, 3)} ms ` +
      `(${inProcess.length}); ${bytes} bytes`
    );
  });
}

/** p99 of every latency of every round of a variant: steadier in the tail than one round's, but not paired. */
function pooledP99(runs: readonly Run[]): number {
  const all = new Float64Array(runs.reduce((n, run) => n + run.latencies.length, 0));
  let at = 0;
  for (const run of runs) {
    all.set(run.latencies, at);
    at += run.latencies.length;
  }
  return percentile(all.sort(), 0.99);
}

function targetLines(results: readonly ScenarioResult[], space: LabelSpaceResult): TargetLine[] {
  const lines: TargetLine[] = [];
  for (const r of results) {
    const throughput = ratio(r.instrumented, r.bare, (run) => run.throughput);
    const p99 = ratio(r.instrumented, r.bare, (run) => run.p99);
    const pooled = { bare: pooledP99(r.bare), instrumented: pooledP99(r.instrumented) };
    lines.push({
      what: `throughput ratio, ${r.scenario.name}`,
      measured: `${fixed(throughput.median, 3)} (rounds ${fixed(throughput.min, 3)}–${fixed(throughput.max, 3)})`,
      target: `≥ ${fixed(THROUGHPUT_RATIO_MIN, 2)}`,
      verdict: throughput.median >= THROUGHPUT_RATIO_MIN ? 'PASS' : 'MISS',
    });
    lines.push({
      what: `p99 latency ratio, ${r.scenario.name}`,
      measured:
        `${fixed(p99.median, 3)} (rounds ${fixed(p99.min, 3)}–${fixed(p99.max, 3)}; ${fixed(median(r.bare.map((run) => run.p99)), 2)} → ${fixed(median(r.instrumented.map((run) => run.p99)), 2)} ms; ` +
        `all rounds pooled ${fixed(pooled.bare, 2)} → ${fixed(pooled.instrumented, 2)} ms, ${fixed(pooled.instrumented / pooled.bare, 3)})`,
      target: `≤ ${fixed(P99_RATIO_MAX, 2)}`,
      verdict: p99.median <= P99_RATIO_MAX ? 'PASS' : 'MISS',
    });
  }
  for (const r of results) {
    const overHttp = r.scraped.httpScrapes;
    const inProcess = r.scraped.inProcessScrapes.map((s) => s.ms);
    lines.push(
      info(
        `/metrics under load, ${r.scenario.name}`,
        `over HTTP ${fixed(median(overHttp), 2)} ms median, in process ${fixed(median(inProcess), 3)} ms median`,
      ),
    );
  }
  lines.push(
    info(
      `scrape, ${space.apps} apps × ${space.providers} providers`,
      `in process ${fixed(space.inProcess.medianMs, 2)} ms median, over HTTP ${fixed(space.http.medianMs, 2)} ms; ${space.series} series, ${space.bytes} bytes`,
    ),
    info(
      'heap of that label space',
      `${mib(space.heap.populated - space.heap.before)} for the series, ${mib(space.heap.afterScrapes - space.heap.before)} once scraped`,
    ),
  );
  return lines;
}

function labelSpaceTable(space: LabelSpaceResult): string {
  const t = (timing: LabelSpaceResult['inProcess']) =>
    `median ${fixed(timing.medianMs, 2)} ms, p99 ${fixed(timing.p99Ms, 2)} ms, max ${fixed(timing.maxMs, 2)} ms`;
  return [
    `full label space: ${space.apps} apps × ${space.providers} providers, ${space.operations} (app, provider, operation) senders, every outcome and error type, Expo receipts`,
    `  body: ${space.series} series, ${space.bytes} bytes`,
    `  ${space.scrapes} scrapes in process (metricsHandler() with a fake req/res): ${t(space.inProcess)}`,
    `  ${space.scrapes} scrapes over loopback HTTP (keep-alive, to the last byte): ${t(space.http)}`,
    `  heap after full GC: ${mib(space.heap.before)} before, +${mib(space.heap.populated - space.heap.before)} with every series, ` +
      `+${mib(space.heap.afterScrapes - space.heap.before)} after the scrapes (the rendered-label cache); rss ${mib(space.rss)}`,
  ].join('\n');
}

const loadAverage = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

function environment(): string {
  const version = packageVersion;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [
    `node ${process.version}, ${os.cpus().length} cores (${cpu}), ${os.platform()} ${os.arch()}`,
    `autocannon ${version('autocannon')}, express ${version('express')}, expo-server-sdk ${version('expo-server-sdk')}, prom-client ${version('prom-client')}`,
    `method: the demo's sender service, instrumented and bare, one process each; POST /send to ${PROVIDER} (bench/expo-endpoint.ts);`,
    `        ${FILL_MESSAGES} messages through each first; per scenario ${WARMUP_SECONDS} s warm-up each, then ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s`,
    `        per variant, order flipped every round, then one run scraping the instrumented one every ${SCRAPE_EVERY_MS} ms; onInvalidToken ${PRUNE ? 'on, as in the demo' : 'OFF (LOAD_BENCH_PRUNE=off: an ablation, not the demo)'}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const load = loadAverage();
  console.log(environment());
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r\x1b[K${text}`) : () => undefined;

  // The other four SDK clients are created too (createClients makes all five) and pointed at the simulator; they idle.
  const others = DEMO_PROVIDERS.filter((provider) => provider !== PROVIDER);
  const simulator = await startSimulator({ providers: others });
  const services: ServiceProcess[] = [];
  let endpoint: ExpoEndpoint | undefined;
  try {
    endpoint = await startExpoEndpoint();
    const fakes = Object.fromEntries([
      ...others.map((provider) => [provider, simulator.fake(provider).url]),
      [PROVIDER, endpoint.url],
    ]) as Record<DemoProvider, string>;
    const starts = await Promise.allSettled([
      ServiceProcess.start('instrumented', true, PRUNE, fakes),
      ServiceProcess.start('bare', false, PRUNE, fakes),
    ]);
    for (const start of starts) if (start.status === 'fulfilled') services.push(start.value);
    for (const start of starts) if (start.status === 'rejected') throw start.reason;
    const [instrumented, bare] = services as [ServiceProcess, ServiceProcess];

    await smokeTest(services);
    const fills: { name: string; run: Run }[] = [];
    for (const service of services) {
      progress(`fill: ${FILL_MESSAGES} messages through the ${service.name} service`);
      fills.push({ name: service.name, run: await fill(service) });
    }
    const results: ScenarioResult[] = [];
    for (const scenario of SCENARIOS) results.push(await runScenario(scenario, instrumented, bare, progress));
    const checks = await verify(instrumented, bare, endpoint);
    const memory = await Promise.all(
      services.map(async (service) => ({ name: service.name, usage: await service.usage(true) })),
    );
    progress('full label space');
    const space = await labelSpace();
    progress('');

    console.log('');
    console.log(
      `fill (${FILL_MESSAGES} messages in ${SCENARIOS.find((scenario) => scenario.tokens > 1)?.tokens}-token requests, before the rounds): ` +
        fills
          .map(({ name, run }) => `${name} ${fixed(run.seconds, 1)} s, ${fixed(run.cpuMicros, 0)} µs CPU per request`)
          .join('; '),
    );
    console.log('');
    for (const r of results) console.log(`${scenarioTable(r)}\n`);
    for (const line of scrapeSummary(results)) console.log(line);
    console.log(
      `service memory at the end, after a full GC: ${memory.map(({ name, usage }) => `${name} heap ${mib(usage.heapUsed)}, rss ${mib(usage.rss)}`).join('; ')}`,
    );
    console.log('');
    console.log(labelSpaceTable(space));
    console.log('');
    console.log('targets (a MISS is reported, not fatal)');
    console.log(targets(targetLines(results, space)));
    console.log('');
    console.log(`checks: ${checks.join('; ')}`);
    console.log(
      `total time ${fixed((performance.now() - started) / 1000, 1)} s; load average ${load} at the start, ${loadAverage()} at the end (other processes on this machine)`,
    );
  } finally {
    scrapeAgent.destroy();
    await Promise.all(services.map((service) => service.close()));
    await endpoint?.close();
    await simulator.close();
  }
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
