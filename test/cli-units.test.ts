import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generateAlertRules, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';
import { capHoldTimes, promDurationMs, scaleWindows } from '../src/cli/alert-rules.js';
import { loadSdk, MissingSdkError } from '../src/cli/clients/load.js';
import { helpText, parseDuration, parseFlags, UsageError, type CommandSpec } from '../src/cli/args.js';
import { quantile, type ProviderRow } from '../src/cli/live-stats.js';
import { LiveView, senderState, type ViewState } from '../src/cli/live-view.js';
import { demoRouting, minimalRouting } from '../src/cli/routing.js';
import { describeRules, SCENARIOS, Timeline } from '../src/cli/scenarios.js';
import { TokenStore } from '../src/cli/tokens.js';
import { Traffic } from '../src/cli/traffic.js';
import { DURATION_BUCKETS } from '../src/index.js';
import type { Simulator } from '../src/simulator/index.js';
import { requireBinary } from './prometheus.js';

/** The CLI's pure parts: flag parsing, rule and routing rewriting, the table's quantile, scenario timelines. */

const SPEC: CommandSpec = {
  name: 'test',
  brief: 'b',
  summary: 's',
  flags: {
    rate: { type: 'string', value: 'N', description: 'r' },
    on: { type: 'boolean', description: 'o' },
    secret: { type: 'string', description: 'x', hidden: true },
  },
};

describe('parseFlags', () => {
  it('reads --flag value, --flag=value and booleans; --help and -h ask for help', () => {
    assert.deepEqual(parseFlags(SPEC, ['--rate', '5', '--on']), { rate: '5', on: true });
    assert.deepEqual(parseFlags(SPEC, ['--rate=-5']), { rate: '-5' });
    assert.deepEqual(parseFlags(SPEC, ['--rate', '-5']), { rate: '-5' }, 'a negative number is a value, not a flag');
    assert.equal(parseFlags(SPEC, ['--rate', '5', '--help']), undefined);
    assert.equal(parseFlags(SPEC, ['-h']), undefined);
  });

  it('throws a UsageError naming the flag', () => {
    const cases: ReadonlyArray<readonly [string[], RegExp]> = [
      [['--nope'], /^unknown flag --nope/],
      [['-x'], /^unknown flag -x/],
      [['--rate'], /^--rate needs a value \(--rate N\)$/],
      [['--rate', '--on'], /^--rate needs a value/],
      [['--on=1'], /^--on takes no value/],
      [['--on', '--on'], /^--on given more than once/],
      [['loose'], /^unexpected argument "loose"/],
    ];
    for (const [argv, message] of cases)
      assert.throws(
        () => parseFlags(SPEC, argv),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        argv.join(' '),
      );
  });

  it('help lists the visible flags only', () => {
    const help = helpText(SPEC);
    assert.match(help, /^Usage: push-telemetry test \[--rate N\] \[--on\]$/m);
    assert.doesNotMatch(help, /secret/);
  });
});

describe('parseDuration', () => {
  it('takes units, compounds and plain seconds', () => {
    assert.equal(parseDuration('d', '20s'), 20_000);
    assert.equal(parseDuration('d', '1m30s'), 90_000);
    assert.equal(parseDuration('d', '500ms'), 500);
    assert.equal(parseDuration('d', '2'), 2_000);
    assert.equal(parseDuration('d', '1h'), 3_600_000);
  });
  it('refuses anything else, naming the flag', () => {
    for (const bad of ['', 's', '5 s', '5d', '-1s', '0', '1m2x'])
      assert.throws(() => parseDuration('duration', bad), /--duration must be/, bad);
  });
});

