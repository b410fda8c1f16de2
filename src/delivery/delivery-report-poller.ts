import { describe, rejectUnknownOptions } from '../core/options.js';
import type { PushTelemetry } from '../core/telemetry.js';
import { DeliveryReportError, type DeliveryReport, type DeliveryReportSource } from './delivery-report.js';
import { deliveryReportMetricsFor } from './delivery-report-metrics.js';

export interface DeliveryReportPollerOptions {
  /** Whose registry the gauges go to (the one its /metrics serves). */
  readonly telemetry: PushTelemetry;
  /** `fcmDeliveryData(...)`, `apnsDeliveryMetrics(...)`: one per app. */
  readonly sources: readonly DeliveryReportSource[];
  /** Between runs. Default 1 h: reports are daily, so a new day shows within the hour it appears. At least 1 s. */
  readonly intervalMs?: number;
  /** Each wait is shortened by up to this share of the interval at random, so a fleet does not poll in step. Default 0.1. */
  readonly jitter?: number;
  /** Run once right away. Default true. */
  readonly runOnStart?: boolean;
  /** Told about each failed import (it is counted either way). An exception it throws is ignored. */
  readonly onError?: (error: DeliveryReportError, source: DeliveryReportSource) => void;
}

/** What one run found: the reports it recorded and the sources that failed. */
export interface DeliveryReportRun {
  readonly reports: readonly DeliveryReport[];
  readonly errors: ReadonlyArray<{ readonly source: DeliveryReportSource; readonly error: DeliveryReportError }>;
}

export interface DeliveryReportPoller {
  /** Runs now, or joins the run under way: runs never overlap. Never rejects. */
  runNow(): Promise<DeliveryReportRun>;
  /** Stops the schedule and waits for a run under way to finish. */
  stop(): Promise<void>;
}

const HOUR = 3_600_000;

function asReportError(error: unknown): DeliveryReportError {
  if (error instanceof DeliveryReportError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  return new DeliveryReportError('unknown', `the import failed (${typeof name === 'string' ? name : typeof error})`);
}

function checkSource(source: unknown, index: number): DeliveryReportSource {
  const s = source as Partial<DeliveryReportSource> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    (s.provider !== 'fcm' && s.provider !== 'apns') ||
    typeof s.app !== 'string' ||
    typeof s.fetchLatest !== 'function'
  )
    throw new TypeError(
      `options.sources[${index}] must be a report source from fcmDeliveryData() or apnsDeliveryMetrics(), got ${describe(source)}`,
    );
  return s as DeliveryReportSource;
}

/**
 * Polls the providers' daily delivery reports on a schedule and sets push_provider_delivery_ratio and its sibling
 * gauges on the telemetry's registry. A failed import is counted in push_provider_delivery_report_errors_total
 * (the gauges keep the last good report), never thrown; the timer does not keep the process alive.
 */
export function startDeliveryReportPoller(options: DeliveryReportPollerOptions): DeliveryReportPoller {
  if (options === null || typeof options !== 'object')
    throw new TypeError('startDeliveryReportPoller(options): options must be an object');
  rejectUnknownOptions(options, ['telemetry', 'sources', 'intervalMs', 'jitter', 'runOnStart', 'onError'], 'options');
  const { telemetry, sources, intervalMs = HOUR, jitter = 0.1, runOnStart = true, onError } = options;
  const registry = (telemetry as { registry?: unknown } | null)?.registry;
  if (telemetry === null || typeof telemetry !== 'object' || registry === undefined)
    throw new TypeError(`options.telemetry must be a PushTelemetry, got ${describe(telemetry)}`);
  if (!Array.isArray(sources) || sources.length === 0)
    throw new TypeError(`options.sources must be a non-empty array of report sources, got ${describe(sources)}`);
  const checked = sources.map(checkSource);
  const seen = new Set<string>();
  for (const { provider, app } of checked) {
    if (seen.has(`${provider} ${app}`))
      throw new TypeError(
        `options.sources: two sources for provider ${provider} and app ${app} would overwrite each other`,
      );
    seen.add(`${provider} ${app}`);
  }
  if (!(Number.isFinite(intervalMs) && intervalMs >= 1000 && intervalMs <= 2 ** 31 - 1))
    throw new TypeError(
      `options.intervalMs must be a number of milliseconds from 1000 to 2147483647, got ${describe(intervalMs)}`,
    );
  if (!(typeof jitter === 'number' && jitter >= 0 && jitter < 1))
    throw new TypeError(`options.jitter must be a share of the interval from 0 to below 1, got ${describe(jitter)}`);
  if (typeof runOnStart !== 'boolean')
    throw new TypeError(`options.runOnStart must be a boolean, got ${describe(runOnStart)}`);
  if (onError !== undefined && typeof onError !== 'function')
    throw new TypeError(`options.onError must be a function, got ${describe(onError)}`);
  const metrics = deliveryReportMetricsFor(telemetry.registry);
  for (const { provider, app } of checked) metrics.initialize(provider, app);

  let running: Promise<DeliveryReportRun> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function run(): Promise<DeliveryReportRun> {
    const reports: DeliveryReport[] = [];
    const errors: Array<{ source: DeliveryReportSource; error: DeliveryReportError }> = [];
    await Promise.all(
      checked.map(async (source) => {
        try {
          const report = await source.fetchLatest();
          if (report === undefined) return;
          metrics.record(report);
          reports.push(report);
        } catch (thrown) {
          const error = asReportError(thrown);
          metrics.countError(source.provider, source.app, error.reason);
          errors.push({ source, error });
          try {
            onError?.(error, source);
          } catch {
            // The user's handler cannot break the schedule.
          }
        }
      }),
    );
    return { reports, errors };
  }

  function runNow(): Promise<DeliveryReportRun> {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    const wait = intervalMs * (1 - jitter * Math.random());
    timer = setTimeout(() => {
      void runNow().then(schedule);
    }, wait);
    timer.unref();
  }

  if (runOnStart) void runNow().then(schedule);
  else schedule();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
