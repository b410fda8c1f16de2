import type { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { capHoldTimes, loadDemoRules, scaleWindows, SHIPPED_ROUTING } from './alert-rules.js';
import { AlertWatch, firstScrape } from './alert-watch.js';
import { findBinary, startDaemon, type Daemon } from './daemons.js';
import type { AlertLine } from './live-view.js';
import { demoRouting, minimalRouting, type DemoRouting } from './routing.js';

/**
 * `demo --prometheus`: a real Prometheus scraping the demo's /metrics with the shipped rules, a real Alertmanager with
 * the shipped routing, and a webhook in the demo standing in for every receiver. Everything lives in one temp dir
 * that close() removes.
 */

export class MonitoringUnavailable extends Error {
  override readonly name = 'MonitoringUnavailable';
}

export interface MonitoringOptions {
  /** host:port of the demo's /metrics, scraped as job "push-sender" (the rules' default selector). */
  readonly target: string;
  /** Cap on every alert's `for:`, in ms; undefined keeps the shipped hold times. */
  readonly alertForMs: number | undefined;
  /** Divides every range window of the rules by this (a scenario that could not page within hours otherwise); default 1. */
  readonly windowScale?: number;
  readonly onEvent: (text: string) => void;
  /** Gets a synchronous kill (SIGKILL the daemons, remove the temp dir) as soon as there is something to kill. */
  readonly onKill: (kill: () => void) => void;
}

export interface Monitoring {
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  /** Where the rules and routing came from, for the demo's header. */
  readonly notes: readonly string[];
  alerts(): readonly AlertLine[];
  close(): Promise<void>;
}

export function monitoringBinaries(): { prometheus: string; alertmanager: string } | undefined {
  const prometheus = findBinary(['prometheus']);
  const alertmanager = findBinary(['alertmanager', 'prometheus-alertmanager']);
  return prometheus !== undefined && alertmanager !== undefined ? { prometheus, alertmanager } : undefined;
}

function prometheusConfig(alertmanagerUrl: string, target: string): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files: [rules.yml]',
    'alerting:',
    '  alertmanagers:',
    `    - static_configs: [{ targets: ['${new URL(alertmanagerUrl).host}'] }]`,
    'scrape_configs:',
    '  - job_name: push-sender',
    `    static_configs: [{ targets: ['${target}'] }]`,
    '',
  ].join('\n');
}

export async function startMonitoring(options: MonitoringOptions): Promise<Monitoring> {
  const binaries = monitoringBinaries();
  if (binaries === undefined) {
    throw new MonitoringUnavailable(
      '--prometheus needs prometheus and alertmanager (or prometheus-alertmanager) on PATH. ' +
        'Debian/Ubuntu: apt-get install prometheus prometheus-alertmanager; elsewhere: https://prometheus.io/download/',
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-demo-'));
  const children: ChildProcess[] = [];
  const daemons: Daemon[] = [];
  const track = (child: ChildProcess) => void children.push(child);
  const watch = new AlertWatch(options.onEvent);
  const notes: string[] = [`files: ${dir} (configs and data, removed on exit)`];
  let webhook: Awaited<ReturnType<AlertWatch['listen']>> | undefined;

  options.onKill(() => {
    watch.stop();
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const close = async () => {
    watch.stop();
    await Promise.allSettled([...daemons].reverse().map((daemon) => daemon.stop()));
    await webhook?.close();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    webhook = await watch.listen();
    const alertmanagerArgs = (port: number) => [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ];
    const startAlertmanager = async (routing: DemoRouting) => {
      await writeFile(path.join(dir, 'alertmanager.yml'), routing.yaml);
      return startDaemon('alertmanager', binaries.alertmanager, alertmanagerArgs, dir, track);
    };
    const example = existsSync(SHIPPED_ROUTING) ? await readFile(SHIPPED_ROUTING, 'utf8') : undefined;
    const shipped = example === undefined ? undefined : demoRouting(example, webhook.url);
    let alertmanager: Daemon | undefined;
    if (shipped !== undefined) {
      try {
        alertmanager = await startAlertmanager(shipped);
        notes.push(
          `routing: alerts/alertmanager.example.yml, receivers ${shipped.receivers.join(', ')} → the demo's webhook`,
        );
      } catch (error) {
        // The rewritten example did not load: keep the demo going on one route, and say why.
        notes.push(
          `routing: the rewritten alerts/alertmanager.example.yml did not load (${(error as Error).message.split('\n')[0]}); one webhook route`,
        );
      }
    } else {
      notes.push(
        `routing: ${example === undefined ? 'alerts/alertmanager.example.yml not found' : 'alerts/alertmanager.example.yml has no receivers to rewrite'}; one webhook route`,
      );
    }
    alertmanager ??= await startAlertmanager(minimalRouting(webhook.url));
    daemons.push(alertmanager);

    const rules = await loadDemoRules();
    const scale = options.windowScale ?? 1;
    const windows = scale === 1 ? '' : `, every range window divided by ${scale} (the scenario's)`;
    notes.push(
      `rules: ${rules.source}, ${options.alertForMs === undefined ? 'shipped for: durations' : `for: capped at ${Math.round(options.alertForMs / 1000)}s (--alert-for)`}${windows}`,
    );
    await writeFile(
      path.join(dir, 'rules.yml'),
      capHoldTimes(scale === 1 ? rules.yaml : scaleWindows(rules.yaml, scale), options.alertForMs),
    );
    await writeFile(path.join(dir, 'prometheus.yml'), prometheusConfig(alertmanager.url, options.target));
    const prometheusArgs = (port: number) => [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ];
    const prometheus = await startDaemon('prometheus', binaries.prometheus, prometheusArgs, dir, track);
    daemons.push(prometheus);

    await firstScrape(prometheus.url);
    watch.watch(prometheus.url);
    return {
      prometheusUrl: prometheus.url,
      alertmanagerUrl: alertmanager.url,
      notes,
      alerts: () => watch.list(),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
