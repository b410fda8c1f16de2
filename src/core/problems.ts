import { diagLog } from './peers.js';
import { redactMessage } from './redact.js';
import { readString } from './read.js';

export interface TelemetryProblem {
  /**
   * What failed: a sender's hook (`classify`, `reason`, `status`, `group`, `settle`, `countMessages`, `tokens`,
   * `onInvalidToken`), `tracing`, `metrics`, `collect`, or `logger` or `loggerProvider` (the failure log's sinks).
   */
  readonly kind: string;
  /** How many times it has failed since the process started. */
  readonly count: number;
  /**
   * The last failure's class and string `code`; its message too (tokens cut out, shortened) only when the telemetry
   * was created with `recordErrorMessages: true`, since a token store's or SDK's message may quote a token or payload.
   */
  readonly lastError: string;
  /** Unix milliseconds of the last failure. */
  readonly lastAt: number;
}

/** Name and code, and the message when asked for, with the call's tokens cut out. */
function summarize(error: unknown, tokens: readonly string[] | undefined, withMessage: boolean): string {
  const name = readString(error, 'name');
  const code = readString(error, 'code');
  const message = withMessage ? readString(error, 'message') : undefined;
  if (name === undefined && message === undefined) return typeof error;
  const label = `${name ?? 'Error'}${code === undefined ? '' : ` [${code}]`}`;
  return redactMessage(message === undefined ? label : `${label}: ${message}`, tokens);
}

/**
 * Telemetry failures are swallowed so a send never breaks, but they must not vanish either: the first failure of
 * each kind goes to `diag.error`, later ones are only counted (a broken classify on a hot sender would otherwise
 * log thousands of lines a second), and all of them are readable through `health()` and /healthz.
 */
export class ProblemLog {
  readonly #problems = new Map<string, { count: number; lastError: string; lastAt: number }>();
  readonly #withMessages: boolean;

  /** `recordErrorMessages`: keep the failures' messages, not only their class and code. */
  constructor(recordErrorMessages = false) {
    this.#withMessages = recordErrorMessages;
  }

  report(kind: string, error: unknown, tokens?: readonly string[]): void {
    try {
      const lastError = summarize(error, tokens, this.#withMessages);
      const seen = this.#problems.get(kind);
      if (seen !== undefined) {
        seen.count++;
        seen.lastError = lastError;
        seen.lastAt = Date.now();
        return;
      }
      this.#problems.set(kind, { count: 1, lastError, lastAt: Date.now() });
      diagLog.error(
        `${kind} failed (${lastError}); the send was not affected, later ${kind} failures are counted in health(), not logged`,
      );
    } catch {
      // A diag logger that throws must not turn a swallowed failure into a thrown one.
    }
  }

  list(): TelemetryProblem[] {
    return [...this.#problems].map(([kind, problem]) => ({ kind, ...problem }));
  }
}
