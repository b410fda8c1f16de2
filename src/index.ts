export { PushTelemetry } from './core/telemetry.js';
export type { HeldInvalidTokensSummary, MetricsHandler, TelemetryHealth } from './core/telemetry.js';
export { ERROR_TYPES, errorOwner, isErrorType } from './core/taxonomy.js';
export type { ErrorOwner, ErrorType } from './core/taxonomy.js';
export { classifyError, classifyErrorCode, classifyHttpStatus } from './core/classify.js';
export { startMetricsServer } from './serve/metrics-server.js';
export type { MetricsServer, MetricsServerAuth, MetricsServerOptions } from './serve/metrics-server.js';
export { startClusterMetricsServer } from './serve/cluster.js';
export type { ClusterMetricsServerOptions } from './serve/cluster.js';
export { startTelemetry } from './serve/start-telemetry.js';
export type { StartedTelemetry, StartTelemetryOptions } from './serve/start-telemetry.js';
export { METRIC_NAMES } from './metrics/contract.js';
export { OTEL_METRIC_NAMES } from './metrics/otel-instruments.js';
export type {
  PushDataPoint,
  PushGaugeMetricData,
  PushHistogramMetricData,
  PushHistogramValue,
  PushMetricCollection,
  PushMetricData,
  PushMetricProducer,
  PushSumMetricData,
} from './metrics/otel-producer.js';
export { DURATION_BUCKETS, REQUEST_OUTCOMES } from './metrics/contract.js';
export { OTHER_GROUP, RECIPIENT_SENDS_BUCKETS } from './metrics/contract.js';
export type { RequestOutcome } from './metrics/contract.js';
export { FAILURE_EVENT, MAX_FAILURE_EVENTS, PUSH_ATTRIBUTES } from './tracing/spans.js';
export type { TelemetryProblem } from './core/problems.js';
export { FAILURE_LOG_EVENT, LOG_ATTRIBUTES, SUPPRESSED_LOG_EVENT } from './core/failure-log.js';
export type {
  FailedMessage,
  GroupOption,
  HeldInvalidTokens,
  InvalidTokenEvent,
  InvalidTokenGuardOptions,
  LogRateLimitOptions,
  OtelLogAttributeValue,
  OtelLoggerProviderLike,
  OtelLogRecordLike,
  PinoCompatibleLogger,
  PushSender,
  PushTelemetryOptions,
  ReceiptsOptions,
  SenderArgs,
  SenderResult,
  SendFrequencyOptions,
  SettleResult,
  TokenHashOptions,
  WrapSenderOptions,
} from './core/types.js';
export { VERSION } from './version.js';
export { instrumentFcm, classifyFcmError, FCM_ERROR_TYPES } from './providers/fcm.js';
export type { FcmMessagingLike } from './providers/fcm.js';
export { instrumentApns } from './providers/apns.js';
export type { ApnProviderLike } from './providers/apns.js';
export { instrumentApns2 } from './providers/apns2.js';
export type { Apns2ClientLike, Apns2NotificationLike } from './providers/apns2.js';
export { APNS_REASONS, apnsReasonOf, classifyApnsError, classifyApnsReason } from './providers/apns-reasons.js';
export type { ApnsReason } from './providers/apns-reasons.js';
export {
  instrumentWebPush,
  classifyWebPushError,
  webPushReason,
  WEBPUSH_STATUS_ERRORS,
  AUTOPUSH_ERRNO_ERRORS,
} from './providers/webpush.js';
export type { WebPushLike, WebPushSubscriptionLike } from './providers/webpush.js';
export { instrumentExpo, classifyExpoError, expoReason, EXPO_ERROR_TYPES } from './providers/expo.js';
export type { ExpoLike, ExpoPushMessageLike } from './providers/expo.js';
export { instrumentSns, classifySnsError, classifySnsCode, snsReason, SNS_ERROR_TYPES } from './providers/sns.js';
export type { SnsClientLike, SnsCommandLike } from './providers/sns.js';
export {
  instrumentOneSignal,
  classifyOneSignalError,
  oneSignalReason,
  ONESIGNAL_ERROR_TYPES,
} from './providers/onesignal.js';
export type { OneSignalApiLike } from './providers/onesignal.js';
export type { AdapterOptions } from './providers/client-view.js';
export { createReceiptsHandler, RECEIPTS_PATH } from './delivery/receipts-handler.js';
export type { ReceiptsHandler, ReceiptsRequest } from './delivery/receipts-handler.js';
export { DEFAULT_MAX_BODY_BYTES, MAX_RECEIPTS_PER_REQUEST } from './delivery/receipts-options.js';
export type { DeviceReceiptsOptions, ReceiptsCorsOptions } from './delivery/receipts-options.js';
export { RECEIPT_MAX_AGE_MS, RECEIPT_MAX_AHEAD_MS } from './delivery/receipt-validation.js';
export { signReceipt, verifyReceiptSignature } from './delivery/signature.js';
export {
  createReceiptStamp,
  RECEIPT_STAMP_KEY,
  stampApnsPayload,
  stampExpoMessage,
  stampFcmMessage,
  stampWebPushPayload,
} from './delivery/stamp.js';
export type { ExpoMessageData, FcmMessageData, ReceiptStamp, StampOptions } from './delivery/stamp.js';
export {
  DELIVERY_LATENCY_BUCKETS,
  DEVICE_RECEIPT_EVENTS,
  KNOWN_PROVIDERS,
  RECEIPT_REJECT_REASONS,
} from './metrics/contract.js';
export type { DeviceReceiptEvent, ReceiptRejectReason } from './metrics/contract.js';
export {
  generateAlertRules,
  toPrometheusRule,
  toPrometheusRuleYaml,
  toPrometheusRulesYaml,
} from './monitoring/alerts/index.js';
export type {
  AlertingRule,
  PrometheusRuleManifest,
  PrometheusRuleOptions,
  Rule,
  RuleGroup,
} from './monitoring/alerts/index.js';
export { ALERT_NAMES, DEFAULT_RUNBOOK_URL_BASE, resolveMonitoringConfig } from './monitoring/config.js';
export type {
  AlertName,
  AlertOverride,
  MonitoringConfig,
  ResolvedMonitoringConfig,
  Severity,
} from './monitoring/config.js';
