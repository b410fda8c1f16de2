/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { Registry as PromClientRegistry, RegistryContentType } from 'prom-client';

/** A prom-client registry of either exposition format (an AggregatorRegistry included). */
type Registry = PromClientRegistry<RegistryContentType>;
import { Registry as PromRegistry, trace } from './peers.js';
import {
  acceptsOpenMetrics,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  renderRegistry,
} from '../metrics/exposition.js';
import { storeFor } from '../metrics/prom-client-binding.js';
import { otelMetricsFor, type OtelMetrics } from '../metrics/otel-binding.js';
import { metricProducerFor, type PushMetricProducer } from '../metrics/otel-producer.js';
import { ProblemLog, type TelemetryProblem } from './problems.js';
import type { SeriesStore } from '../metrics/counter-store.js';
import { isErrorType } from './taxonomy.js';
import {
  guardThresholds,
  judgeInvalidTokens,
  logHold,
  SurgeGuard,
  type GuardThresholds,
  type HeldHandler,
  type HoldSink,
} from './invalid-tokens.js';
import { spanTemplate } from '../tracing/spans.js';
import type {
  HeldInvalidTokens,
  PushSender,
  PushTelemetryOptions,
  ReceiptsOptions,
  TokenHashOptions,
  WrapSenderOptions,
} from './types.js';
import { VERSION } from '../version.js';
import { instrumentSender, type SenderRuntime } from './wrap.js';
import { APP_PATTERN, OPERATION_PATTERN, PROVIDER_PATTERN } from '../metrics/contract.js';
import { checkFunction, checkLabelValue, checkMethods, describe, rejectUnknownOptions } from './options.js';
import { FailureLog } from './failure-log.js';
import { logLimit } from './log-limiter.js';
import { readProperty } from './read.js';
import { checkGroups, resolveGroup } from './groups.js';
import { checkSendFrequency, frequencyOf, type SendFrequencySettings } from './send-frequency.js';

const TELEMETRY_OPTIONS = [
  'registry',
  'tracerProvider',
  'meterProvider',
  'app',
  'exemplars',
  'tokenHash',
  'recordErrorMessages',
  'invalidTokenGuard',
  'onInvalidTokensHeld',
  'groups',
  'sendFrequency',
  'logger',
  'loggerProvider',
  'logRateLimit',
] as const;
const WRAP_HOOKS = [
  'classify',
  'reason',
  'status',
  'countMessages',
  'tokens',
  'settle',
  'onInvalidToken',
  'onInvalidTokensHeld',
] as const;
const WRAP_OPTIONS = ['provider', 'operation', 'app', 'group', ...WRAP_HOOKS] as const;
const RECEIPT_OPTIONS = ['provider', 'app', 'delivered', 'failed', 'onInvalidToken', 'onInvalidTokensHeld'] as const;

function checkApp(app: unknown): string {
  return checkLabelValue(app, APP_PATTERN, 'options.app', 'an app name of letters, digits, ".", "_" or "-"');
}

/** An open hold as health() and /healthz show it: no tokens. */
export interface HeldInvalidTokensSummary {
  readonly provider: string;
  readonly app?: string;
  readonly trigger: 'batch' | 'window';
  readonly count: number;
  /** Unix milliseconds when the hold opened. */
  readonly since: number;
}

export interface TelemetryHealth {
  /** False once any telemetry failure (a throwing hook, tracer or collector) has been swallowed. Sends are unaffected either way. */
  readonly ok: boolean;
  readonly problems: readonly TelemetryProblem[];
  /** Surge-guard holds waiting for a person (`heldInvalidTokens()` has their verdicts). They do not make `ok` false. */
  readonly invalidTokensHeld: readonly HeldInvalidTokensSummary[];
}

const NO_REGISTRY =
  'this PushTelemetry was created with registry: false, so its metrics go to options.meterProvider only and there is no Prometheus registry to serve';

/** A request handler for `/metrics`, usable with express, connect or node:http. */
export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function isRegistry(value: unknown): value is Registry {
  if (value instanceof PromRegistry) return true;
  // Another copy of prom-client in the tree: accept anything with the registry methods we call.
  return ['registerMetric', 'getSingleMetric', 'getMetricsAsJSON'].every(
    (method) => typeof readProperty(value, method) === 'function',
  );
}

