import type {
  Attributes,
  ContextManager,
  ProxyTracerProvider as ProxyTracerProviderType,
  Span,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';
import {
  context,
  createContextKey,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
} from '../core/peers.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_MESSAGING_SYSTEM_NAME,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  MESSAGING_SYSTEM_VALUE_AWS_SNS,
} from './semconv.js';
import { dominantErrorType, type ErrorType } from '../core/taxonomy.js';
import type { FailedMessage } from '../core/types.js';
import { redactMessage, redactReason } from '../core/redact.js';
import { readString } from '../core/read.js';

/** Our own span and metric attributes, beside the messaging conventions. */
export const PUSH_ATTRIBUTES = {
  app: 'push.app',
  /** OTel metrics only: the Prometheus twin's `outcome` label (accepted|failed, success|partial|failure, delivered|failed). */
  outcome: 'push.outcome',
  /** OTel metrics only: the Prometheus twin's opt-in `group` label. */
  group: 'push.group',
  reason: 'push.provider.reason',
  accepted: 'push.messages.accepted',
  failed: 'push.messages.failed',
  /** Prefix of the per-error_type failure counts: `push.messages.failed.unregistered`… */
  failedByType: 'push.messages.failed.',
  tokenHash: 'push.token.hash',
} as const;

/** Event recorded for each refused message of a batch, up to MAX_FAILURE_EVENTS a span. */
export const FAILURE_EVENT = 'push.message.failed';
// Ten events show what a batch's failures look like; the per-type counts carry the totals. Each SDK event has a
// real cost, and a 500-message batch has a telemetry budget (docs/performance.md).
export const MAX_FAILURE_EVENTS = 10;

/** The part of a span that is the same for every call of one wrapped sender, built once at wrap time. */
export interface SpanTemplate {
  readonly tracer: Tracer;
  /** Set when tracing goes through the API's global proxy, which delegates to a no-op until an SDK registers. */
  readonly proxy: ProxyTracerProviderType | undefined;
  readonly name: string;
  readonly attributes: Attributes;
  readonly batch: boolean;
  readonly hashToken: ((token: string) => string) | undefined;
  /** The user's `recordErrorMessages`: the sender's own error text on the span, tokens cut out. */
  readonly recordErrorMessages: boolean;
}

// The provider a global proxy delegates to while no SDK is registered: a singleton in @opentelemetry/api.
const NOOP_DELEGATE = new ProxyTracerProvider().getDelegate();

/** What a span needs from a context manager to become the active one around the sender's call. */
export type SpanContextCarrier = Pick<ContextManager, 'active' | 'with'>;
// The ContextAPI's own accessor for the registered manager: private in its typings, present in every 1.x release.
type ContextApiInternals = { _getContextManager?: () => ContextManager };
const PROBE_KEY = createContextKey('push-telemetry context probe');
const PROBE_CONTEXT = ROOT_CONTEXT.setValue(PROBE_KEY, true);
let probedManager: SpanContextCarrier | undefined;
let probedManagerCarries = true;

function carriesContext(manager: SpanContextCarrier): boolean {
  return manager.with(PROBE_CONTEXT, () => manager.active().getValue(PROBE_KEY) === true);
}

/**
 * The context manager to make a span active with, or undefined when the registered one cannot carry context (the
 * API's no-op default): then nothing inside the sender could read the span back, and building a context for it would
 * be pure cost (docs/performance.md). Probed once per manager, so one registered after wrapping is
 * picked up.
 */
export function contextManagerForSpans(): SpanContextCarrier | undefined {
  // Without the accessor, the API itself delegates to whatever is registered, so probing it is just as good.
  const manager: SpanContextCarrier = (context as unknown as ContextApiInternals)._getContextManager?.() ?? context;
  if (manager !== probedManager) {
    probedManagerCarries = carriesContext(manager);
    probedManager = manager;
  }
  return probedManagerCarries ? manager : undefined;
}

/**
 * `messaging.system.name` for a provider label (the provider itself, except SNS's well-known `aws.sns`), and the
 * deprecated `messaging.system` beside it until the messaging conventions are stable. A new object each call.
 */
export function systemAttributes(provider: string): Attributes {
  const system = provider === 'sns' ? MESSAGING_SYSTEM_VALUE_AWS_SNS : provider;
  return { [ATTR_MESSAGING_SYSTEM_NAME]: system, [ATTR_MESSAGING_SYSTEM]: system };
}

export interface SpanTemplateOptions {
  readonly provider: string;
  readonly operation: string;
  readonly app: string | undefined;
  readonly batch: boolean;
  readonly hashToken: SpanTemplate['hashToken'];
  readonly recordErrorMessages: boolean;
}

