import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs the push-telemetry CLI as a user does, in a child process with stdout a pipe (so never a TTY), from the
 * repository root through tsx on src/cli/index.ts. Every spawned child is killed by the test that started it.
 */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = ['--import', 'tsx', 'src/cli/index.ts'];

/** Our environment minus what would change the CLI's behaviour (the test runner's context, an Expo URL, OTEL_*). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('OTEL_') || ['NODE_TEST_CONTEXT', 'EXPO_BASE_URL', 'PORT'].includes(name)) continue;
    env[name] = value;
  }
  return env;
}

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`). */
export function runCli(args: readonly string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...ENTRY, ...args],
      { cwd: ROOT, env: cleanEnv(), timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
      },
    );
  });
}

export interface Running {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout, waiting up to `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGKILL to its whole process group, if anything of it is left: for after(). */
  kill(): void;
}

export function startCli(args: readonly string[]): Running {
  // Its own process group, so kill() also reaches what it started (Prometheus, Alertmanager) if it cannot clean up.
  const child = spawn(process.execPath, [...ENTRY, ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern);
          if (match === null) return;
          done();
          resolve(match);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `no ${pattern} in ${timeoutMs} ms\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`,
            ),
          );
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(
            new Error(
              `exited before printing ${pattern}\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`,
            ),
          );
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
        if (child.exitCode !== null || child.signalCode !== null) onExit();
      });
    },
    kill() {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // the group is gone already
      }
    },
  };
}