describe('capHoldTimes', () => {
  const shipped = toPrometheusRulesYaml(generateAlertRules());

  it('caps every for: above the cap and leaves expressions and shorter holds alone', () => {
    const capped = capHoldTimes(shipped, 15_000);
    const holds = [...capped.matchAll(/^\s*for: (\S+)$/gm)].map((m) => promDurationMs(m[1] as string) as number);
    assert.ok(holds.length >= 9, 'every alert has a for:');
    assert.ok(
      holds.every((ms) => ms <= 15_000),
      holds.join(','),
    );
    const exprs = (yaml: string) => [...yaml.matchAll(/expr: .*/g)].map((m) => m[0]);
    assert.deepEqual(exprs(capped), exprs(shipped));
    assert.equal(capHoldTimes('      for: 10s\n', 15_000), '      for: 10s\n');
    assert.equal(capHoldTimes('      for: 5m\n\n  - x\n', 15_000), '      for: 15s\n\n  - x\n', 'blank lines survive');
  });

  it('undefined keeps the shipped holds; group intervals are capped at 1s either way', () => {
    assert.equal(capHoldTimes(shipped, undefined), shipped.replace(/^(\s*)interval: \S+$/gm, '$1interval: 1s'));
    assert.equal(capHoldTimes('  - name: g\n    interval: 1m\n', undefined), '  - name: g\n    interval: 1s\n');
  });

  it('gives promtool a valid rules file', { timeout: 20_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-rules-'));
    try {
      await writeFile(path.join(dir, 'rules.yml'), capHoldTimes(shipped, 15_000));
      const check = spawnSync(requireBinary('promtool'), ['check', 'rules', path.join(dir, 'rules.yml')], {
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('scaleWindows', () => {
  const shipped = toPrometheusRulesYaml(generateAlertRules());

  it('divides every range window, compound ones too, and nothing else', () => {
    const scaled = scaleWindows(shipped, 60);
    const windows = (yaml: string) =>
      [...yaml.matchAll(/\[(\w+)\]/g)].map((m) => promDurationMs(m[1] as string) as number);
    const before = windows(shipped);
    assert.ok(before.length > 20);
    assert.deepEqual(
      windows(scaled),
      before.map((ms) => Math.max(1_000, Math.round(ms / 60))),
    );
    const rest = (yaml: string) => yaml.replace(/\[\w+\]/g, '[]');
    assert.equal(rest(scaled), rest(shipped), 'thresholds, for: and annotations unchanged');
    assert.equal(scaleWindows('rate(x[2h45m]) offset 1h', 60), 'rate(x[165s]) offset 60s');
    assert.equal(
      scaleWindows('max_over_time(x[5m:1m]) and y[30m:]', 240, 250),
      'max_over_time(x[1250ms:250ms]) and y[7500ms:]',
    );
    assert.equal(scaleWindows('{{ $labels.job }} [abc] [1s]', 60), '{{ $labels.job }} [abc] [1s]');
    assert.throws(() => scaleWindows('', 0.5), /factor must be >= 1/);
  });

  it('gives promtool a valid rules file', { timeout: 20_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-rules-'));
    try {
      await writeFile(path.join(dir, 'rules.yml'), capHoldTimes(scaleWindows(shipped, 60), 15_000));
      const check = spawnSync(requireBinary('promtool'), ['check', 'rules', path.join(dir, 'rules.yml')], {
        encoding: 'utf8',
      });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The shape issue 4 asks for: critical → pager (PagerDuty + webhook), warning → ticket channel, inhibitions, a global block.
const EXAMPLE = `# Alertmanager routing for push-telemetry
global:
  resolve_timeout: 5m
  pagerduty_url: https://events.pagerduty.com/v2/enqueue

route:
  receiver: ticket
  group_by: [alertname, provider]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [severity="critical"]
      receiver: oncall-pager
      group_wait: 10s

receivers:
  - name: oncall-pager
    pagerduty_configs:
      - routing_key: REPLACE_ME
    webhook_configs:
      - url: https://hooks.example.com/pager
  - name: "ticket"
    slack_configs:
      - channel: '#push-alerts'
        api_url: https://hooks.slack.com/services/REPLACE/ME

inhibit_rules:
  - source_matchers: [alertname="PushProviderOutage"]
    target_matchers: [alertname=~"PushProviderErrorRateHigh|PushLatencyHigh"]
    equal: [provider]

templates:
  - /etc/alertmanager/templates/*.tmpl
`;

describe('demoRouting', () => {
  const WEBHOOK = 'http://127.0.0.1:9999/alertmanager';

  it('keeps routes and inhibitions, points every receiver at the demo webhook, shortens group timings', () => {
    const routing = demoRouting(EXAMPLE, WEBHOOK);
    assert.ok(routing);
    assert.deepEqual(routing.receivers, ['oncall-pager', 'ticket']);
    assert.match(routing.yaml, /receiver: oncall-pager/);
    assert.match(routing.yaml, /source_matchers: \[alertname="PushProviderOutage"\]/);
    assert.match(routing.yaml, /url: "http:\/\/127\.0\.0\.1:9999\/alertmanager\/oncall-pager"/);
    assert.match(routing.yaml, /url: "http:\/\/127\.0\.0\.1:9999\/alertmanager\/ticket"/);
    for (const gone of ['pagerduty', 'slack', 'hooks.example.com', 'templates', 'global:', '4h', '30s'])
      assert.ok(!routing.yaml.includes(gone), gone);
    assert.match(routing.yaml, /group_wait: 1s/);
  });

  it('gives up (undefined) on a file without receivers or routes', () => {
    assert.equal(demoRouting('route:\n  receiver: x\n', WEBHOOK), undefined);
    assert.equal(demoRouting('receivers:\n  - name: x\n', WEBHOOK), undefined);
  });

  it('produces configs amtool accepts', { timeout: 20_000 }, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-routing-'));
    try {
      for (const [name, yaml] of [
        ['example', demoRouting(EXAMPLE, WEBHOOK)?.yaml],
        ['minimal', minimalRouting(WEBHOOK).yaml],
      ] as const) {
        const file = path.join(dir, `${name}.yml`);
        await writeFile(file, yaml ?? '');
        const check = spawnSync(requireBinary('amtool'), ['check-config', file], { encoding: 'utf8' });
        assert.equal(check.status, 0, `${name}: ${check.stdout}${check.stderr}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("quantile (the table's p95)", () => {
  const buckets = (counts: Record<number, number>) => {
    let cumulative = 0;
    return [...DURATION_BUCKETS, Infinity].map((le) => (cumulative += counts[le] ?? 0));
  };
  it('interpolates within the bucket like histogram_quantile', () => {
    assert.equal(quantile(0.95, buckets({})), undefined);
    assert.ok(Math.abs((quantile(0.5, buckets({ 0.1: 10 })) as number) - 0.0875) < 1e-12);
    assert.equal(quantile(0.95, buckets({ 0.005: 95, 5: 5 })), 0.005);
    assert.equal(
      quantile(0.99, buckets({ 0.005: 90, [Infinity]: 10 })),
      10,
      'the +Inf bucket answers the last finite bound',
    );
  });
});

describe('scenarios', () => {
  function fakeSimulator() {
    const applied: Record<string, unknown[]> = {};
    const dropped: string[] = [];
    const simulator = {
      fake: (provider: string) => ({
        faults: {
          set: (settings: unknown) => (applied[provider] ??= []).push(settings),
          dropHanging: () => void dropped.push(provider),
        },
      }),
    } as unknown as Simulator;
    return { simulator, applied, dropped };
  }

  it('every scenario starts healthy and every phase is in time order', () => {
    for (const scenario of SCENARIOS) {
      assert.deepEqual(scenario.phases[0]?.faults, {}, scenario.name);
      assert.equal(scenario.phases[0]?.at, 0);
      scenario.phases.forEach((phase, i) =>
        assert.ok(i === 0 || phase.at > (scenario.phases[i - 1]?.at ?? 0), `${scenario.name} phase ${i}`),
      );
    }
  });

  it('fcm-outage: healthy, then 503 for FCM only at 10 s, recovered after 3 minutes, and again', () => {
    const scenario = SCENARIOS.find((s) => s.name === 'fcm-outage');
    assert.ok(scenario);
    const { simulator, applied } = fakeSimulator();
    const phases: string[] = [];
    const timeline = new Timeline(scenario, simulator, (phase) => phases.push(phase.label));
    timeline.advance(0);
    timeline.advance(9_999);
    assert.equal(describeRules(timeline.activeRules('fcm')), '-');
    timeline.advance(10_000);
    assert.equal(describeRules(timeline.activeRules('fcm')), 'provider_unavailable 100%');
    assert.equal(describeRules(timeline.activeRules('apns')), '-');
    assert.deepEqual(applied.fcm?.at(-1), { rules: [{ fault: 'provider_unavailable' }], latencyMs: 25 });
    timeline.advance(190_000);
    assert.equal(describeRules(timeline.activeRules('fcm')), '-');
    timeline.advance((scenario.loopMs as number) + 10_000);
    assert.equal(describeRules(timeline.activeRules('fcm')), 'provider_unavailable 100%', 'the timeline loops');
    assert.deepEqual(
      phases.map((label) => label.split(':')[0]),
      ['all providers healthy', 'FCM outage', 'FCM recovered', 'FCM outage'],
    );
  });

  it('fcm-hang: FCM hangs at 10 s with no client timeout; when it recovers it drops what it held, and the others never hang', () => {
    const scenario = SCENARIOS.find((s) => s.name === 'fcm-hang');
    assert.ok(scenario);
    assert.deepEqual(scenario.clientTimeoutMs, { fcm: 0 });
    assert.equal(scenario.alertWindowScale, undefined, "real windows: the hang outlasts PushProviderHung's 5 minutes");
    const { simulator, dropped } = fakeSimulator();
    const timeline = new Timeline(scenario, simulator, () => undefined);
    timeline.advance(0);
    dropped.length = 0;
    timeline.advance(10_000);
    assert.equal(describeRules(timeline.activeRules('fcm')), 'hang 100%');
    assert.deepEqual(dropped, ['apns', 'webpush', 'expo', 'sns'], 'a provider that is not hanging holds nothing');
    const recovery = scenario.phases[2]?.at as number;
    assert.ok(
      recovery - 10_000 >= 5 * 60_000 + 60_000,
      'the hang outlasts the 5 min window, the capped for: and a margin',
    );
    dropped.length = 0;
    timeline.advance(recovery);
    assert.equal(describeRules(timeline.activeRules('fcm')), '-');
    assert.ok(dropped.includes('fcm'), 'FCM drops the requests it held when it recovers');
    assert.equal(timeline.stalled, false);
  });

  it('stall: the sender stops after a steady warm-up, with windows scaled so PushSendingStalled can page, then resumes', () => {
    const scenario = SCENARIOS.find((s) => s.name === 'stall');
    assert.ok(scenario);
    const { simulator } = fakeSimulator();
    const stalls: boolean[] = [];
    const timeline = new Timeline(scenario, simulator, (phase) => stalls.push(phase.stalled === true));
    const [, stall, resumed] = scenario.phases as [unknown, { at: number }, { at: number }];
    const scale = scenario.alertWindowScale as number;
    // Steady means 3 h of history at the floor; silence means the 5m rate at 0 for 15m; the demo caps for: at 15 s.
    assert.ok(stall.at > (3 * 3_600_000) / scale + 10_000, `warm-up ${stall.at} ms covers 3h/${scale}`);
    assert.ok(
      resumed.at - stall.at > (20 * 60_000) / scale + 15_000 + 30_000,
      'the stall outlasts the silence, the capped for: and a margin',
    );
    timeline.advance(0);
    assert.equal(timeline.stalled, false);
    timeline.advance(stall.at);
    assert.equal(timeline.stalled, true);
    for (const provider of ['fcm', 'apns', 'webpush', 'expo', 'sns'] as const)
      assert.equal(describeRules(timeline.activeRules(provider)), '-', 'no provider fault');
    timeline.advance(resumed.at);
    assert.equal(timeline.stalled, false);
    timeline.advance((scenario.loopMs as number) + stall.at);
    assert.deepEqual(stalls, [false, true, false, true], 'and again, after the loop');
  });

  it('mixed goes through every incident', () => {
    const mixed = SCENARIOS.find((s) => s.name === 'mixed');
    const labels = mixed?.phases.map((p) => p.label).join('\n') ?? '';
    for (const incident of ['FCM outage', 'ExpiredProviderToken', '429', 'bad deploy', 'token churn'])
      assert.match(labels, new RegExp(incident));
  });
});

describe('loadSdk', () => {
  it('turns a missing SDK into an instruction naming it', async () => {
    const specifier = '@example/not-installed-sdk';
    await assert.rejects(
      loadSdk(specifier, () => import(specifier)),
      (error: unknown) =>
        error instanceof MissingSdkError &&
        /@example\/not-installed-sdk is not installed/.test(error.message) &&
        /npm install --save-dev firebase-admin/.test(error.message),
    );
  });
  it('lets any other import failure through as it is', async () => {
    const broken = new Error('boom');
    await assert.rejects(
      loadSdk('web-push', () => Promise.reject(broken)),
      (error: unknown) => error === broken,
    );
  });
});

describe('TokenStore', () => {
  it('hands tokens out round-robin and replaces a pruned one', () => {
    const store = new TokenStore(3);
    const [a, b, c] = store.take('fcm', 3);
    assert.deepEqual(store.take('fcm', 1), [a]);
    store.prune('fcm', b as string);
    store.prune('fcm', 'not-ours');
    assert.equal(store.pruned('fcm'), 1);
    const next = store.take('fcm', 2);
    assert.notEqual(next[0], b);
    assert.equal(next[1], c);
    assert.match(store.take('expo', 1)[0] as string, /^ExponentPushToken\[.+\]$/);
    assert.match(store.take('apns', 1)[0] as string, /^[0-9a-f]{64}$/);
  });
});

describe('Traffic', () => {
  it('sends nothing while paused, owes nothing for it, and keeps other providers going while one hangs', async () => {
    const sent: Array<{ provider: string; count: number }> = [];
    const hung: Array<() => void> = [];
    const traffic = new Traffic({
      rate: 100,
      tokens: new TokenStore(10),
      send: (provider, tokens) => {
        sent.push({ provider, count: tokens.length });
        // FCM never answers: the traffic loop must not wait for it.
        return provider === 'fcm'
          ? new Promise((resolve) => hung.push(() => resolve({ accepted: tokens.length, failed: [] })))
          : Promise.resolve({ accepted: tokens.length, failed: [] });
      },
    });
    traffic.start();
    await new Promise((resolve) => setTimeout(resolve, 550));
    const perProvider = (provider: string) =>
      sent.filter((s) => s.provider === provider).reduce((sum, s) => sum + s.count, 0);
    assert.ok(
      perProvider('fcm') >= 8 && perProvider('apns') >= 8,
      `fcm ${perProvider('fcm')}, apns ${perProvider('apns')}`,
    );
    assert.ok(hung.length >= 4, 'FCM calls left in flight while new ones go out');

    traffic.paused = true;
    const atPause = sent.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(sent.length, atPause, 'nothing sent while paused');
    traffic.paused = false;
    await new Promise((resolve) => setTimeout(resolve, 250));
    const burst = sent.slice(atPause).reduce((sum, s) => sum + s.count, 0);
    assert.ok(burst <= 40, `resumes at its rate, without catching up: ${burst} messages in 250 ms at 100/s`);
    for (const resolve of hung) resolve();
    await traffic.stop(1_000);
  });
});

describe('LiveView', () => {
  const row = (provider: ProviderRow['provider'], extra: Partial<ProviderRow> = {}): ProviderRow => ({
    provider,
    perSecond: 10,
    acceptance: 1,
    topErrors: [],
    p95: 0.05,
    inFlight: 0,
    stuck: false,
    totalAccepted: 100,
    totalFailed: 0,
    ...extra,
  });
  const state = (rows: ProviderRow[], stalled: boolean): ViewState => ({
    elapsedMs: 61_000,
    header: ['push-telemetry demo'],
    phase: stalled ? 'sender stalled' : 'FCM hung',
    rows,
    faults: { fcm: stalled ? '-' : 'hang 100%', apns: '-', webpush: '-', expo: '-', sns: '-' },
    pruned: { fcm: 0, apns: 0, webpush: 0, expo: 0, sns: 0 },
    stalled,
  });
  function render(view: ViewState, tty: boolean): string {
    let text = '';
    new LiveView({
      isTTY: tty,
      columns: 200,
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WriteStream).render(view);
    return text;
  }

  it('shows in flight and a hung provider: calls in flight, none completing', () => {
    const rows = [
      row('fcm', { perSecond: 0, acceptance: undefined, p95: undefined, inFlight: 120, stuck: true }),
      row('apns'),
    ];
    assert.equal(senderState(rows[0] as ProviderRow, false), 'hung');
    const plain = render(state(rows, false), false);
    assert.match(
      plain,
      /^\[01:01\] fcm +0\.0 msg\/s +accepted +- +p95 +- +in flight 120 +hung +errors - +fault hang 100%$/m,
    );
    assert.match(
      plain,
      /^\[01:01\] apns +10\.0 msg\/s +accepted 100\.0% +p95 +50 ms +in flight +0 +sending +errors - +fault -$/m,
    );
    const table = render(state(rows, false), true);
    assert.match(table, /provider +msg\/s +accepted +top errors +p95 +in flight +sender +pruned +fault now/);
    assert.match(table, /fcm +0\.0 +- +- +- +120 +hung +0 +hang 100%/);
  });

  it('shows a stalled sender on every row', () => {
    const rows = [row('fcm', { perSecond: 0 }), row('sns', { perSecond: 0 })];
    const plain = render(state(rows, true), false);
    assert.equal(plain.match(/ in flight +0 +stalled +errors - +fault -$/gm)?.length, 2, plain);
    assert.match(render(state(rows, true), true), /sns +0\.0 +100\.0% +- +50 ms +0 +stalled +0 +-/);
  });
});
