import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  MESSAGING_OPERATION_TYPE_VALUE_SEND,
  METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
} from '../tracing/semconv.js';
import { dominantErrorTypeIndex, ERROR_TYPES, errorTypeIndex, type ErrorType } from '../core/taxonomy.js';
import { PUSH_ATTRIBUTES, systemAttributes } from '../tracing/spans.js';
import { OUTCOME_PARTIAL, OUTCOME_SUCCESS, type OperationSeries } from './counter-store.js';

/**
 * The OpenTelemetry names, descriptions and attribute sets of the push metrics, shared by the two ways they reach an
 * SDK: instruments on a meter provider (otel-binding.ts) and a metric producer a reader collects (otel-producer.ts).
 */

export const OTEL_METRIC_NAMES = {
  /** Counter `{message}` (asynchronous): the twin of `push_messages_total`. */
  sentMessages: METRIC_MESSAGING_CLIENT_SENT_MESSAGES,
  /** Histogram `s`: the twin of `push_request_duration_seconds`. */
  duration: METRIC_MESSAGING_CLIENT_OPERATION_DURATION,
  /** UpDownCounter `{request}` (asynchronous): the twin of `push_requests_in_flight`. */
  activeRequests: 'push.client.active_requests',
  /** Gauge `s` (asynchronous): the twin of `push_last_success_timestamp_seconds`. */
  lastSuccess: 'push.client.last_success.timestamp',
  /** Counter `{receipt}` (asynchronous): the twin of `push_receipts_total`. */
  receipts: 'push.client.receipts',
  /** Counter `{verdict}` (asynchronous): the twin of `push_invalid_tokens_held_total`. */
  invalidTokensHeld: 'push.client.invalid_tokens.held',
} as const;

export type OtelMetricKey = keyof typeof OTEL_METRIC_NAMES;

export const OTEL_METRIC_DESCRIPTIONS: Readonly<Record<OtelMetricKey, string>> = {
  sentMessages: 'Number of messages producer attempted to send to the broker.',
  duration: 'Duration of messaging operation initiated by a producer or consumer client.',
  activeRequests: 'Push provider API calls started and not yet settled.',
  lastSuccess: 'Unix time in seconds of the last message a push provider accepted.',
  receipts: 'Second-phase delivery receipts (Expo), by push.outcome (delivered|failed) and error.type (failed only).',
  invalidTokensHeld: 'Invalid-token verdicts the surge guard held back from onInvalidToken for a person to confirm.',
};

export const OTEL_METRIC_UNITS: Readonly<Record<OtelMetricKey, string>> = {
  sentMessages: '{message}',
  duration: 's',
  activeRequests: '{request}',
  lastSuccess: 's',
  receipts: '{receipt}',
  invalidTokensHeld: '{verdict}',
};

/** Duration attribute sets per operation: success, partial, then failure by ERROR_TYPES order. */
export const DURATION_SETS = 2 + ERROR_TYPES.length;

/** The duration attribute set of a call that returned; error.type only when it failed as a whole. */
export function settledDurationSet(outcome: number, failedTypes: readonly ErrorType[]): number {
  return outcome === OUTCOME_SUCCESS ? 0 : outcome === OUTCOME_PARTIAL ? 1 : 2 + dominantErrorTypeIndex(failedTypes);
}

/** The duration attribute set of a call that threw or rejected. */
export function failedDurationSet(errorType: ErrorType): number {
  return 2 + errorTypeIndex(errorType);
}

function withAttributes(base: Attributes, extra: Attributes): Attributes {
  return Object.freeze({ ...base, ...extra });
}

/** `[outcome=<first>, outcome=<failed> + error.type=<each of ERROR_TYPES>]`, matching the count slots. */
export function outcomeAttributes(base: Attributes, first: string, failed: string): readonly Attributes[] {
  const outcome = PUSH_ATTRIBUTES.outcome;
  return [
    withAttributes(base, { [outcome]: first }),
    ...ERROR_TYPES.map((type) => withAttributes(base, { [outcome]: failed, [ATTR_ERROR_TYPE]: type })),
  ];
}

/** The attributes of one (provider, app). */
export function senderAttributes(provider: string, app: string | undefined): Attributes {
  const attributes: Attributes = systemAttributes(provider);
  if (app !== undefined) attributes[PUSH_ATTRIBUTES.app] = app;
  return Object.freeze(attributes);
}

/** The sent-messages attribute sets of one operation, matching its count slots. */
export function sentAttributeSets(series: OperationSeries): readonly Attributes[] {
  const base: Attributes = { ...systemAttributes(series.provider), [ATTR_MESSAGING_OPERATION_NAME]: series.operation };
  if (series.app !== undefined) base[PUSH_ATTRIBUTES.app] = series.app;
  if (series.group !== undefined) base[PUSH_ATTRIBUTES.group] = series.group;
  return outcomeAttributes(base, 'accepted', 'failed');
}

/** The DURATION_SETS duration attribute sets of one operation, by settledDurationSet/failedDurationSet index. */
export function durationAttributeSets(series: OperationSeries): readonly Attributes[] {
  const base: Attributes = {
    ...systemAttributes(series.provider),
    [ATTR_MESSAGING_OPERATION_NAME]: series.operation,
    [ATTR_MESSAGING_OPERATION_TYPE]: MESSAGING_OPERATION_TYPE_VALUE_SEND,
  };
  if (series.app !== undefined) base[PUSH_ATTRIBUTES.app] = series.app;
  if (series.group !== undefined) base[PUSH_ATTRIBUTES.group] = series.group;
  const [success, ...failure] = outcomeAttributes(base, 'success', 'failure');
  return [success as Attributes, withAttributes(base, { [PUSH_ATTRIBUTES.outcome]: 'partial' }), ...failure];
}
