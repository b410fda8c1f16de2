import { watchFile, unwatchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { SIMULATED_PROVIDERS, startSimulator, type FaultSettings, type SimulatedProvider } from '../simulator/index.js';
import { parseDuration, parsePort, stringFlag, UsageError, type CommandSpec, type Flags } from './args.js';
import { Lifecycle } from './lifecycle.js';
import { pointingHelp } from './simulate-help.js';

export const SIMULATE_SPEC: CommandSpec = {
  name: 'simulate',
  brief: 'fake FCM, APNs, Web Push, Expo, SNS and OneSignal endpoints for your own sender',
  summary:
    'Runs the fake providers (FCM, APNs, Web Push, Expo, SNS, OneSignal) on loopback until Ctrl-C, for your own staging sender:\n' +
    "a game day on your code. Prints each fake's URL and how to point each SDK at it.",
  flags: {
    config: {
      type: 'string',
      value: 'FILE',
      description:
        'JSON: { "faults": { "fcm": { "rules": [{ "fault": "provider_unavailable", "rate": 0.9 }], "latencyMs": 50 } },\n' +
        '"ports": { "fcm": 4001 }, "host": "127.0.0.1", "providers": ["fcm", "apns"] }. Faults are re-read when the file\n' +
        'changes, so a game day can change phase while your sender runs',
    },
    host: {
      type: 'string',
      value: 'H',
      description: "address the fakes listen on (default 127.0.0.1, or the config's host)",
    },
    ...Object.fromEntries(
      SIMULATED_PROVIDERS.map((provider) => [
        `port-${provider}`,
        {
          type: 'string',
          value: 'P',
          description: `port of the fake ${provider} (default a free one, or the config's)`,
        } as const,
      ]),
    ),
    duration: { type: 'string', value: 'D', description: 'stop after D', hidden: true },
  },
  details:
    'Fault names: provider_unavailable, rate_limited, auth, config, payload_invalid, payload_too_large, unregistered,\n' +
    'invalid_token, hang, reset, or { "status": 503, "reason": "UNAVAILABLE" }. A rule may set "match" (a token, or a\n' +
    'prefix ending in *) and "rate" (0 to 1). See docs/providers.md for what each fake answers.',
};

interface SimulateConfig {
  readonly faults: Partial<Record<SimulatedProvider, FaultSettings>>;
  readonly ports: Partial<Record<SimulatedProvider, number>>;
  readonly host?: string;
  readonly providers?: readonly SimulatedProvider[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkProviders(value: unknown, where: string): void {
  if (!isObject(value))
    throw new UsageError(`${where} must be an object keyed by provider (${SIMULATED_PROVIDERS.join(', ')})`);
  const unknown = Object.keys(value).find((key) => !(SIMULATED_PROVIDERS as readonly string[]).includes(key));
  if (unknown !== undefined)
    throw new UsageError(`${where}.${unknown}: unknown provider; expected ${SIMULATED_PROVIDERS.join(', ')}`);
}

/** Reads and checks the --config file; the fault rules themselves are checked by FaultPlan when applied. */
export async function readSimulateConfig(file: string): Promise<SimulateConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(json))
    throw new UsageError(`--config: ${file} must hold a JSON object { faults, ports, host, providers }`);
  const unknownKey = Object.keys(json).find((key) => !['faults', 'ports', 'host', 'providers'].includes(key));
  if (unknownKey !== undefined)
    throw new UsageError(`--config: unknown key "${unknownKey}"; expected faults, ports, host, providers`);
  const { faults = {}, ports = {}, host, providers } = json;
  checkProviders(faults, '--config: faults');
  checkProviders(ports, '--config: ports');
  for (const [provider, port] of Object.entries(ports as object)) {
    if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535)
      throw new UsageError(`--config: ports.${provider} must be a port number, got ${JSON.stringify(port)}`);
  }
  if (host !== undefined && (typeof host !== 'string' || host === ''))
    throw new UsageError('--config: host must be an address such as 127.0.0.1');
  if (
    providers !== undefined &&
    !(
      Array.isArray(providers) &&
      providers.length > 0 &&
      providers.every((p) => (SIMULATED_PROVIDERS as readonly string[]).includes(p))
    )
  ) {
    throw new UsageError(`--config: providers must be a non-empty list of ${SIMULATED_PROVIDERS.join(', ')}`);
  }
  return {
    faults,
    ports,
    ...(host !== undefined && { host: host as string }),
    ...(providers !== undefined && { providers: providers as SimulatedProvider[] }),
  } as SimulateConfig;
}

export async function runSimulate(flags: Flags, out: NodeJS.WriteStream): Promise<number> {
  const file = stringFlag(flags, 'config');
  const config: SimulateConfig = file === undefined ? { faults: {}, ports: {} } : await readSimulateConfig(file);
  const ports: Partial<Record<SimulatedProvider, number>> = { ...config.ports };
  for (const provider of SIMULATED_PROVIDERS) {
    const port = stringFlag(flags, `port-${provider}`);
    if (port !== undefined) ports[provider] = parsePort(`port-${provider}`, port);
  }
  const host = stringFlag(flags, 'host') ?? config.host ?? '127.0.0.1';
  const duration = stringFlag(flags, 'duration');
  const durationMs = duration === undefined ? undefined : parseDuration('duration', duration);

  const simulator = await startSimulator({
    host,
    ports,
    faults: config.faults,
    ...(config.providers && { providers: config.providers }),
  }).catch((error: unknown) => {
    // A bad fault rule is the config's mistake: FaultPlan's TypeError names the rule.
    throw error instanceof TypeError ? new UsageError(`--config: ${error.message}`) : error;
  });
  const life = new Lifecycle();
  life.stopOn(out);
  life.defer(() => simulator.close());
  out.write(pointingHelp(simulator));

  if (file !== undefined) {
    // Re-applies the faults when the file changes; a broken edit is reported and the running faults are kept.
    watchFile(file, { interval: 500 }, () => {
      readSimulateConfig(file)
        .then((next) => {
          const dropped: string[] = [];
          for (const [provider, fake] of Object.entries(simulator.providers)) {
            const settings = next.faults[provider as SimulatedProvider] ?? {};
            fake.faults.set(settings);
            // Held requests would wait for the sender's timeout (or forever): a provider that stops hanging lets go of them.
            const hanging = (settings.rules ?? []).some((rule) => rule.fault === 'hang')
              ? 0
              : fake.faults.dropHanging();
            if (hanging > 0) dropped.push(`${provider} ${hanging}`);
          }
          out.write(
            `faults reloaded from ${file}${dropped.length > 0 ? ` (hung requests dropped: ${dropped.join(', ')})` : ''}\n`,
          );
        })
        .catch((error: unknown) => out.write(`faults not reloaded: ${(error as Error).message}\n`));
    });
    life.defer(() => unwatchFile(file));
  }
  out.write(`simulating until Ctrl-C${file !== undefined ? ` (edit ${file} to change faults)` : ''}\n`);
  await life.untilStopped(durationMs);
  for (const fake of Object.values(simulator.providers)) {
    out.write(
      `${fake.provider.padEnd(9)} requests ${fake.stats.requests}, accepted ${fake.stats.accepted}, refused ${fake.stats.refused}\n`,
    );
  }
  await life.close();
  return 0;
}
