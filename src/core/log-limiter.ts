import { performance } from 'node:perf_hooks';
import type { LogRateLimitOptions } from './types.js';
import { describe, rejectUnknownOptions } from './options.js';

/** The limit in the units the limiter works in. */
export interface LogLimit {
  readonly burst: number;
  readonly intervalMs: number;
}

const DEFAULT_BURST = 10;
const DEFAULT_INTERVAL_SECONDS = 60;
// Keys are (provider, app, error_type), all fixed at wrap time, so a few hundred at most in practice; the cap only
// keeps a pathological setup from growing the map without end.
const MAX_KEYS = 1024;

/** Validates `options.logRateLimit`. */
export function logLimit(options: unknown): LogLimit {
  if (options === undefined) return { burst: DEFAULT_BURST, intervalMs: DEFAULT_INTERVAL_SECONDS * 1000 };
  if (options === null || typeof options !== 'object')
    throw new TypeError(`options.logRateLimit must be { burst?, intervalSeconds? }, got ${describe(options)}`);
  rejectUnknownOptions(options, ['burst', 'intervalSeconds'], 'options.logRateLimit');
  const { burst = DEFAULT_BURST, intervalSeconds = DEFAULT_INTERVAL_SECONDS } = options as LogRateLimitOptions;
  if (!Number.isInteger(burst) || burst < 1 || burst > 10_000)
    throw new TypeError(`options.logRateLimit.burst must be a whole number from 1 to 10000, got ${describe(burst)}`);
  if (typeof intervalSeconds !== 'number' || !(intervalSeconds >= 0.001 && intervalSeconds <= 86_400))
    throw new TypeError(
      `options.logRateLimit.intervalSeconds must be a number of seconds from 0.001 to 86400, got ${describe(intervalSeconds)}`,
    );
  return { burst, intervalMs: intervalSeconds * 1000 };
}

interface Window<S> {
  start: number;
  admitted: number;
  suppressed: number;
  /** What the summary is about; the latest suppressed record's. */
  subject: S | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Told once per window that suppressed records: how many, and over how many seconds. */
export type SuppressedHandler<S> = (subject: S, suppressed: number, seconds: number) => void;

/**
 * A fixed-window limit per key, like journald's: the first `burst` records of each interval pass, the rest are
 * counted, and when the interval ends one summary says how many were dropped. The summary comes from a timer, so it
 * is written even when the failures stop; the timer is unref'd and never keeps the process alive.
 */
export class LogLimiter<S> {
  readonly #limit: LogLimit;
  readonly #onSuppressed: SuppressedHandler<S>;
  readonly #windows = new Map<string, Window<S>>();

  constructor(limit: LogLimit, onSuppressed: SuppressedHandler<S>) {
    this.#limit = limit;
    this.#onSuppressed = onSuppressed;
  }

  /** True when a record for `key` may be written now; otherwise it is counted for the window's summary. */
  admit(key: string, subject: S): boolean {
    const now = performance.now();
    let window = this.#windows.get(key);
    if (window === undefined) {
      if (this.#windows.size >= MAX_KEYS && !this.#prune(now)) return false;
      window = { start: now, admitted: 0, suppressed: 0, subject: undefined, timer: undefined };
      this.#windows.set(key, window);
    } else if (now - window.start >= this.#limit.intervalMs) {
      // The timer is late (a busy event loop): the summary goes out before the new window's first record.
      if (window.suppressed > 0) this.#summarize(window, now);
      window.start = now;
      window.admitted = 0;
    }
    if (window.admitted < this.#limit.burst) {
      window.admitted++;
      return true;
    }
    window.suppressed++;
    window.subject = subject;
    if (window.timer === undefined) {
      const at = window;
      at.timer = setTimeout(() => this.#summarize(at, performance.now()), this.#limit.intervalMs - (now - at.start));
      at.timer.unref();
    }
    return false;
  }

  /** Writes pending summaries now and stops their timers (`telemetry.flushFailureLog()`, shutdown). */
  flush(): void {
    const now = performance.now();
    for (const window of this.#windows.values()) if (window.suppressed > 0) this.#summarize(window, now);
  }

  #summarize(window: Window<S>, now: number): void {
    clearTimeout(window.timer);
    window.timer = undefined;
    const { suppressed, subject } = window;
    window.suppressed = 0;
    window.subject = undefined;
    if (suppressed > 0 && subject !== undefined) this.#onSuppressed(subject, suppressed, (now - window.start) / 1000);
  }

  /** Forgets windows that have ended with nothing pending; false when none could go. */
  #prune(now: number): boolean {
    const before = this.#windows.size;
    for (const [key, window] of this.#windows) {
      if (window.suppressed === 0 && now - window.start >= this.#limit.intervalMs) this.#windows.delete(key);
    }
    return this.#windows.size < before;
  }
}
