/**
 * One structured record per failed provider call, for a pino logger and for OpenTelemetry logs: what failed, when,
 * how long it took, the provider's status and reason, and the trace to open. Never a token, payload or free-text
 * message (unless `recordErrorMessages`), and never a flood: records are rate-limited per (provider, app, error_type).
 */
import type { Context, Span, SpanContext } from '@opentelemetry/api';
import { context as contextApi, ROOT_CONTEXT, trace } from './peers.js';
import { LogLimiter, type LogLimit } from './log-limiter.js';
import type { ProblemLog } from './problems.js';
import { redactMessage, redactReason } from './redact.js';
import { readProperty, readString, toHttpStatus } from './read.js';
import { dominantErrorType, errorOwner, type ErrorType } from './taxonomy.js';
import type { FailedMessage, OtelLogAttributeValue, OtelLoggerProviderLike, PinoCompatibleLogger } from './types.js';
import { systemAttributes, PUSH_ATTRIBUTES } from '../tracing/spans.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_OPERATION_NAME,
} from '../tracing/semconv.js';

/** `eventName` of a failed call's OpenTelemetry record, and `event` of its pino record. */
export const FAILURE_LOG_EVENT = 'push.call.failed';
/** `eventName` of the record that says how many failure records the rate limit dropped. */
export const SUPPRESSED_LOG_EVENT = 'push.call.failed.suppressed';
/** The log attributes beside the span's (`error.type`, `push.provider.reason`, `messaging.*`, `push.app`). */
export const LOG_ATTRIBUTES = {
  status: 'http.response.status_code',
  durationMs: 'push.duration_ms',
  errorClass: 'exception.type',
  errorMessage: 'exception.message',
  suppressed: 'push.log.suppressed',
  intervalSeconds: 'push.log.interval_seconds',
} as const;

type Severity = 'info' | 'warn' | 'error';
// OpenTelemetry's SeverityNumber values, copied so that the api-logs package is never loaded.
const SEVERITY_NUMBER: Readonly<Record<Severity, number>> = { info: 9, warn: 13, error: 17 };
const SEVERITY_TEXT: Readonly<Record<Severity, string>> = { info: 'INFO', warn: 'WARN', error: 'ERROR' };

/** Who can act on it decides the level: a gone device is routine, a rejected key wants a person. */
function severityOf(errorType: ErrorType): Severity {
  const owner = errorOwner(errorType);
  if (owner === 'sender') return 'error';
  return owner === 'audience' || owner === 'caller' ? 'info' : 'warn';
}

// How @opentelemetry/api-logs keeps its global provider, so that it is found without loading the package: the key
// and version are the API's contract between its copies in one process (logs.getLoggerProvider() reads the same).
const GLOBAL_LOGS_KEY = Symbol.for('io.opentelemetry.js.api.logs');
const LOGS_API_COMPATIBILITY_VERSION = 1;

function globalLoggerProvider(): OtelLoggerProviderLike | undefined {
  const getter = (globalThis as Record<symbol, unknown>)[GLOBAL_LOGS_KEY];
  if (typeof getter !== 'function') return undefined;
  try {
    const provider: unknown = getter(LOGS_API_COMPATIBILITY_VERSION);
    return typeof readProperty(provider, 'getLogger') === 'function' ? (provider as OtelLoggerProviderLike) : undefined;
  } catch {
    return undefined;
  }
}

type OtelLogger = ReturnType<OtelLoggerProviderLike['getLogger']>;

/** One record, in both shapes: pino fields (snake_case, for LogQL's `| json`) and OpenTelemetry attributes. */
interface LogRecord {
  readonly severity: Severity;
  readonly message: string;
  readonly event: string;
  readonly fields: Record<string, unknown>;
  readonly attributes: Record<string, OtelLogAttributeValue>;
  readonly context: Context | undefined;
}

/** What a summary is about. */
interface Subject {
  readonly sender: SenderFailureLog;
  readonly errorType: ErrorType;
}

/** The failure log of one PushTelemetry: its sinks, its rate limit, and the wrapped senders' views of it. */
export class FailureLog {
  readonly #logger: PinoCompatibleLogger | undefined;
  /** The explicit provider; undefined = the global one, null = none. */
  readonly #loggerProvider: OtelLoggerProviderLike | null | undefined;
  readonly #version: string;
  readonly #limiter: LogLimiter<Subject>;
  readonly problems: ProblemLog;
  readonly recordErrorMessages: boolean;
  #provider: OtelLoggerProviderLike | undefined;
  #otelLogger: OtelLogger | undefined;

