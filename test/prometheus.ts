import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Real Prometheus and Alertmanager for tests, from the Debian packages (`scripts/ensure-tools.sh` installs them).
 * Each runs on a free loopback port with its own temp dir, and is stopped (and the dir removed) by close().
 */

/** The path of a binary the tests need; throws, never skips, when it is missing. */
export function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const file = found.stdout.trim();
  if (found.status !== 0 || file === '') {
    throw new Error(
      `${name} is not installed: run scripts/ensure-tools.sh (apt-get install prometheus prometheus-alertmanager)`,
    );
  }
  return file;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before becoming ready:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not ready after 30 s:\n${output()}`);
}

interface Daemon {
  readonly url: string;
  readonly dir: string;
  close(): Promise<void>;
}

async function startDaemon(
  binary: string,
  args: (dir: string, port: number) => string[],
  files: (dir: string) => Record<string, string>,
  readyPath: string,
): Promise<Daemon> {
  const file = requireBinary(binary);
  const dir = await mkdtemp(path.join(os.tmpdir(), `${binary}-`));
  for (const [name, content] of Object.entries(files(dir))) await writeFile(path.join(dir, name), content);
  const port = await freePort();
  const child = spawn(file, args(dir, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`${url}${readyPath}`, child, () => log.slice(-4000));
  } catch (error) {
    await close();
    throw new Error(`${binary}: ${(error as Error).message}`);
  }
  return { url, dir, close };
}

export interface PrometheusOptions {
  /** host:port of each /metrics target, scraped as job `push-sender`. */
  readonly targets: readonly string[];
  /** Rule file contents (YAML), loaded as rules-N.yml. */
  readonly rules?: readonly string[];
  /** Alertmanager base URL to send alerts to. */
  readonly alertmanager?: string;
  readonly job?: string;
  readonly interval?: string;
}

export interface Prometheus extends Daemon {
  /** Instant query; resolves with the result vector (throws on a PromQL error). */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** Active alerts as Prometheus sees them. */
  alerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string }>>;
}

export async function startPrometheus(options: PrometheusOptions): Promise<Prometheus> {
  const interval = options.interval ?? '1s';
  const ruleFiles = (options.rules ?? []).map((_, i) => `rules-${i}.yml`);
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ruleFiles.length > 0 ? `rule_files:\n${ruleFiles.map((f) => `  - ${f}`).join('\n')}` : '',
    options.alertmanager
      ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['${new URL(options.alertmanager).host}']`
      : '',
    'scrape_configs:',
    `  - job_name: ${options.job ?? 'push-sender'}`,
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
  ]
    .filter((line) => line !== '')
    .join('\n');
  const daemon = await startDaemon(
    'prometheus',
    (dir, port) => [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
    ],
    () => ({
      'prometheus.yml': `${config}\n`,
      ...Object.fromEntries((options.rules ?? []).map((rules, i) => [`rules-${i}.yml`, rules])),
    }),
    '/-/ready',
  );
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const body = (await (await fetch(`${daemon.url}${pathAndQuery}`)).json()) as {
      status: string;
      data: T;
      error?: string;
    };
    if (body.status !== 'success') throw new Error(`prometheus: ${body.error ?? 'query failed'} (${pathAndQuery})`);
    return body.data;
  };
  return {
    ...daemon,
    async query(expr) {
      const data = await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    async alerts() {
      return (
        await api<{
          alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string }>;
        }>('/api/v1/alerts')
      ).alerts;
    },
  };
}

/** Alertmanager with the given configuration (YAML), clustering off. */
export async function startAlertmanager(config: string): Promise<Daemon> {
  return startDaemon(
    'prometheus-alertmanager',
    (dir, port) => [
      `--config.file=${path.join(dir, 'alertmanager.yml')}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    () => ({ 'alertmanager.yml': config }),
    '/-/ready',
  );
}
