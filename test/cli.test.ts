import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './cli-run.js';

/** The command line itself: --help everywhere, exit 2 with the flag named for every kind of mistake. */

const COMMANDS = ['demo', 'simulate', 'alerts', 'dashboards'] as const;

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-cli-test-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// Each case is its own process: run them side by side.
const PARALLEL = { concurrency: 6 };

describe('push-telemetry --help', PARALLEL, () => {
  it('lists every command, exit 0', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0, run.stderr);
    for (const command of COMMANDS) assert.match(run.stdout, new RegExp(`^ {2}${command} +\\S`, 'm'));
  });

  it('without a command prints the same to stderr, exit 2', async () => {
    const run = await runCli([]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /Usage: push-telemetry <command>/);
  });

  for (const command of COMMANDS) {
    it(`${command} --help and -h print its usage and every flag, exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const run = await runCli([command, flag]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`^Usage: push-telemetry ${command} `));
        assert.match(run.stdout, /^ {2}--help +show this help$/m);
        assert.equal(run.stderr, '');
      }
    });
  }

  it('demo --help names every scenario', async () => {
    const { stdout } = await runCli(['demo', '--help']);
    for (const scenario of [
      'healthy',
      'fcm-outage',
      'apns-credentials-expired',
      'webpush-rate-limited',
      'bad-deploy-payloads',
      'token-churn',
      'fcm-hang',
      'stall',
      'campaign-blast',
      'mixed',
    ]) {
      assert.match(stdout, new RegExp(`^ +${scenario} +\\S`, 'm'), scenario);
    }
  });
});

describe('bad command lines: exit 2, the flag named, nothing started', PARALLEL, () => {
  const CASES: ReadonlyArray<readonly [string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['demo', '--bogus'], /^push-telemetry demo: unknown flag --bogus/],
    [['demo', 'fcm-outage'], /unexpected argument "fcm-outage"/],
    [['demo', '--rate'], /--rate needs a value/],
    [['demo', '--rate', '--port', '1'], /--rate needs a value/],
    [['demo', '--rate', 'fast'], /--rate must be .* got "fast"/],
    [['demo', '--rate', '0'], /--rate must be .* from 0\.1 to 5000/],
    [['demo', '--duration', '20x'], /--duration must be a duration like 20s/],
    [['demo', '--duration', '0s'], /--duration must be longer than 0/],
    [['demo', '--port', '65536'], /--port must be a port number/],
    [['demo', '--port', '1.5'], /--port must be a whole port number/],
    [['demo', '--scenario', 'meltdown'], /--scenario must be one of healthy, fcm-outage, .* got "meltdown"/],
    [['demo', '--prometheus=yes'], /--prometheus takes no value/],
    [['demo', '--prometheus', '--no-prometheus'], /--prometheus and --no-prometheus contradict/],
    [['demo', '--rate', '5', '--rate', '6'], /--rate given more than once/],
    [['demo', '--alert-for', 'soon'], /--alert-for must be a duration/],
    [['simulate', '--port-fcm', 'x'], /--port-fcm must be a port number/],
    [['simulate', '--port-gcm', '1'], /unknown flag --port-gcm/],
    [['simulate', '--config', '/nonexistent/faults.json'], /--config: cannot read \/nonexistent\/faults\.json/],
    [['alerts', '--format', 'yaml'], /--format must be one of rules, prometheus-rule, got "yaml"/],
    [['alerts', '--slo', '100'], /--slo must be a target above 0 and below 100%/],
    [['alerts', '--selector', 'job=push'], /--selector must be PromQL label matchers/],
    [['alerts', '--slo-period', 'a month'], /--slo-period must be a Prometheus duration/],
    [['alerts', '--labels', 'team'], /--labels must be name=value pairs/],
    [
      ['alerts', '--format', 'prometheus-rule', '--name', 'Bad_Name'],
      /--config: options.name must be a Kubernetes object name|name must be a Kubernetes/,
    ],
    [['dashboards', '--datasource', ''], /--datasource/],
  ];
  for (const [args, message] of CASES) {
    it(args.join(' '), async () => {
      const run = await runCli(args);
      assert.equal(run.code, 2, `exit code\n${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    });
  }

  it('simulate --config with a bad fault rule names the rule', async () => {
    const file = path.join(tmp, 'bad-faults.json');
    await writeFile(file, JSON.stringify({ faults: { fcm: { rules: [{ fault: 'meltdown' }] } } }));
    const run = await runCli(['simulate', '--config', file]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /--config: faults\.rules\[0\]\.fault must be one of/);
  });

  it('simulate --config with an unknown provider names it', async () => {
    const file = path.join(tmp, 'bad-provider.json');
    await writeFile(file, JSON.stringify({ faults: { gcm: {} } }));
    const run = await runCli(['simulate', '--config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--config: faults\.gcm: unknown provider/);
  });
});

describe('the push-telemetry bin', () => {
  it('is dist/cli/index.js, a node script, and npm start runs its demo', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    assert.equal(manifest.bin['push-telemetry'], './dist/cli/index.js');
    assert.match(manifest.scripts.start ?? '', /^node dist\/cli\/index\.js demo\b/);
    // npm test (and npm ci, through prepare) builds dist/ before the tests run.
    const built = new URL('../dist/cli/index.js', import.meta.url);
    assert.ok(existsSync(built), 'dist/cli/index.js is built');
    assert.match(readFileSync(built, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });
});

describe('push-telemetry alerts and dashboards', () => {
  it('alerts writes the default rules to stdout: the shipped file when there is one', async () => {
    const run = await runCli(['alerts']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^groups:$/m);
    assert.match(run.stdout, /alert: PushProviderOutage/);
    const shipped = new URL('../alerts/push-alerts.yaml', import.meta.url);
    if (existsSync(shipped)) assert.equal(run.stdout, readFileSync(shipped, 'utf8'));
  });

  it('alerts takes the selector, SLO and labels into every rule, and writes a PrometheusRule to --out', async () => {
    const file = path.join(tmp, 'nested', 'rules.yaml');
    const run = await runCli([
      'alerts',
      '--selector',
      'job="notifier"',
      '--slo',
      '99.9%',
      '--labels',
      'team=mobile',
      '--format',
      'prometheus-rule',
      '--namespace',
      'monitoring',
      '--out',
      file,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `wrote ${file}\n`);
    const yaml = await readFile(file, 'utf8');
    assert.match(yaml, /^kind: PrometheusRule$/m);
    assert.match(yaml, /^ {2}namespace: monitoring$/m);
    assert.match(yaml, /job="notifier"/);
    assert.doesNotMatch(yaml, /job="push-sender"/);
    assert.match(yaml, /team: mobile/);
    assert.match(yaml, /99\.9% SLO/);
  });

  it('dashboards writes one JSON model per dashboard into --out, with the selector and datasource', async () => {
    const dir = path.join(tmp, 'dashboards');
    const run = await runCli(['dashboards', '--selector', 'job="notifier"', '--datasource', 'Mimir', '--out', dir]);
    assert.equal(run.code, 0, run.stderr);
    const files = (await readdir(dir)).sort();
    assert.ok(files.length >= 3, files.join(', '));
    for (const file of files) {
      const text = await readFile(path.join(dir, file), 'utf8');
      const model = JSON.parse(text) as { uid?: string; title?: string };
      assert.equal(`${model.uid}.json`, file);
      assert.match(text, /job=\\"notifier\\"/);
      assert.doesNotMatch(text, /job=\\"push-sender\\"/);
      assert.match(text, /"Mimir"/);
      assert.match(run.stdout, new RegExp(`wrote .*${file}`));
    }
  });
});
