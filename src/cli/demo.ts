import { randomBytes } from 'node:crypto';
import type { PushTelemetry } from '../core/telemetry.js';
import { RECEIPTS_PATH } from '../delivery/receipts-handler.js';
import { DeviceFleet } from '../simulator/devices.js';
import { startSimulator, type Simulator } from '../simulator/index.js';
import {
  parseChoice,
  parseDuration,
  parseNumber,
  parsePort,
  stringFlag,
  UsageError,
  type CommandSpec,
  type Flags,
} from './args.js';
import { createClients, DEMO_PROVIDERS, type DemoClients, type DemoProvider } from './clients/index.js';
import { DEMO_APP } from './clients/types.js';
import { DeviceFunnel } from './device-funnel.js';
import { stampedSend } from './stamped-send.js';
import { Lifecycle } from './lifecycle.js';
import { LiveStats } from './live-stats.js';
import { LiveView } from './live-view.js';
import { monitoringBinaries, startMonitoring, type Monitoring } from './monitoring.js';
import {
  campaignAt,
  describeRules,
  SCENARIO_NAMES,
  SCENARIOS,
  steadyAudience,
  Timeline,
  type Scenario,
} from './scenarios.js';
import { startSenderService, type SendFunction, type SenderService } from './sender-service.js';
import { TokenStore } from './tokens.js';
import { campaignFor, demoTelemetry, steadyGroup, type Campaign } from './campaign.js';
import { Traffic } from './traffic.js';

export const DEMO_SPEC: CommandSpec = {
  name: 'demo',
  brief: 'a game day: real SDKs, injected provider failures, live metrics and alerts',
  summary:
    'A self-contained game day: the provider simulator, a sender service pushing steady traffic through the real SDKs\n' +
    '(firebase-admin, @parse/node-apn, web-push, expo-server-sdk, @aws-sdk/client-sns) instrumented by push-telemetry,\n' +
    'faults injected on a schedule, /metrics live, and with Prometheus and Alertmanager installed, alerts firing.',
  flags: {
    scenario: {
      type: 'string',
      value: 'NAME',
      description: `what goes wrong, and when (default mixed):\n${SCENARIOS.map((s) => `  ${s.name.padEnd(25)} ${s.summary}`).join('\n')}`,
    },
    rate: { type: 'string', value: 'N', description: 'messages per second, shared by the five providers (default 50)' },
    duration: {
      type: 'string',
      value: 'D',
      description: 'stop by itself after D (20s, 5m, 1h); default: run until Ctrl-C',
    },
    port: {
      type: 'string',
      value: 'P',
      description:
        'port of the sender service (POST /send, GET /metrics, /healthz); default 9464,\nor a free one if 9464 is taken; 0 for a free one',
    },
    host: { type: 'string', value: 'H', description: 'address the sender service listens on (default 127.0.0.1)' },
    prometheus: {
      type: 'boolean',
      description:
        'require Prometheus and Alertmanager (fail if they are not on PATH); by default they\nare started when found and skipped when not',
    },
    'no-prometheus': { type: 'boolean', description: 'never start Prometheus and Alertmanager' },
    'alert-for': {
      type: 'string',
      value: 'D',
      description:
        "cap every alert's for: at D so alerts fire within a demo (default 15s);\n'shipped' keeps the production hold times (2m and more)",
    },
  },
  details:
    'The table shows, per provider, messages/s (as their calls complete), acceptance, the top error types and p95 call\n' +
    'latency over the last seconds, calls in flight, what the sender is doing (sending; hung: calls in flight, none\n' +
    'completing; stalled: sending nothing), and the fault the simulator is injecting. Output is plain lines when stdout\n' +
    'is not a terminal.\n' +
    'Try: curl -s localhost:9464/send -d \'{"provider":"fcm","tokens":["t1"],"notification":{"title":"Hi","body":"there"}}\'',
};

const DEFAULT_PORT = 9464;
const SDK_TIMEOUT_MS = 2_000;

interface DemoOptions {
  readonly scenario: string;
  readonly rate: number;
  readonly durationMs: number | undefined;
  readonly port: number | undefined;
  readonly host: string;
  readonly prometheus: 'require' | 'auto' | 'off';
  readonly alertForMs: number | undefined;
}

function demoOptions(flags: Flags): DemoOptions {
  const scenario = parseChoice('scenario', stringFlag(flags, 'scenario') ?? 'mixed', SCENARIO_NAMES);
  if (flags.prometheus === true && flags['no-prometheus'] === true)
    throw new UsageError('--prometheus and --no-prometheus contradict each other');
  const rate = stringFlag(flags, 'rate');
  const duration = stringFlag(flags, 'duration');
  const port = stringFlag(flags, 'port');
  const host = stringFlag(flags, 'host') ?? '127.0.0.1';
  if (host === '') throw new UsageError('--host must be an address such as 127.0.0.1');
  const alertFor = stringFlag(flags, 'alert-for') ?? '15s';
  return {
    scenario,
    rate: rate === undefined ? 50 : parseNumber('rate', rate, 0.1, 5000, 'messages per second'),
    durationMs: duration === undefined ? undefined : parseDuration('duration', duration),
    port: port === undefined ? undefined : parsePort('port', port),
    host,
    prometheus: flags.prometheus === true ? 'require' : flags['no-prometheus'] === true ? 'off' : 'auto',
    alertForMs: alertFor === 'shipped' ? undefined : parseDuration('alert-for', alertFor),
  };
}