export function spanTemplate(
  tracerProvider: TracerProvider,
  version: string,
  options: SpanTemplateOptions,
): SpanTemplate {
  const { provider, operation, app } = options;
  const attributes: Attributes = {
    ...systemAttributes(provider),
    [ATTR_MESSAGING_OPERATION_NAME]: operation,
    [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
  };
  if (app !== undefined) attributes[PUSH_ATTRIBUTES.app] = app;
  return {
    tracer: tracerProvider.getTracer('push-telemetry', version),
    proxy: tracerProvider instanceof ProxyTracerProvider ? tracerProvider : undefined,
    name: `${operation} ${provider}`,
    attributes: Object.freeze(attributes),
    batch: options.batch,
    hashToken: options.hashToken,
    recordErrorMessages: options.recordErrorMessages,
  };
}

/** Starts the call's span; undefined when nothing would record it (the API's no-op default, or sampled out). */
export function startSendSpan(template: SpanTemplate, messageCount: number): Span | undefined {
  // Checked per call, not at wrap time, so an SDK registered after wrapping is picked up.
  if (template.proxy !== undefined && template.proxy.getDelegate() === NOOP_DELEGATE) return undefined;
  const span = template.tracer.startSpan(template.name, { kind: SpanKind.PRODUCER, attributes: template.attributes });
  if (!span.isRecording()) return undefined;
  // Batch senders always carry the count, a single-message sender only when a call turns out to hold more (or none).
  if (template.batch || messageCount !== 1) span.setAttribute(ATTR_MESSAGING_BATCH_MESSAGE_COUNT, messageCount);
  return span;
}

function recordTokenHash(span: Span, template: SpanTemplate, tokens: readonly string[] | undefined): void {
  if (template.hashToken !== undefined && tokens !== undefined && tokens.length === 1) {
    span.setAttribute(PUSH_ATTRIBUTES.tokenHash, template.hashToken(tokens[0] as string));
  }
}

export interface SettledCall {
  readonly accepted: number;
  readonly failed: readonly FailedMessage[];
  readonly messageId: string | undefined;
  readonly tokens: readonly string[] | undefined;
}

/** Ends the span of a call that returned: accepted/failed counts, per-type counts and one event per refused message. */
export function endSettledSpan(
  span: Span,
  template: SpanTemplate,
  call: SettledCall,
  failedTypes: readonly ErrorType[],
): void {
  const failedCount = failedTypes.length;
  span.setAttribute(PUSH_ATTRIBUTES.accepted, call.accepted);
  span.setAttribute(PUSH_ATTRIBUTES.failed, failedCount);
  if (call.messageId !== undefined) span.setAttribute(ATTR_MESSAGING_MESSAGE_ID, call.messageId);
  recordTokenHash(span, template, call.tokens);
  if (failedCount > 0) {
    const byType = new Map<ErrorType, number>();
    for (const type of failedTypes) byType.set(type, (byType.get(type) ?? 0) + 1);
    for (const [type, count] of byType) span.setAttribute(PUSH_ATTRIBUTES.failedByType + type, count);
    const dominant = dominantErrorType(failedTypes);
    const events = Math.min(failedCount, MAX_FAILURE_EVENTS);
    for (let i = 0; i < events; i++) {
      const message = call.failed[i] as FailedMessage;
      const attributes: Attributes = { [ATTR_ERROR_TYPE]: failedTypes[i] as ErrorType };
      const reason = readString(message, 'reason');
      const token = readString(message, 'token');
      if (reason !== undefined)
        attributes[PUSH_ATTRIBUTES.reason] = redactReason(reason, token === undefined ? undefined : [token]);
      if (token !== undefined && template.hashToken !== undefined)
        attributes[PUSH_ATTRIBUTES.tokenHash] = template.hashToken(token);
      span.addEvent(FAILURE_EVENT, attributes);
    }
    if (call.accepted === 0) {
      // Every message failed: the call failed as far as anyone waiting for a notification is concerned.
      span.setAttribute(ATTR_ERROR_TYPE, dominant);
      if (failedCount === 1 && call.failed[0]?.reason !== undefined) {
        // Redacted like the event's copy: a settle may pass the provider's message, which can quote the token.
        const token = readString(call.failed[0], 'token');
        span.setAttribute(
          PUSH_ATTRIBUTES.reason,
          redactReason(
            String(call.failed[0].reason),
            token === undefined ? call.tokens : [token, ...(call.tokens ?? [])],
          ),
        );
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: `all ${failedCount} messages failed (${dominant})` });
    }
  }
  span.end();
}

/** Ends the span of a call that threw or rejected. */
export function endFailedSpan(
  span: Span,
  template: SpanTemplate,
  error: unknown,
  errorType: ErrorType,
  reason: string | undefined,
  messageCount: number,
  tokens: readonly string[] | undefined,
): void {
  span.setAttribute(PUSH_ATTRIBUTES.accepted, 0);
  span.setAttribute(PUSH_ATTRIBUTES.failed, messageCount);
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  if (reason !== undefined) span.setAttribute(PUSH_ATTRIBUTES.reason, redactReason(reason, tokens));
  recordTokenHash(span, template, tokens);
  const isObject = error !== null && typeof error === 'object';
  const name = isObject ? redactReason(readString(error, 'name') ?? 'Error', tokens) : undefined;
  let message: string;
  if (template.recordErrorMessages) {
    const raw = readString(error, 'message') ?? (typeof error === 'string' ? error : undefined);
    message = raw === undefined ? safeErrorSummary(name, errorType, reason, tokens) : redactMessage(raw, tokens);
  } else {
    message = safeErrorSummary(name, errorType, reason, tokens);
  }
  if (isObject) span.recordException({ name: name as string, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}

/**
 * What a span says of an error by default: its class, `error.type` and the provider's reason code, never its free
 * text, which senders and SDKs fill with the token, endpoint or payload they failed on.
 */
export function safeErrorSummary(
  name: string | undefined,
  errorType: ErrorType,
  reason: string | undefined,
  tokens: readonly string[] | undefined,
): string {
  const code = reason === undefined ? '' : ` (${redactReason(reason, tokens)})`;
  return `${name === undefined ? '' : `${name}: `}${errorType}${code}`;
}
