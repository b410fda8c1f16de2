import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ERROR_TYPES, type ErrorType } from '../src/index.js';
import { toYaml, type YamlValue } from '../src/monitoring/alerts/yaml.js';
import { requireBinary } from './prometheus.js';

/**
 * `promtool test rules` scenarios built in TypeScript: each sender's traffic is a function of time, turned into the
 * counters a 15 s scrape would have stored; promtool then evaluates the rules every 15 s over the whole scenario.
 * Besides the exact alert_rule_test assertions a scenario carries, one deliberately failing probe reads back, from the
 * ALERTS series promtool keeps, when each alert first and last fired: that is how detection times are measured.
 */

/** Scrape and rule evaluation interval the detection targets assume, in seconds. */
export const STEP = 15;
export const JOB = 'push-sender';

export type Outcome = 'accepted' | ErrorType;
/** Messages per outcome in one scrape interval ending at t (seconds). Fractions are carried over to the next step. */
export type Traffic = (t: number) => Partial<Record<Outcome, number>>;

export interface SenderSpec {
  readonly provider: string;
  readonly app?: string;
  readonly messages: Traffic;
  /** Provider calls per step and the share of them slower than 2.5 s (the rest take 0.1–0.25 s). Default: no histogram. */
  readonly calls?: (t: number) => { readonly calls: number; readonly slow: number };
  /**
   * Invalid-token verdicts the surge guard held in the scrape interval ending at t. Given (even as `() => 0`), the
   * sender exposes push_invalid_tokens_held_total from the start, at 0, as a wrapped sender does. Default: no series.
   */
  readonly held?: (t: number) => number;
  /**
   * push_requests_in_flight at the scrape at t: calls started and not settled. Given, the sender exposes the gauge;
   * a hang is this staying above 0 while `calls` completes none. Default: no series.
   */
  readonly inFlight?: (t: number) => number;
  /**
   * Delivered receipts devices posted in the scrape interval ending at t (push_device_receipts_total{event="delivered"}).
   * Given (even as `() => 0`), the series exists from the start. Default: no series (an app that sends no receipts).
   */
  readonly delivered?: (t: number) => number;
  /**
   * Whether the sender is wrapped at t: its series exist, and it counts. False before a sender's first wrap, or after
   * a deploy that no longer wraps it (its series vanish). Default always.
   */
  readonly wrapped?: (t: number) => boolean;
  /**
   * The opt-in `group` label: each group's share of the messages and calls (summing to 1), each exposed as its own
   * series of push_messages_total and the duration histogram, as a grouped sender does. Default: no group label.
   */
  readonly groups?: Readonly<Record<string, number>>;
  /** The opt-in send-frequency gauges at the scrape at t: recipients in the last 24 h and the share over the cap. */
  readonly sendFrequency?: (t: number) => { readonly recipients: number; readonly overCap: number };
}

export interface AlertExpectation {
  readonly alertname: string;
  /** Seconds from the start. */
  readonly at: number;
  readonly alerts: ReadonlyArray<{
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
  }>;
}

export interface Scenario {
  readonly name: string;
  /** Seconds. */
  readonly duration: number;
  readonly senders: readonly SenderSpec[];
  /** The target's `up` at t: 1, 0 (scrape failing), or undefined (gone from service discovery). Default 1. */
  readonly up?: (t: number) => 0 | 1 | undefined;
  /** Whether a scraped target exposes push_telemetry_info at t. Default true. */
  readonly instrumented?: (t: number) => boolean;
  /**
   * Whether the process restarted during the scrape interval ending at t: every counter starts again from 0 with what
   * that interval sent. Pair it with `up` for the scrape the restart misses. Default never.
   */
  readonly restarted?: (t: number) => boolean;
  readonly expect?: readonly AlertExpectation[];
}

export interface Firing {
  readonly alertname: string;
  /** The alert's labels without alertname and alertstate. */
  readonly labels: Readonly<Record<string, string>>;
  /** Seconds from the start of the first and last evaluation it was firing at. */
  readonly first: number;
  readonly last: number;
  /** Evaluations it was firing at (last − first) / 15 + 1 when it never resolved in between. */
  readonly evaluations: number;
}

/** Steady traffic: `rate` messages per second, `shares` of them failing per error type, the rest accepted. */
export function steady(rate: number, shares: Partial<Record<ErrorType, number>> = {}): Traffic {
  const failed = Object.values(shares).reduce((sum, share) => sum + share, 0);
  return () => ({
    accepted: rate * STEP * (1 - failed),
    ...Object.fromEntries(Object.entries(shares).map(([type, share]) => [type, rate * STEP * share])),
  });
}

/** Traffic in phases: each `[from, traffic]` applies to the scrape intervals that end after `from` seconds. */
export function phases(...parts: ReadonlyArray<readonly [from: number, traffic: Traffic]>): Traffic {
  return (t) =>
    [...parts]
      .reverse()
      .find(([from]) => t > from)?.[1](t) ?? {};
}