/** The sender service on --port, or on 9464 falling back to a free port when 9464 is taken and no port was asked for. */
async function listen(
  start: (port: number) => Promise<SenderService>,
  port: number | undefined,
  say: (text: string) => void,
): Promise<SenderService> {
  try {
    return await start(port ?? DEFAULT_PORT);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
    if (port !== undefined)
      throw new Error(`port ${port} is in use (--port); pass another, or --port 0 for a free one`);
    say(`port ${DEFAULT_PORT} is in use; using a free port instead`);
    return start(0);
  }
}

/** A process warning the AWS SDK prints on Node 20 (its text starts with the name): true, and noise mid-table. */
function quietSdkWarnings(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    if (typeof warning === 'string' && warning.startsWith('NodeVersionSupportWarning')) return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

/** The demo's fake devices, posting their receipts to the sender service at `serviceUrl`. */
export function demoDevices(serviceUrl: string): DeviceFleet {
  // Providers hold a push for an offline device up to its TTL; two minutes, so a long outage loses some for good.
  return new DeviceFleet({ endpoint: `${serviceUrl}${RECEIPTS_PATH}`, ttlMs: 2 * 60_000 });
}

interface Started {
  readonly simulator: Simulator;
  readonly telemetry: PushTelemetry;
  readonly tokens: TokenStore;
  readonly clients: DemoClients;
  /** clients.send with the receipt stamp in each message, and the fake devices told what the provider accepted. */
  readonly send: SendFunction;
  readonly devices: DeviceFleet;
  readonly service: SenderService;
  readonly monitoring: Monitoring | undefined;
  /** The scenario's marketing sender, when it has a campaign. */
  readonly campaign?: Campaign;
}

/** Everything but the traffic: the fakes, the SDK clients, the sender service, and Prometheus when wanted. */
async function startParts(
  options: DemoOptions,
  scenario: Scenario,
  life: Lifecycle,
  view: LiveView,
  say: (text: string) => void,
): Promise<Started> {
  const simulator = await startSimulator({ providers: DEMO_PROVIDERS });
  life.defer(() => simulator.close());
  const telemetry = demoTelemetry(scenario);
  const tokens = new TokenStore(steadyAudience(scenario, options.rate));
  // onInvalidToken does what it does in a real sender: the token leaves the store (and a new install replaces it).
  const onInvalidToken = (provider: DemoProvider, token: string) => tokens.prune(provider, token);
  const clients = await createClients(
    simulator,
    { telemetry, timeoutMs: SDK_TIMEOUT_MS, onInvalidToken, ...steadyGroup(scenario) },
    scenario.clientTimeoutMs,
  );
  life.defer(() => clients.close());
  const marketing = await campaignFor(simulator, telemetry, scenario, SDK_TIMEOUT_MS);
  if (marketing !== undefined) life.defer(() => marketing.close());
  const campaign = marketing === undefined ? {} : { campaign: marketing.campaign };
  const secret = randomBytes(32).toString('base64url');
  let devices: DeviceFleet | undefined;
  const send = stampedSend(clients, secret, () => devices);
  const receipts = { apps: [DEMO_APP], secret };
  const service = await listen(
    (port) => startSenderService({ telemetry, send, receipts, providers: DEMO_PROVIDERS, port, host: options.host }),
    options.port,
    say,
  );
  life.defer(() => service.close());
  const fleet = demoDevices(service.url);
  devices = fleet;
  life.defer(() => fleet.close());
  say(`metrics: ${service.url}/metrics`);
  say(
    `send:    curl -s ${service.url}/send -d '{"provider":"fcm","tokens":["t1"],"notification":{"title":"Hi","body":"there"}}'`,
  );

  if (options.prometheus === 'off' || (options.prometheus === 'auto' && monitoringBinaries() === undefined)) {
    if (options.prometheus === 'auto')
      say('Prometheus and Alertmanager are not on PATH: running without alerts (install them to see alerts fire)');
    return { simulator, telemetry, tokens, clients, send, devices: fleet, service, monitoring: undefined, ...campaign };
  }
  say('starting Prometheus and Alertmanager…');
  const monitoring = await startMonitoring({
    target: new URL(service.url).host,
    alertForMs: options.alertForMs,
    ...(scenario.alertWindowScale !== undefined && { windowScale: scenario.alertWindowScale }),
    onEvent: (text) => view.event(text),
    onKill: (kill) => life.lastResort(kill),
  });
  life.defer(monitoring.close);
  say(`prometheus: ${monitoring.prometheusUrl}/alerts   alertmanager: ${monitoring.alertmanagerUrl}`);
  for (const note of monitoring.notes) say(`  ${note}`);
  return { simulator, telemetry, tokens, clients, send, devices: fleet, service, monitoring, ...campaign };
}

const byProvider = <T>(value: (provider: DemoProvider) => T) =>
  Object.fromEntries(DEMO_PROVIDERS.map((p) => [p, value(p)])) as Record<DemoProvider, T>;

/** Plays the scenario with steady traffic, redrawing each second, until Ctrl-C or --duration; then a summary. */
async function play(
  parts: Started,
  scenario: Scenario,
  options: DemoOptions,
  life: Lifecycle,
  view: LiveView,
  say: (text: string) => void,
): Promise<void> {
  const { simulator, telemetry, tokens, send, devices, service, monitoring } = parts;
  // The clock (and the scenario's timeline) starts with the traffic, once everything is up.
  const start = Date.now();
  view.startClock(start);
  const traffic = new Traffic({ rate: options.rate, tokens, send });
  const timeline = new Timeline(scenario, simulator, (phase) => {
    traffic.paused = phase.stalled === true;
    devices.offline = phase.devicesOffline ?? 0;
    if (parts.campaign !== undefined)
      parts.campaign.plan = phase.campaign && campaignAt(phase.campaign, steadyAudience(scenario, options.rate));
    view.event(`phase: ${phase.label}`);
  });
  const stats = new LiveStats(telemetry);
  const funnel = new DeviceFunnel(telemetry);
  life.defer(() => traffic.stop(SDK_TIMEOUT_MS + 1_000));
  const header = [
    `push-telemetry demo · scenario ${scenario.name} · ${options.rate} msg/s · metrics ${service.url}/metrics · POST ${service.url}/send`,
    ...(monitoring
      ? [`prometheus ${monitoring.prometheusUrl}/alerts · alertmanager ${monitoring.alertmanagerUrl}`]
      : []),
  ];
  const refresh = async () => {
    const elapsedMs = Date.now() - start;
    timeline.advance(elapsedMs);
    await stats.sample();
    await funnel.sample();
    const alerts = monitoring?.alerts();
    view.render({
      elapsedMs,
      header,
      phase: timeline.phase?.label ?? '',
      rows: stats.rows(),
      faults: byProvider((provider) => describeRules(timeline.activeRules(provider))),
      pruned: byProvider((provider) => tokens.pruned(provider)),
      stalled: timeline.stalled,
      funnel: funnel.lines(),
      ...(alerts !== undefined && { alerts }),
    });
  };

  timeline.advance(0);
  traffic.start();
  let busy = false;
  const ticker = setInterval(() => {
    if (busy) return;
    busy = true;
    refresh()
      .catch((error: unknown) => view.event(`table: ${(error as Error).message}`))
      .finally(() => (busy = false));
  }, 1_000);
  life.defer(() => clearInterval(ticker));

  const reason = await life.untilStopped(options.durationMs);
  const ranFor = Date.now() - start;
  clearInterval(ticker);
  view.close();
  say(reason === 'signal' ? 'stopping…' : '--duration reached; stopping…');
  await traffic.stop(SDK_TIMEOUT_MS + 1_000);
  await stats.sample();
  await funnel.sample();
  const receipts = funnel.totals();
  say(`summary after ${Math.round(ranFor / 1000)} s (${traffic.sent} messages sent):`);
  for (const row of stats.rows())
    say(
      `  ${row.provider.padEnd(8)} accepted ${row.totalAccepted}, failed ${row.totalFailed}, tokens pruned ${tokens.pruned(row.provider)}; ` +
        `devices: delivered ${receipts[row.provider].delivered}, displayed ${receipts[row.provider].displayed}, opened ${receipts[row.provider].opened}`,
    );
}

export async function runDemo(flags: Flags, out: NodeJS.WriteStream): Promise<number> {
  const options = demoOptions(flags);
  const scenario = SCENARIOS.find((candidate) => candidate.name === options.scenario) as Scenario;
  quietSdkWarnings();
  const life = new Lifecycle();
  const view = new LiveView(out);
  life.stopOn(out);
  const say = (text: string) => out.write(`${text}\n`);
  try {
    say(`push-telemetry demo: scenario ${scenario.name} (${scenario.summary}), ${options.rate} msg/s`);
    await play(await startParts(options, scenario, life, view, say), scenario, options, life, view, say);
  } catch (error) {
    // Whatever failed, every process and file started so far is gone before the error is reported.
    await life.close().catch(() => undefined);
    throw error;
  }
  await life.close();
  say('stopped; every process and temp file is gone');
  return 0;
}