  constructor(
    logger: PinoCompatibleLogger | undefined,
    loggerProvider: OtelLoggerProviderLike | false | undefined,
    limit: LogLimit,
    problems: ProblemLog,
    recordErrorMessages: boolean,
    version: string,
  ) {
    this.#logger = logger;
    this.#loggerProvider = loggerProvider === false ? null : loggerProvider;
    this.#version = version;
    this.problems = problems;
    this.recordErrorMessages = recordErrorMessages;
    this.#limiter = new LogLimiter(limit, (subject, suppressed, seconds) =>
      this.write(suppressedRecord(subject, suppressed, seconds)),
    );
  }

  forSender(provider: string, app: string | undefined, operation: string): SenderFailureLog {
    return new SenderFailureLog(this, provider, app, operation);
  }

  /** True when a record would go anywhere: a pino logger, or a logger provider (the global one registered now). */
  get active(): boolean {
    return this.#logger !== undefined || this.#currentOtelLogger() !== undefined;
  }

  admit(sender: SenderFailureLog, errorType: ErrorType): boolean {
    return this.#limiter.admit(`${sender.key}\u0000${errorType}`, { sender, errorType });
  }

  flush(): void {
    this.#limiter.flush();
  }

  /** Writes a record to every sink; a sink that throws lands in the problem log, never in the send. */
  write(record: LogRecord): void {
    const logger = this.#logger;
    if (logger !== undefined) {
      try {
        logger[record.severity]({ event: record.event, ...record.fields }, record.message);
      } catch (error) {
        this.problems.report('logger', error);
      }
    }
    try {
      this.#currentOtelLogger()?.emit({
        eventName: record.event,
        timestamp: Date.now(),
        severityNumber: SEVERITY_NUMBER[record.severity],
        severityText: SEVERITY_TEXT[record.severity],
        body: record.message,
        attributes: record.attributes,
        ...(record.context !== undefined && { context: record.context }),
      });
    } catch (error) {
      this.problems.report('loggerProvider', error);
    }
  }

  #currentOtelLogger(): OtelLogger | undefined {
    const provider = this.#loggerProvider === null ? undefined : (this.#loggerProvider ?? globalLoggerProvider());
    if (provider !== this.#provider) {
      this.#provider = provider;
      this.#otelLogger = undefined;
      try {
        this.#otelLogger = provider?.getLogger('push-telemetry', this.#version);
      } catch (error) {
        this.problems.report('loggerProvider', error);
      }
    }
    return this.#otelLogger;
  }
}

function traceOf(span: Span | undefined): { spanContext: SpanContext | undefined; context: Context | undefined } {
  if (span !== undefined) return { spanContext: span.spanContext(), context: trace.setSpan(ROOT_CONTEXT, span) };
  // No span of ours (tracing off, or sampled out): the caller's span, when there is one, is the trace to open.
  const active = contextApi.active();
  const spanContext = trace.getSpanContext(active);
  return { spanContext, context: spanContext === undefined ? undefined : active };
}

/** The failure log as one wrapped sender sees it: the sender's labels resolved once, at wrap time. */
export class SenderFailureLog {
  readonly #log: FailureLog;
  readonly key: string;
  /** Provider and app, the rate limit's scope: all a summary names. */
  readonly senderFields: Readonly<Record<string, string>>;
  readonly senderAttributes: Readonly<Record<string, OtelLogAttributeValue>>;
  readonly fields: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, OtelLogAttributeValue>>;

  constructor(log: FailureLog, provider: string, app: string | undefined, operation: string) {
    this.#log = log;
    this.key = `${provider}\u0000${app ?? ''}`;
    this.senderFields = { provider, ...(app !== undefined && { app }) };
    this.senderAttributes = {
      ...(systemAttributes(provider) as Record<string, string>),
      ...(app !== undefined && { [PUSH_ATTRIBUTES.app]: app }),
    };
    this.fields = { ...this.senderFields, operation };
    this.attributes = { ...this.senderAttributes, [ATTR_MESSAGING_OPERATION_NAME]: operation };
  }