const INSTANCE = 'sender-0:9464';

/**
 * Cumulative integer counters: fractions carry over so the totals are exact, and integers keep promtool's expansion
 * exact. A restart drops the count (and its carried fraction) back to what the new process counted since.
 */
function countersOf(
  steps: number,
  perStep: (t: number) => number,
  restarted: (t: number) => boolean = () => false,
): number[] {
  const values = [0];
  let exact = 0;
  for (let i = 1; i <= steps; i++) {
    if (restarted(i * STEP)) exact = 0;
    exact += perStep(i * STEP);
    values.push(Math.floor(exact + 1e-9));
  }
  return values;
}

type Sample = number | undefined;

/**
 * promtool's expanding notation for runs of equal increments (`0+150x40`). A series that stops being scraped gets a
 * stale marker, as Prometheus writes one, then `_` (no sample).
 */
function encode(values: readonly Sample[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    const start = values[i];
    if (start === undefined) {
      let n = 1;
      while (i + n < values.length && values[i + n] === undefined) n++;
      const stale = i > 0 ? ['stale'] : [];
      parts.push(...stale, ...(n - stale.length > 0 ? [`_x${n - stale.length}`] : []));
      i += n;
      continue;
    }
    const next = values[i + 1];
    const delta = next === undefined ? 0 : next - start;
    let n = 0;
    while (
      i + n + 1 < values.length &&
      values[i + n + 1] !== undefined &&
      (values[i + n + 1] as number) - (values[i + n] as number) === delta
    )
      n++;
    parts.push(n === 0 ? `${start}` : `${start}${delta < 0 ? '-' : '+'}${Math.abs(delta)}x${n}`);
    i += n + 1;
  }
  return parts.join(' ');
}

function series(labels: Record<string, string>, name: string): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

const BUCKETS = [
  '0.005',
  '0.01',
  '0.025',
  '0.05',
  '0.075',
  '0.1',
  '0.25',
  '0.5',
  '0.75',
  '1',
  '2.5',
  '5',
  '7.5',
  '10',
  '+Inf',
];

function inputSeries(scenario: Scenario): YamlValue[] {
  const steps = scenario.duration / STEP;
  const times = Array.from({ length: steps + 1 }, (_, i) => i * STEP);
  const target = { job: JOB, instance: INSTANCE };
  const up = times.map((t) => (scenario.up ?? (() => 1))(t));
  const out: YamlValue[] = [
    { series: series(target, 'up'), values: encode(up) },
    // The scrape that fails (0) or the target that vanished stores no push_telemetry_info.
    {
      series: series({ ...target, version: '0.1.0' }, 'push_telemetry_info'),
      values: encode(
        up.map((v, i) => (v === 1 && (scenario.instrumented ?? (() => true))(times[i] as number) ? 1 : undefined)),
      ),
    },
  ];
  for (const sender of scenario.senders) {
    const labels = { ...target, provider: sender.provider, ...(sender.app !== undefined && { app: sender.app }) };
    const wrapped = sender.wrapped ?? (() => true);
    const scraped = (values: number[]) =>
      encode(values.map((v, i) => (up[i] === 1 && wrapped(times[i] as number) ? v : undefined)));
    // Nothing is counted while the sender is not wrapped.
    const counters = (perStep: (t: number) => number) =>
      countersOf(steps, (t) => (wrapped(t) ? perStep(t) : 0), scenario.restarted);
    if (sender.inFlight !== undefined)
      out.push({ series: series(labels, 'push_requests_in_flight'), values: scraped(times.map(sender.inFlight)) });
    const groups: ReadonlyArray<readonly [Record<string, string>, number]> =
      sender.groups === undefined
        ? [[{}, 1]]
        : Object.entries(sender.groups).map(([group, share]) => [{ group }, share]);
    for (const [group, share] of groups) {
      for (const outcome of ['accepted', ...ERROR_TYPES] as const) {
        const values = counters((t) => (sender.messages(t)[outcome] ?? 0) * share);
        // Series that stay at 0 change no ratio; leaving them out keeps promtool's 1d and 3d ranges cheap.
        if (outcome !== 'accepted' && values.at(-1) === 0) continue;
        const outcomeLabels: Record<string, string> =
          outcome === 'accepted' ? { outcome } : { outcome: 'failed', error_type: outcome };
        out.push({
          series: series({ ...labels, ...group, ...outcomeLabels }, 'push_messages_total'),
          values: scraped(values),
        });
      }
    }
    const { sendFrequency } = sender;
    if (sendFrequency !== undefined) {
      out.push(
        {
          series: series(labels, 'push_recipient_daily_sends_count'),
          values: scraped(times.map((t) => sendFrequency(t).recipients)),
        },
        {
          series: series(labels, 'push_recipients_over_send_cap_ratio'),
          values: scraped(times.map((t) => sendFrequency(t).overCap)),
        },
      );
    }
    if (sender.held !== undefined)
      out.push({ series: series(labels, 'push_invalid_tokens_held_total'), values: scraped(counters(sender.held)) });
    if (sender.delivered !== undefined)
      out.push({
        series: series({ ...labels, event: 'delivered' }, 'push_device_receipts_total'),
        values: scraped(counters(sender.delivered)),
      });
    if (sender.calls === undefined) continue;
    const { calls } = sender;
    for (const [group, share] of groups) {
      const total = counters((t) => calls(t).calls * share);
      const slow = counters((t) => calls(t).calls * calls(t).slow * share);
      const histogram = { ...labels, operation: 'send', ...group, outcome: 'success' };
      for (const le of BUCKETS) {
        // Fast calls land in (0.1, 0.25]; slow ones in (2.5, 5].
        const values = total.map((n, i) => (Number(le) < 0.25 ? 0 : Number(le) < 5 ? n - (slow[i] as number) : n));
        out.push({
          series: series({ ...histogram, le }, 'push_request_duration_seconds_bucket'),
          values: scraped(values),
        });
      }
      out.push({ series: series(histogram, 'push_request_duration_seconds_count'), values: scraped(total) });
    }
  }
  return out;
}