function tokenHasher(options: unknown): ((token: string) => string) | undefined {
  if (options === undefined || options === false) return undefined;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options.tokenHash must be { secret, length? } or false, got ${describe(options)}`);
  }
  rejectUnknownOptions(options, ['secret', 'length'], 'options.tokenHash');
  const { secret, length = 16 } = options as TokenHashOptions;
  const bytes =
    typeof secret === 'string' ? Buffer.byteLength(secret) : secret instanceof Uint8Array ? secret.byteLength : -1;
  if (bytes < 16) {
    throw new TypeError(
      `options.tokenHash.secret must be a string or Uint8Array of at least 16 bytes (the HMAC key), got ${bytes < 0 ? describe(secret) : `${bytes} bytes`}`,
    );
  }
  if (!Number.isInteger(length) || length < 8 || length > 64) {
    throw new TypeError(
      `options.tokenHash.length must be a whole number of hex characters from 8 to 64, got ${describe(length)}`,
    );
  }
  const key = typeof secret === 'string' ? Buffer.from(secret) : Buffer.from(secret);
  return (token) => createHmac('sha256', key).update(token).digest('hex').slice(0, length);
}

/** The failed-call log, or none when there is neither a `logger` nor any logger provider to look up. */
function failureLogFor(
  options: PushTelemetryOptions,
  problems: ProblemLog,
  recordErrorMessages: boolean,
): FailureLog | undefined {
  const { logger, loggerProvider } = options;
  checkMethods(logger, ['info', 'warn', 'error'], 'options.logger', 'a pino-compatible logger');
  if (loggerProvider !== undefined && loggerProvider !== false)
    checkMethods(loggerProvider, ['getLogger'], 'options.loggerProvider', 'an OpenTelemetry LoggerProvider (or false)');
  const limit = logLimit(options.logRateLimit);
  if (logger === undefined && loggerProvider === false) return undefined;
  return new FailureLog(logger, loggerProvider, limit, problems, recordErrorMessages, VERSION);
}

function otelInstruments(meterProvider: MeterProvider): OtelMetrics {
  try {
    return otelMetricsFor(meterProvider);
  } catch (error) {
    throw new TypeError(
      'options.meterProvider could not create the push-telemetry instruments (getMeter() or an instrument threw)',
      { cause: error },
    );
  }
}

/**
 * One instrumentation setup: a registry binding, a tracer and the defaults every wrapped sender starts from.
 * Create one per process (or per registry) and wrap every sender with it.
 */
export class PushTelemetry {
  readonly #registry: Registry | undefined;
  readonly #store: SeriesStore;
  readonly #tracerProvider: TracerProvider;
  readonly #app: string | undefined;
  readonly #exemplars: boolean;
  readonly #hashToken: ((token: string) => string) | undefined;
  readonly #recordErrorMessages: boolean;
  readonly #problems: ProblemLog;
  readonly #guardThresholds: GuardThresholds | undefined;
  readonly #guards = new Map<string, SurgeGuard>();
  readonly #holds = new Set<HeldInvalidTokens>();
  readonly #onInvalidTokensHeld: HeldHandler | undefined;
  readonly #groups: readonly string[] | undefined;
  readonly #sendFrequency: SendFrequencySettings | undefined;
  readonly #failureLog: FailureLog | undefined;

  constructor(options: PushTelemetryOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`new PushTelemetry(options): options must be an object, got ${describe(options)}`);
    }
    rejectUnknownOptions(options, TELEMETRY_OPTIONS, 'new PushTelemetry(options)');
    const {
      registry = new PromRegistry(),
      tracerProvider,
      meterProvider,
      app,
      exemplars = false,
      tokenHash,
      recordErrorMessages = false,
    } = options;
    if (registry !== false && !isRegistry(registry)) {
      throw new TypeError(`options.registry must be a prom-client Registry, got ${describe(registry)}`);
    }
    if (tracerProvider !== undefined && typeof readProperty(tracerProvider, 'getTracer') !== 'function') {
      throw new TypeError(
        `options.tracerProvider must be an OpenTelemetry TracerProvider (with getTracer()), got ${describe(tracerProvider)}`,
      );
    }
    if (meterProvider !== undefined && typeof readProperty(meterProvider, 'getMeter') !== 'function') {
      throw new TypeError(
        `options.meterProvider must be an OpenTelemetry MeterProvider (with getMeter()), got ${describe(meterProvider)}`,
      );
    }
    if (registry === false && meterProvider === undefined) {
      throw new TypeError(
        'options.registry: false turns the Prometheus metrics off, which leaves no metrics at all; give options.meterProvider too (OTLP-only metrics), or leave registry out',
      );
    }
    if (typeof exemplars !== 'boolean')
      throw new TypeError(`options.exemplars must be a boolean, got ${describe(exemplars)}`);
    if (typeof recordErrorMessages !== 'boolean')
      throw new TypeError(`options.recordErrorMessages must be a boolean, got ${describe(recordErrorMessages)}`);
    checkFunction(options.onInvalidTokensHeld, 'options.onInvalidTokensHeld');
    this.#guardThresholds = guardThresholds(options.invalidTokenGuard);
    this.#groups = checkGroups(options.groups);
    this.#sendFrequency = checkSendFrequency(options.sendFrequency);
    this.#onInvalidTokensHeld = options.onInvalidTokensHeld;
    this.#recordErrorMessages = recordErrorMessages;
    this.#problems = new ProblemLog(recordErrorMessages);
    this.#failureLog = failureLogFor(options, this.#problems, recordErrorMessages);
    if (exemplars && registry === false) {
      throw new TypeError(
        'options.exemplars needs the Prometheus metrics: exemplars are served on /metrics, which options.registry: false turns off',
      );
    }
    if (this.#sendFrequency !== undefined && registry === false) {
      throw new TypeError(
        'options.sendFrequency needs the Prometheus metrics: push_recipient_daily_sends is served on /metrics only, which options.registry: false turns off',
      );
    }
    this.#app = app === undefined ? undefined : checkApp(app);
    this.#hashToken = tokenHasher(tokenHash);
    this.#exemplars = exemplars;
    this.#tracerProvider = tracerProvider ?? trace.getTracerProvider();
    this.#registry = registry === false ? undefined : registry;
    const registryStore = registry === false ? undefined : storeFor(registry);
    const otel = meterProvider === undefined ? undefined : otelInstruments(meterProvider);
    // One store, whoever reads it: the registry's, shared with every instance bound to that registry, or with
    // registry: false (a meterProvider is then required) the meter provider's own, which only it reads.
    this.#store = registryStore ?? (otel as OtelMetrics).ownStore;
    otel?.read(this.#store, this.#problems);
  }

  /** The registry the metrics are registered on. Throws a TypeError when they are off (`registry: false`). */
  get registry(): Registry {
    if (this.#registry === undefined) throw new TypeError(`telemetry.registry: ${NO_REGISTRY}`);
    return this.#registry;
  }

  /**
   * Instruments a push sender. The result has the sender's exact type, returns what it returns, throws what it throws
   * (synchronously when it does), and keeps `this`; every call becomes one span and one duration observation, and
   * every recipient one `push_messages_total` increment.
   */
  wrapSender<F extends PushSender>(fn: F, options: WrapSenderOptions<F>): F {
    if (typeof fn !== 'function')
      throw new TypeError(`wrapSender(fn, options): fn must be the sender function, got ${describe(fn)}`);
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `wrapSender(fn, options): options must be an object with at least { provider }, got ${describe(options)}`,
      );
    }
    rejectUnknownOptions(options, WRAP_OPTIONS, 'wrapSender(fn, options)');
    const provider = checkLabelValue(
      options.provider,
      PROVIDER_PATTERN,
      'options.provider',
      'a provider name such as "fcm"',
    );
    const operation = checkLabelValue(
      options.operation ?? 'send',
      OPERATION_PATTERN,
      'options.operation',
      'a snake_case SDK method name such as "send_each"',
    );
    const app = options.app === undefined ? this.#app : checkApp(options.app);
    for (const hook of WRAP_HOOKS) checkFunction(options[hook], `options.${hook}`);
    const group = resolveGroup(options.group, this.#groups, this.#store, provider, app, operation);
    const sender = this.#store.sender(provider, app);
    const frequency = this.#sendFrequency === undefined ? undefined : frequencyOf(sender, this.#sendFrequency);

    const runtime: SenderRuntime = {
      provider,
      app,
      sender,
      operation:
        group !== undefined && 'fixed' in group ? group.fixed : this.#store.operation(provider, app, operation),
      groupOf: group !== undefined && 'hook' in group ? group.hook : undefined,
      groups: group !== undefined && 'hook' in group ? group.series : undefined,
      frequency,
      span: spanTemplate(this.#tracerProvider, VERSION, {
        provider,
        operation,
        app,
        batch: options.countMessages !== undefined,
        hashToken: this.#hashToken,
        recordErrorMessages: this.#recordErrorMessages,
      }),
      exemplars: this.#exemplars,
      problems: this.#problems,
      classify: options.classify,
      reason: options.reason,
      status: options.status,
      countMessages: options.countMessages as SenderRuntime['countMessages'],
      tokens: options.tokens as SenderRuntime['tokens'],
      settle: options.settle as SenderRuntime['settle'],
      failureLog: this.#failureLog?.forSender(provider, app, operation),
      onInvalidToken: options.onInvalidToken,
      guard: options.onInvalidToken === undefined ? undefined : this.#guard(provider, app),
      onInvalidTokensHeld: options.onInvalidTokensHeld ?? this.#onInvalidTokensHeld,
    };
    return instrumentSender(fn, runtime);
  }

  /**
   * The push metrics as an OpenTelemetry `MetricProducer`, for a reader's `metricProducers` (sdk-metrics): the OTLP
   * path that costs a send no more than /metrics does. Instances sharing a registry share one producer; give it to a
   * reader once, and not together with `meterProvider` on the same reader, or every count is exported twice.
   * Durations are aggregated from the first call, so ask for it before sending.
   */
  metricProducer(): PushMetricProducer {
    return metricProducerFor(this.#store);
  }

  /** Counts second-phase delivery receipts (Expo's getReceipts) into `push_receipts_total`. */
  recordReceipts(options: ReceiptsOptions): void {
    if (options === null || typeof options !== 'object')
      throw new TypeError(`recordReceipts(options): options must be an object, got ${describe(options)}`);
    rejectUnknownOptions(options, RECEIPT_OPTIONS, 'recordReceipts(options)');
    const provider = checkLabelValue(
      options.provider,
      PROVIDER_PATTERN,
      'options.provider',
      'a provider name such as "expo"',
    );
    const app = options.app === undefined ? this.#app : checkApp(options.app);
    const { delivered, failed = [], onInvalidToken, onInvalidTokensHeld } = options;
    if (!Number.isInteger(delivered) || delivered < 0)
      throw new TypeError(`options.delivered must be a whole number >= 0, got ${describe(delivered)}`);
    if (!Array.isArray(failed))
      throw new TypeError(`options.failed must be an array of { errorType }, got ${describe(failed)}`);
    checkFunction(onInvalidToken, 'options.onInvalidToken');
    checkFunction(onInvalidTokensHeld, 'options.onInvalidTokensHeld');
    const types = failed.map((message) => {
      const type = readProperty(message, 'errorType');
      return isErrorType(type) ? type : 'unknown';
    });
    this.#store.sender(provider, app).countReceipts(delivered, types);
    if (onInvalidToken === undefined) return;
    const source = {
      provider,
      app,
      problems: this.#problems,
      onInvalidToken,
      guard: this.#guard(provider, app),
      onInvalidTokensHeld: onInvalidTokensHeld ?? this.#onInvalidTokensHeld,
    };
    judgeInvalidTokens(source, delivered + failed.length, failed, types, performance.now());
  }

  /** Telemetry failures swallowed so far (sends never see them), and the surge guard's open holds. */
  health(): TelemetryHealth {
    const problems = this.#problems.list();
    const invalidTokensHeld = [...this.#holds].map(({ provider, app, trigger, count, since }) => ({
      provider,
      ...(app !== undefined && { app }),
      trigger,
      count,
      since,
    }));
    return { ok: problems.length === 0, problems, invalidTokensHeld };
  }

  /**
   * The surge guard's open holds, oldest first: verdicts held back from `onInvalidToken` because one call or one
   * window reported most of its recipients gone. A person confirms with `release()` or throws them away with `discard()`.
   */
  heldInvalidTokens(): readonly HeldInvalidTokens[] {
    return [...this.#holds];
  }

  /**
   * Writes the pending "N push failure records suppressed" summaries of the log rate limit now, instead of at the end
   * of their interval: call it before the process exits, or the counts of its last interval are lost.
   */
  flushFailureLog(): void {
    this.#failureLog?.flush();
  }

  /** The surge guard of a (provider, app), shared by every sender and receipts call of this instance; none when off. */
  #guard(provider: string, app: string | undefined): SurgeGuard | undefined {
    const thresholds = this.#guardThresholds;
    if (thresholds === undefined) return undefined;
    const key = `${provider}\u0000${app ?? ''}`;
    let guard = this.#guards.get(key);
    if (guard === undefined) this.#guards.set(key, (guard = new SurgeGuard(provider, app, thresholds, this.#holdSink)));
    return guard;
  }

  readonly #holdSink: HoldSink = {
    countHeld: (provider, app, count) => {
      this.#store.sender(provider, app).invalidTokensHeld += count;
    },
    opened: (hold) => {
      this.#holds.add(hold);
      logHold(hold);
    },
    closed: (hold) => {
      this.#holds.delete(hold);
    },
  };

  /**
   * Serves the registry: OpenMetrics (with exemplars) when exemplars are on and the scraper accepts it, the
   * Prometheus text format otherwise. GET and HEAD only.
   */
  metricsHandler(): MetricsHandler {
    const registry = this.#registry;
    if (registry === undefined) throw new TypeError(`metricsHandler(): ${NO_REGISTRY}`);
    return async (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res
          .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
          .end('method not allowed\n');
        return;
      }
      const openMetrics = this.#exemplars && acceptsOpenMetrics(req.headers.accept);
      try {
        const body = await renderRegistry(registry, openMetrics ? 'openmetrics' : 'prometheus');
        res.writeHead(200, {
          'content-type': openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch (error) {
        this.#problems.report('collect', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics collection failed; see the process diag log\n');
      }
    };
  }
}