  /** A call that threw or rejected: every one of its `count` messages failed with `errorType`. */
  callFailed(
    error: unknown,
    errorType: ErrorType,
    reason: string | undefined,
    count: number,
    seconds: number,
    span: Span | undefined,
    tokensOf: () => readonly string[] | undefined,
    statusOf: () => number | undefined,
  ): void {
    const log = this.#log;
    try {
      if (!log.active || !log.admit(this, errorType)) return;
      const tokens = tokensOf();
      const fields: Record<string, unknown> = { ...this.fields, outcome: 'failure', error_type: errorType };
      const attributes: Record<string, OtelLogAttributeValue> = { ...this.attributes, [ATTR_ERROR_TYPE]: errorType };
      if (reason !== undefined) attributes[PUSH_ATTRIBUTES.reason] = fields.reason = redactReason(reason, tokens);
      // Asked only here, past the rate limit: the status lands in the log and nowhere else.
      const status = statusOf();
      if (status !== undefined) attributes[LOG_ATTRIBUTES.status] = fields.status = status;
      const name = readString(error, 'name');
      if (name !== undefined) attributes[LOG_ATTRIBUTES.errorClass] = fields.error_class = redactReason(name, tokens);
      if (log.recordErrorMessages) {
        const message = readString(error, 'message') ?? (typeof error === 'string' ? error : undefined);
        if (message !== undefined)
          attributes[LOG_ATTRIBUTES.errorMessage] = fields.error_message = redactMessage(message, tokens);
      }
      log.write(this.#record(errorType, 'push call failed', fields, attributes, count, 0, count, seconds, span));
    } catch (problem) {
      log.problems.report('logger', problem);
    }
  }

  /** A call that returned with some (`partial`) or all (`failure`) of its messages refused. */
  callSettled(
    accepted: number,
    failed: readonly FailedMessage[],
    failedTypes: readonly ErrorType[],
    seconds: number,
    span: Span | undefined,
    tokens: () => readonly string[] | undefined,
  ): void {
    const log = this.#log;
    try {
      if (!log.active) return;
      const byType: Record<string, number> = {};
      for (const type of failedTypes) byType[type] = (byType[type] ?? 0) + 1;
      const dominant = dominantErrorType(failedTypes);
      if (!log.admit(this, dominant)) return;
      const outcome = accepted > 0 ? 'partial' : 'failure';
      const fields: Record<string, unknown> = { ...this.fields, outcome, error_type: dominant, failed_by_type: byType };
      const attributes: Record<string, OtelLogAttributeValue> = { ...this.attributes, [ATTR_ERROR_TYPE]: dominant };
      for (const type in byType) attributes[PUSH_ATTRIBUTES.failedByType + type] = byType[type] as number;
      // The first refused message of the dominant type speaks for the call, as on the span.
      const first = failed[failedTypes.indexOf(dominant)];
      const reason = readString(first, 'reason');
      if (reason !== undefined) {
        const token = readString(first, 'token');
        const cut = token === undefined ? tokens() : [token, ...(tokens() ?? [])];
        attributes[PUSH_ATTRIBUTES.reason] = fields.reason = redactReason(reason, cut);
      }
      const status = toHttpStatus(readProperty(first, 'status'));
      if (status !== undefined) attributes[LOG_ATTRIBUTES.status] = fields.status = status;
      const message = outcome === 'partial' ? 'push call partly failed' : 'push call failed';
      const total = accepted + failedTypes.length;
      log.write(
        this.#record(dominant, message, fields, attributes, total, accepted, failedTypes.length, seconds, span),
      );
    } catch (problem) {
      log.problems.report('logger', problem);
    }
  }

  #record(
    errorType: ErrorType,
    message: string,
    fields: Record<string, unknown>,
    attributes: Record<string, OtelLogAttributeValue>,
    count: number,
    accepted: number,
    failed: number,
    seconds: number,
    span: Span | undefined,
  ): LogRecord {
    const durationMs = Math.round(seconds * 1e6) / 1e3;
    fields.messages = count;
    fields.messages_failed = failed;
    fields.duration_ms = durationMs;
    attributes[ATTR_MESSAGING_BATCH_MESSAGE_COUNT] = count;
    attributes[PUSH_ATTRIBUTES.accepted] = accepted;
    attributes[PUSH_ATTRIBUTES.failed] = failed;
    attributes[LOG_ATTRIBUTES.durationMs] = durationMs;
    const { spanContext, context } = traceOf(span);
    if (spanContext !== undefined && trace.isSpanContextValid(spanContext)) {
      // The names pino's own OpenTelemetry instrumentation writes, so one Loki query finds both.
      fields.trace_id = spanContext.traceId;
      fields.span_id = spanContext.spanId;
      fields.trace_flags = `0${spanContext.traceFlags.toString(16)}`.slice(-2);
    }
    return { severity: severityOf(errorType), message, event: FAILURE_LOG_EVENT, fields, attributes, context };
  }
}

function suppressedRecord({ sender, errorType }: Subject, suppressed: number, seconds: number): LogRecord {
  const intervalSeconds = Math.round(seconds * 1000) / 1000;
  return {
    severity: 'warn',
    message: `${suppressed} push failure records suppressed`,
    event: SUPPRESSED_LOG_EVENT,
    fields: { ...sender.senderFields, error_type: errorType, suppressed, interval_seconds: intervalSeconds },
    attributes: {
      ...sender.senderAttributes,
      [ATTR_ERROR_TYPE]: errorType,
      [LOG_ATTRIBUTES.suppressed]: suppressed,
      [LOG_ATTRIBUTES.intervalSeconds]: intervalSeconds,
    },
    context: undefined,
  };
}
