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
  recipientDailySends: 'push_recipient_daily_sends',
  recipientsOverSendCap: 'push_recipients_over_send_cap_ratio',
  deviceReceipts: 'push_device_receipts_total',
  deliveryLatency: 'push_delivery_latency_seconds',
  deviceReceiptsRejected: 'push_device_receipts_rejected_total',
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
  recipientDailySends:
    'Recipients by pushes received in the last 24 hours (opt-in sendFrequency), estimated at scrape time from a fixed-memory sample; a snapshot, not a counter.',
  recipientsOverSendCap:
    "Share of the last 24 hours' recipients sent more than sendFrequency.cap pushes (opt-in sendFrequency), estimated at scrape time.",
  deviceReceipts:
    'Receipts devices posted to the receipts endpoint, by event (delivered|displayed|opened); allow-listed apps and known providers only.',
  deliveryLatency:
    'Seconds from the send (the sentAt stamped into the payload) to the delivered receipt reaching the receipts endpoint.',
  deviceReceiptsRejected:
    'Receipts the receipts endpoint refused, by reason (a fixed set; never a value from the request).',
} as const;

/**
 * The bucket a value falls in: the first upper bound it does not exceed (Prometheus `le`, OTel explicit buckets), or
 * `bounds.length` for +Inf. Every histogram of the contract counts with it.
 */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let bucket = 0;
  while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
  return bucket;
}

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;
export const REQUEST_OUTCOMES = ['success', 'partial', 'failure'] as const;
/** push_recipient_daily_sends: pushes one recipient received in 24 h. */
export const RECIPIENT_SENDS_BUCKETS = [1, 2, 3, 5, 10, 20, 50] as const;

/**
 * The opt-in `group` label (`new PushTelemetry({ groups })`): on push_messages_total and the duration histogram only,
 * one of the declared values or OTHER_GROUP, so it multiplies their series by at most MAX_GROUPS + 1.
 */
export const GROUP_LABEL = 'group';
export const GROUP_METRICS = ['messages', 'duration'] as const;
export const OTHER_GROUP = 'other';
export const MAX_GROUPS = 20;
export const GROUP_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/**
 * The labels each metric carries; `app` only on senders that set one, and `group` (GROUP_METRICS) only when groups are
 * declared. No other label is ever added.
 */
export const METRIC_LABELS = {
  messages: ['provider', 'app', 'outcome', 'error_type'],
  duration: ['provider', 'app', 'operation', 'outcome'],
  inFlight: ['provider', 'app'],
  lastSuccess: ['provider', 'app'],
  receipts: ['provider', 'app', 'outcome', 'error_type'],
  invalidTokensHeld: ['provider', 'app'],
  info: ['version'],
  recipientDailySends: ['provider', 'app'],
  recipientsOverSendCap: ['provider', 'app'],
  deviceReceipts: ['provider', 'app', 'event'],
  deliveryLatency: ['provider', 'app'],
  deviceReceiptsRejected: ['reason'],
} as const satisfies Readonly<Record<keyof typeof METRIC_NAMES, readonly string[]>>;

/** Label values for provider and operation: Prometheus-friendly and bounded, rejected at wrap time otherwise. */
export const PROVIDER_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const OPERATION_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Bundle ids (com.example.app), Firebase project ids (my-project-123) and similar. */
export const APP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The provider label values push-telemetry's own adapters use: the only providers a device receipt may name by default. */
export const KNOWN_PROVIDERS = ['fcm', 'apns', 'webpush', 'expo', 'sns', 'onesignal'] as const;

/** What a device reports in a receipt: the push arrived, its notification was shown, the user opened it. */
export const DEVICE_RECEIPT_EVENTS = ['delivered', 'displayed', 'opened'] as const;
export type DeviceReceiptEvent = (typeof DEVICE_RECEIPT_EVENTS)[number];

/** Send-to-device latency buckets in seconds: a tenth of a second (a device online) to a day (one that was off). */
export const DELIVERY_LATENCY_BUCKETS = [
  0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400,
] as const;

/**
 * Why the receipts endpoint refused a receipt; the `reason` label takes these values only. A request refused whole
 * (bad JSON, too big) counts once; a receipt refused inside a valid batch counts once per receipt.
 */
export const RECEIPT_REJECT_REASONS = [
  'malformed',
  'too_large',
  'unknown_provider',
  'unknown_app',
  'unknown_event',
  'stale',
  'future',
  'bad_signature',
] as const;
export type ReceiptRejectReason = (typeof RECEIPT_REJECT_REASONS)[number];

/**
 * The providers' own daily delivery reports (src/delivery/): gauges the importers set from the FCM Data API and
 * Apple's APNs delivery metrics export, not from the send path, so they live beside METRIC_NAMES rather than in it.
 */
export const DELIVERY_REPORT_METRIC_NAMES = {
  ratio: 'push_provider_delivery_ratio',
  reportTimestamp: 'push_provider_delivery_report_timestamp_seconds',
  messages: 'push_provider_delivery_report_messages',
  errors: 'push_provider_delivery_report_errors_total',
} as const;

export const DELIVERY_REPORT_METRIC_HELP = {
  ratio:
    "A push provider's own daily delivery report: share (0..1) of the day's messages per outcome (FCM Data API, APNs delivery metrics).",
  reportTimestamp: 'Unix time in seconds of 00:00 UTC on the date of the latest complete daily delivery report.',
  messages: 'Messages the latest daily delivery report covers (FCM countMessagesAccepted; APNs "Received by APNs").',
  errors: 'Delivery report imports that failed, by reason; the gauges keep the last good report meanwhile.',
} as const;

export const DELIVERY_REPORT_METRIC_LABELS = {
  ratio: ['provider', 'app', 'outcome'],
  reportTimestamp: ['provider', 'app'],
  messages: ['provider', 'app'],
  errors: ['provider', 'app', 'reason'],
} as const satisfies Readonly<Record<keyof typeof DELIVERY_REPORT_METRIC_NAMES, readonly string[]>>;

/**
 * `outcome` of push_provider_delivery_ratio for FCM: messageOutcomePercents (disjoint, they add up to 1) then
 * deliveryPerformancePercents (they may overlap), each field in snake_case; unknown outcome fields add up in `other`.
 */
export const FCM_DELIVERY_OUTCOMES = [
  'delivered',
  'pending',
  'collapsed',
  'dropped_too_many_pending_messages',
  'dropped_app_force_stopped',
  'dropped_device_inactive',
  'other',
  'delivered_no_delay',
  'delayed_device_offline',
  'delayed_device_doze',
  'delayed_message_throttled',
  'delayed_user_stopped',
] as const;

/** `outcome` for APNs: the export's statuses in snake_case (a share of "Received by APNs"); any other status is `other`. */
export const APNS_DELIVERY_OUTCOMES = [
  'delivered',
  'delivered_from_storage',
  'stored_device_offline',
  'stored_power_considerations',
  'discarded_token_unregistered',
  'discarded_expired',
  'discarded_disabled',
  'other',
] as const;

/** `reason` of push_provider_delivery_report_errors_total. */
export const DELIVERY_REPORT_ERROR_REASONS = [
  'credential',
  'auth',
  'not_found',
  'rate_limited',
  'provider_unavailable',
  'timeout',
  'network',
  'malformed',
  'unknown',
] as const;
