/**
 * `push-telemetry/delivery-reports`: the providers' own daily delivery reports (FCM Data API, APNs delivery metrics
 * export) as gauges on the telemetry's registry. A subpath of its own, so the root import stays light.
 */
export { fcmDeliveryData, FCM_DATA_API_URL } from './fcm-delivery-data.js';
export type { FcmDeliveryDataOptions } from './fcm-delivery-data.js';
export { apnsDeliveryMetrics, parseApnsDeliveryMetrics } from './apns-delivery-metrics.js';
export type { ApnsDeliveryMetricsOptions, ApnsExportAuth } from './apns-delivery-metrics.js';
export { startDeliveryReportPoller } from './delivery-report-poller.js';
export type { DeliveryReportPoller, DeliveryReportPollerOptions, DeliveryReportRun } from './delivery-report-poller.js';
export { DeliveryReportError } from './delivery-report.js';
export type { DeliveryReport, DeliveryReportErrorReason, DeliveryReportSource } from './delivery-report.js';
export type { GoogleAccessTokenAnswer, GoogleCredentialLike } from './google-access-token.js';
export {
  APNS_DELIVERY_OUTCOMES,
  DELIVERY_REPORT_ERROR_REASONS,
  DELIVERY_REPORT_METRIC_NAMES,
  FCM_DELIVERY_OUTCOMES,
} from '../metrics/contract.js';
