/**
 * The telemetry contract in one dependency-free module: metric names and help, the duration buckets, the label
 * names and the rules their values follow. The prom-client binding registers from it, and the alert and dashboard
 * generators read it without loading prom-client (docs/metrics.md is its prose).
 */

export const METRIC_NAMES = {
  messages: 'push_messages_total',
  duration: 'push_request_duration_seconds',
  inFlight: 'push_requests_in_flight',
  lastSuccess: 'push_last_success_timestamp_seconds',
  receipts: 'push_receipts_total',
  info: 'push_telemetry_info',
  invalidTokensHeld: 'push_invalid_tokens_held_total',
} as const;

export const METRIC_HELP = {
  messages: 'Recipient messages handed to a push provider, by outcome (accepted|failed) and error_type (failed only).',
  duration: 'Duration of push provider API calls in seconds, by operation and outcome (success|partial|failure).',
  inFlight: 'Push provider API calls started and not yet settled.',
  lastSuccess: 'Unix time in seconds of the last message a push provider accepted.',
  receipts: 'Second-phase delivery receipts (Expo), by outcome (delivered|failed) and error_type (failed only).',
  invalidTokensHeld:
    'Invalid-token verdicts the surge guard held back from onInvalidToken for a person to confirm (a mass verdict is likelier a misconfiguration than real uninstalls).',
  info: 'Always 1 while a push-telemetry instrumented process runs; tells "no traffic" from "sender gone".',
} as const;

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;
export const REQUEST_OUTCOMES = ['success', 'partial', 'failure'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** The labels each metric carries; `app` only on senders that set one. No other label is ever added. */
export const METRIC_LABELS = {
  messages: ['provider', 'app', 'outcome', 'error_type'],
  duration: ['provider', 'app', 'operation', 'outcome'],
  inFlight: ['provider', 'app'],
  lastSuccess: ['provider', 'app'],
  receipts: ['provider', 'app', 'outcome', 'error_type'],
  invalidTokensHeld: ['provider', 'app'],
  info: ['version'],
} as const satisfies Readonly<Record<keyof typeof METRIC_NAMES, readonly string[]>>;

/** Label values for provider and operation: Prometheus-friendly and bounded, rejected at wrap time otherwise. */
export const PROVIDER_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const OPERATION_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Bundle ids (com.example.app), Firebase project ids (my-project-123) and similar. */
export const APP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