const PROBE = (duration: number) => {
  const firing = `timestamp(ALERTS{alertstate="firing"})[${duration}s:${STEP}s]`;
  return ['min', 'max', 'count']
    .map((fn) => `label_replace(${fn}_over_time(${firing}), "probe", "${fn}", "", "")`)
    .join(' or ');
};

/** The promtool test file for a scenario: its exact expectations plus the probe. */
export function testFile(rulesFile: string, scenario: Scenario): string {
  return toYaml({
    rule_files: [rulesFile],
    evaluation_interval: `${STEP}s`,
    tests: [
      {
        name: scenario.name,
        interval: `${STEP}s`,
        input_series: inputSeries(scenario),
        alert_rule_test: (scenario.expect ?? []).map((e) => ({
          alertname: e.alertname,
          eval_time: `${e.at}s`,
          exp_alerts: e.alerts.map((a) => ({ exp_labels: a.labels, exp_annotations: a.annotations })),
        })),
        promql_expr_test: [{ expr: PROBE(scenario.duration), eval_time: `${scenario.duration}s`, exp_samples: [] }],
      },
    ],
  });
}

/** Parses the probe's `got:` line: `{labels} value, {labels} value`. */
function parseProbe(line: string): Firing[] {
  const byAlert = new Map<string, { labels: Record<string, string>; min?: number; max?: number; count?: number }>();
  for (const [, body, value] of line.matchAll(/\{([^}]*)\} (\S+?)(?=, \{|$)/g)) {
    const labels: Record<string, string> = {};
    for (const [, k, v] of (body as string).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    const { probe, alertstate: _state, ...rest } = labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = byAlert.get(key) ?? { labels: rest };
    entry[probe as 'min' | 'max' | 'count'] = Number(value);
    byAlert.set(key, entry);
  }
  return [...byAlert.values()].map(({ labels: { alertname, ...labels }, min, max, count }) => ({
    alertname: alertname as string,
    labels,
    first: min as number,
    last: max as number,
    evaluations: count as number,
  }));
}

export interface ScenarioResult {
  readonly firing: Firing[];
  /** promtool's output, for failure messages. */
  readonly output: string;
}

/** Runs the scenario through promtool; rejects when an exact expectation fails or promtool itself fails. */
export async function runScenario(dir: string, rulesFile: string, scenario: Scenario): Promise<ScenarioResult> {
  const promtool = requireBinary('promtool');
  const file = path.join(dir, `${scenario.name.replace(/\W+/g, '-')}.test.yaml`);
  await writeFile(file, testFile(rulesFile, scenario));
  const run = await new Promise<{ status: number | null; output: string }>((resolve) => {
    execFile(
      promtool,
      ['test', 'rules', file],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) =>
        resolve({
          status: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          output: `${stdout}${stderr}`,
        }),
    );
  });
  const { output } = run;
  // The probe passes only when nothing ever fired.
  if (run.status === 0) return { firing: [], output };
  // Every other FAILED entry is a real failure: alert_rule_test entries start with "alertname:", expression tests with "expr:".
  const failures = output
    .split('\n')
    .filter((line) => /^\s+(alertname:|expr:)/.test(line) && !line.includes('label_replace(min_over_time'));
  const got = output.split('\n').find((line) => line.trim().startsWith('got:') && line.includes('probe='));
  if (run.status === null || failures.length > 0 || got === undefined)
    throw new Error(`promtool test rules ${file} (scenario "${scenario.name}"):\n${output.slice(0, 20_000)}`);
  return { firing: parseProbe(got.trim().replace(/^got: /, '')), output };
}

/** Firings of one alert, optionally narrowed by labels. */
export function firings(result: ScenarioResult, alertname: string, labels: Record<string, string> = {}): Firing[] {
  return result.firing.filter(
    (f) => f.alertname === alertname && Object.entries(labels).every(([k, v]) => f.labels[k] === v),
  );
}
