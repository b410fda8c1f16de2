#!/usr/bin/env node
import { VERSION } from '../version.js';
import { helpText, parseFlags, UsageError, type CommandSpec, type Flags } from './args.js';
import { ALERTS_SPEC, runAlerts } from './alerts.js';
import { DASHBOARDS_SPEC, runDashboards } from './dashboards.js';
import { DEMO_SPEC, runDemo } from './demo.js';
import { KUBERNETES_SPEC, runKubernetes } from './kubernetes.js';
import { runSimulate, SIMULATE_SPEC } from './simulate.js';

/** `push-telemetry <command> [flags]`. Exit codes: 0 done, 1 failed, 2 bad command line. */

interface Command {
  readonly spec: CommandSpec;
  readonly run: (flags: Flags, out: NodeJS.WriteStream) => Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: { spec: DEMO_SPEC, run: runDemo },
  simulate: { spec: SIMULATE_SPEC, run: runSimulate },
  alerts: { spec: ALERTS_SPEC, run: runAlerts },
  dashboards: { spec: DASHBOARDS_SPEC, run: runDashboards },
  k8s: { spec: KUBERNETES_SPEC, run: runKubernetes },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    `push-telemetry ${VERSION}: observability for push-notification senders`,
    '',
    'Usage: push-telemetry <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, { spec }]) => `  ${name.padEnd(width)}  ${spec.brief}`),
    '',
    'Run push-telemetry <command> --help for its flags.',
    '',
  ].join('\n');
}

/** The command being run, for error messages: `push-telemetry demo: --rate must be…`. */
let running = '';

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(overview());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined)
    throw new UsageError(
      `unknown command "${name}"; expected one of ${Object.keys(COMMANDS).join(', ')} (see push-telemetry --help)`,
    );
  running = ` ${name}`;
  const flags = parseFlags(command.spec, rest);
  if (flags === undefined) {
    process.stdout.write(helpText(command.spec));
    return 0;
  }
  return command.run(flags, process.stdout);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError;
    process.stderr.write(
      `push-telemetry${running}: ${usage ? error.message : ((error as Error)?.message ?? String(error))}\n`,
    );
    // Handles left by a half-started command (SDK sockets, timers) must not keep a failed run alive.
    process.exit(usage ? 2 : 1);
  },
);
