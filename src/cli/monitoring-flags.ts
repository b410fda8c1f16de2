import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MonitoringConfig } from '../monitoring/config.js';
import { stringFlag, UsageError, type FlagSpec, type Flags } from './args.js';

/**
 * Flags shared by `alerts` and `dashboards`: both generators take one MonitoringConfig, so a team states its labels
 * and SLO once (in a --config file or as flags) and gets rules and dashboards that agree.
 */

export const COMMON_FLAGS: Readonly<Record<string, FlagSpec>> = {
  selector: {
    type: 'string',
    value: 'MATCHERS',
    description: 'label matchers for your senders\' scrape targets, without braces (default job="push-sender")',
  },
  filters: {
    type: 'string',
    value: 'MATCHERS',
    description: 'further matchers ANDed into every query, e.g. cluster="eu-1" (default none)',
  },
  config: {
    type: 'string',
    value: 'FILE',
    description:
      'a JSON MonitoringConfig (selector, sloTarget, alerts: { PushProviderOutage: { for } }…);\nflags override it',
  },
};

/** Which flag sets which config option, so the generator's "config.x must be…" errors name the flag instead. */
const FLAG_OF: Readonly<Record<string, string>> = {
  selector: '--selector',
  labelFilters: '--filters',
  sloTarget: '--slo',
  sloPeriod: '--slo-period',
  minMessagesPerSecond: '--min-rate',
  runbookUrlBase: '--runbook-url',
  extraLabels: '--labels',
  datasource: '--datasource',
  titlePrefix: '--title',
};

async function configFile(file: string | undefined): Promise<MonitoringConfig> {
  if (file === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--config: cannot read ${file} as JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new UsageError(`--config: ${file} must hold a JSON object (a MonitoringConfig)`);
  return json as MonitoringConfig;
}

/** "99.5", "99.5%" and "0.995" all mean a 99.5% target. */
export function parseSlo(value: string): number {
  const digits = value.replace(/%$/, '');
  const number = /^\d+(\.\d+)?$/.test(digits) ? Number(digits) : Number.NaN;
  const ratio = value.endsWith('%') || number > 1 ? number / 100 : number;
  if (!(ratio > 0 && ratio < 1))
    throw new UsageError(`--slo must be a target above 0 and below 100%, such as 99.5, 99.5% or 0.995, got "${value}"`);
  return ratio;
}

/** `team=mobile,tier=1`: extra alert labels. */
export function parseLabels(value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const match = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match)
      throw new UsageError(`--labels must be name=value pairs separated by commas (team=mobile), got "${pair}"`);
    labels[match[1] as string] = (match[2] as string).trim();
  }
  return labels;
}

/** The --config file with the flags laid over it. */
export async function monitoringConfig(flags: Flags, fromFlags: MonitoringConfig): Promise<MonitoringConfig> {
  const selector = stringFlag(flags, 'selector');
  const filters = stringFlag(flags, 'filters');
  return {
    ...(await configFile(stringFlag(flags, 'config'))),
    ...(selector !== undefined && { selector }),
    ...(filters !== undefined && { labelFilters: filters }),
    ...fromFlags,
  };
}

/**
 * Runs a generator on the config; its TypeError ("config.sloTarget must be…") becomes a usage error naming the flag
 * that set the option, or the --config file when no flag did.
 */
export function generate<T>(flags: Flags, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const option = /^config\.(\w+)/.exec(error.message)?.[1];
    const flag = option === undefined ? undefined : FLAG_OF[option];
    if (flag !== undefined && flags[flag.slice(2)] !== undefined)
      throw new UsageError(error.message.replace(/^config\.\w+/, flag));
    throw new UsageError(`--config: ${error.message}`);
  }
}

/** Writes a file, creating its directory; says where. */
export async function writeOut(file: string, text: string, out: NodeJS.WritableStream): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, text);
  out.write(`wrote ${file}\n`);
}
