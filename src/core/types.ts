import type { Context, MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { Registry as PromClientRegistry, RegistryContentType } from 'prom-client';

/** A prom-client registry of either exposition format (an AggregatorRegistry included). */
type Registry = PromClientRegistry<RegistryContentType>;
import type { ErrorType } from './taxonomy.js';

/** Any function that sends pushes: sync or async, any arguments, any `this`. */
// biome-ignore lint/suspicious/noExplicitAny: the widest function type; F itself is what users see
export type PushSender = (...args: any[]) => unknown;

/** The arguments a sender takes, as a tuple. */
export type SenderArgs<F extends PushSender> = F extends (...args: infer A) => unknown ? A : never;

/** What a sender resolves to (or returns, when it is synchronous). */
export type SenderResult<F extends PushSender> = Awaited<ReturnType<F>>;

export interface TokenHashOptions {
  /** HMAC-SHA256 key, at least 16 bytes. Keep it secret: with it, a token can be tested against its hash. */
  readonly secret: string | Uint8Array;
  /** Hex characters kept from the digest, 8 to 64. Default 16 (64 bits): enough to tell tokens apart, too few to matter if leaked. */
  readonly length?: number;
}

export interface PushTelemetryOptions {
  /**
   * The prom-client registry to register the metrics on. Default: a new registry, never prom-client's global one.
   * `false` turns the Prometheus metrics off (`telemetry.registry` and `metricsHandler()` then throw); it needs a
   * `meterProvider`, for OTLP-only metrics.
   */
  readonly registry?: Registry | false;
  /** Where spans go. Default: the global tracer provider from @opentelemetry/api (a no-op until an SDK registers one). */
  readonly tracerProvider?: TracerProvider;
  /**
   * Also record the metrics as OpenTelemetry instruments (`messaging.client.sent.messages`,
   * `messaging.client.operation.duration`, `push.client.*`) on this meter provider. Default: none, and the send path
   * does no OpenTelemetry metrics work at all. Prometheus metrics stay on unless `registry: false`.
   */
  readonly meterProvider?: MeterProvider;
  /** Default `app` label for every sender wrapped by this instance (a bundle id, a Firebase project…). */
  readonly app?: string;
  /** Attach trace and span ids of sampled spans to duration buckets, served when the scraper asks for OpenMetrics. */
  readonly exemplars?: boolean;
  /** Record an HMAC of device tokens on spans (`push.token.hash`) so one device's failures can be followed. Off by default. */
  readonly tokenHash?: TokenHashOptions | false;
  /**
   * Record the sender's own error message on spans (status description, `exception.message`) and in the problem log,
   * with the call's known tokens cut out. Off by default: providers and custom senders echo tokens and payloads in
   * their messages, so by default only the error class, `error.type` and the provider's reason code are recorded.
   */
  readonly recordErrorMessages?: boolean;
  /**
   * The surge guard's thresholds: a mass `unregistered`/`invalid_token` verdict is held back from `onInvalidToken`
   * for a person to confirm. Default on with the documented thresholds; `false` turns it off (not recommended).
   */
  readonly invalidTokenGuard?: InvalidTokenGuardOptions | false;
  /** Told when the surge guard starts holding verdicts back (once per hold); the default for every wrapped sender. */
  readonly onInvalidTokensHeld?: (held: HeldInvalidTokens) => void | Promise<void>;
  /**
   * The values of the opt-in `group` label (`['transactional', 'marketing']`), which a wrapped sender picks with its
   * `group` option; anything else counts as `other`. On push_messages_total and push_request_duration_seconds only.
   * Up to 20 names matching [a-z][a-z0-9_]{0,31}. Default none: no group label anywhere.
   */
  readonly groups?: readonly string[];
  /**
   * Estimate how many pushes each recipient received in the last 24 h, per (provider, app), in fixed memory and
   * without keeping tokens (push_recipient_daily_sends, push_recipients_over_send_cap_ratio). Reads recipients from
   * the senders' `tokens` hook. Default off.
   */
  readonly sendFrequency?: SendFrequencyOptions | boolean;
  /**
   * A pino logger (or a child of one, or anything with pino's `info/warn/error(object, message)`): one structured
   * record per failed call, never a token or payload, rate-limited by `logRateLimit` (docs/logging.md). Default none.
   */
  readonly logger?: PinoCompatibleLogger;
  /**
   * Where the OpenTelemetry log record of each failed call goes. Default: the global logger provider registered with
   * @opentelemetry/api-logs (NodeSDK registers one by default, exporting by OTLP), looked up at each failure, and
   * no records while none is registered. `false`: no OpenTelemetry log records.
   */
  readonly loggerProvider?: OtelLoggerProviderLike | false;
  /** How many failure records each (provider, app, error_type) may write per interval; the rest are summed up. */
  readonly logRateLimit?: LogRateLimitOptions;
}

/**
 * The part of a pino logger the failure log calls, pino's `logger.warn(fields, message)`. Audience- and caller-owned
 * failures are logged at info, sender-owned ones (auth, config, payload) at error, the rest at warn.
 */
export interface PinoCompatibleLogger {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** A value of an OpenTelemetry log attribute, as the failure log writes them. */
export type OtelLogAttributeValue = string | number | boolean;

/** The fields of an OpenTelemetry log record the failure log sets (a subset of @opentelemetry/api-logs' LogRecord). */
export interface OtelLogRecordLike {
  readonly eventName?: string;
  readonly timestamp?: number;
  readonly severityNumber?: number;
  readonly severityText?: string;
  readonly body?: string;
  readonly attributes?: Readonly<Record<string, OtelLogAttributeValue>>;
  /** Carries the failed call's span, so the record gets its trace and span id. */
  readonly context?: Context;
}

/** An OpenTelemetry LoggerProvider (@opentelemetry/sdk-logs), typed by the one method used, so no import is needed. */
export interface OtelLoggerProviderLike {
  getLogger(name: string, version?: string): { emit(record: OtelLogRecordLike): void };
}

export interface LogRateLimitOptions {
  /** Records per (provider, app, error_type) per interval. Default 10. */
  readonly burst?: number;
  /** The interval, in seconds; at its end one record says how many were suppressed. Default 60. */
  readonly intervalSeconds?: number;
}

export interface SendFrequencyOptions {
  /** Pushes per recipient in 24 h above which a recipient counts as over the cap. Default 5. */
  readonly cap?: number;
  /**
   * Recipients the sample holds per (provider, app), 256 to 1,048,576; memory is 40 bytes each (160 KiB at the
   * default 4096), and the error of the estimates shrinks with its square root (docs/metrics.md).
   */
  readonly sampleSize?: number;
}

/** Which group a call belongs to: one of PushTelemetryOptions.groups, or a function of the call's arguments. */
export type GroupOption<F extends PushSender> = string | ((args: SenderArgs<F>) => string | undefined);

/**
 * When one call or one window of calls says most of its recipients are gone, that is far likelier a bad key, the
 * wrong APNs environment or a provider bug than real uninstalls; such verdicts are held instead of pruned.
 */
export interface InvalidTokenGuardOptions {
  /** A call with at least this many recipients is judged on its own. Default 20. */
  readonly batchMinRecipients?: number;
  /** Hold a call's verdicts when they are more than this share of its recipients. Default 0.5. */
  readonly batchShare?: number;
  /** The sliding window per (provider, app), in seconds. Default 60. */
  readonly windowSeconds?: number;
  /** Hold when the window holds at least this many verdicts... Default 100. */
  readonly windowMinVerdicts?: number;
  /** ...that are more than this share of the window's recipients. Default 0.5. */
  readonly windowShare?: number;
}

/**
 * Verdicts the surge guard held back for one (provider, app). One hold stays open, gathering verdicts, until a person
 * calls `release()` or `discard()`; the next surge opens a new one.
 */
export interface HeldInvalidTokens {
  readonly provider: string;
  readonly app?: string;
  /** What tripped the guard first: one big call (`batch`) or the sliding window (`window`). */
  readonly trigger: 'batch' | 'window';
  /** Unix milliseconds when the hold opened. */
  readonly since: number;
  /** Verdicts held so far, kept ones and dropped ones (past the memory bound) together. */
  readonly count: number;
  /** The held verdicts, oldest first (at most the memory bound; `count` may be larger). */
  readonly events: readonly InvalidTokenEvent[];
  /** True once released or discarded. */
  readonly settled: boolean;
  /** Calls `onInvalidToken` for every kept verdict and closes the hold; returns how many were passed on. */
  release(): number;
  /** Forgets the held verdicts and closes the hold: the tokens stay in your store. */
  discard(): void;
}

/** One recipient message a provider refused, as a `settle` function reports it. */
export interface FailedMessage {
  readonly errorType: ErrorType;
  /** The provider's own code (`BadDeviceToken`, `messaging/registration-token-not-registered`…), recorded on the span only. */
  readonly reason?: string;
  /** The recipient's token, for `onInvalidToken` and the opt-in token hash; never recorded raw. */
  readonly token?: string;
  /**
   * The HTTP status the provider refused this message with (APNs' 410 for a gone device), for the failure log's
   * `status` when this message speaks for the call. Leave it out when the refusal came in a 200's body.
   */
  readonly status?: number;
}

/** Per-message outcome of a call that resolved: how many messages the provider took and which it refused. */
export interface SettleResult {
  readonly accepted: number;
  readonly failed: readonly FailedMessage[];
  /** The provider's id for the message; recorded as `messaging.message.id` when the call carried one accepted message. */
  readonly messageId?: string;
}

export interface InvalidTokenEvent {
  readonly token: string;
  readonly errorType: 'unregistered' | 'invalid_token';
  readonly provider: string;
  readonly app?: string;
  readonly reason?: string;
}

export interface WrapSenderOptions<F extends PushSender> {
  /** The `provider` label: fcm, apns, webpush, expo, sns, or a name of your own matching [a-z][a-z0-9_]{0,31}. */
  readonly provider: string;
  /** The SDK method in snake_case, for the `operation` label and the span name. Default `send`. */
  readonly operation?: string;
  /** The `app` label for this sender; overrides the instance's `app`. */
  readonly app?: string;
  /**
   * The `group` label of this sender's calls: a declared group, or a function of the call's arguments returning one
   * (`([message]) => message.data?.kind`). Anything undeclared, and a function that throws, counts as `other`.
   * Needs `new PushTelemetry({ groups })`.
   */
  readonly group?: GroupOption<F>;
  /** Maps a thrown or rejected error onto the taxonomy. Falls back to classifyError when it throws or returns something else. */
  readonly classify?: (error: unknown) => ErrorType;
  /** The provider's raw code for an error, for `push.provider.reason`. Default: the error's string `code`, HTTP status or name. */
  readonly reason?: (error: unknown) => string | undefined;
  /**
   * The HTTP status of an error, for the failure log's `status`. Default: where common clients put it (`statusCode`,
   * `status`, `response.status`, `response.statusCode`, `$metadata.httpStatusCode`, `httpResponse.status`). Called
   * only when a failure record is written; a throw or anything but a status from 100 to 599 means no `status`.
   */
  readonly status?: (error: unknown) => number | undefined;
  /** Recipient messages in one call. Default: the length of `tokens(args)` when given, else 1. */
  readonly countMessages?: (args: SenderArgs<F>) => number;
  /** The device tokens a call sends to, for `onInvalidToken` and the token hash when the whole call fails. */
  readonly tokens?: (args: SenderArgs<F>) => readonly string[];
  /** Reads per-message outcomes from a result, for senders that resolve with partial failures instead of throwing. */
  readonly settle?: (result: SenderResult<F>, args: SenderArgs<F>) => SettleResult;
  /**
   * Called once per recipient whose failure is `unregistered` or `invalid_token` on per-recipient evidence, so the app
   * can prune its token store. Never awaited. A whole-call failure of a call with several recipients never calls it,
   * and mass verdicts are held by the surge guard (see `onInvalidTokensHeld`).
   */
  readonly onInvalidToken?: (event: InvalidTokenEvent) => void | Promise<void>;
  /** Told when the surge guard holds this sender's verdicts back; default the telemetry's `onInvalidTokensHeld`. */
  readonly onInvalidTokensHeld?: (held: HeldInvalidTokens) => void | Promise<void>;
}

export interface ReceiptsOptions {
  readonly provider: string;
  readonly app?: string;
  /** Receipts that report delivery. */
  readonly delivered: number;
  /** One entry per failed receipt; give `token` where known so `onInvalidToken` can prune it. */
  readonly failed?: readonly FailedMessage[];
  /** Called once per failed receipt that is `unregistered` or `invalid_token` and carries a token. Never awaited. */
  readonly onInvalidToken?: (event: InvalidTokenEvent) => void | Promise<void>;
  /** Told when the surge guard holds these receipts' verdicts back; default the telemetry's `onInvalidTokensHeld`. */
  readonly onInvalidTokensHeld?: (held: HeldInvalidTokens) => void | Promise<void>;
}
