export { PushTelemetry } from './telemetry.js';
export type { MetricsHandler, TelemetryHealth } from './telemetry.js';
export { ERROR_TYPES, errorOwner, isErrorType } from './taxonomy.js';
export type { ErrorOwner, ErrorType } from './taxonomy.js';
export { classifyError, classifyErrorCode, classifyHttpStatus } from './classify.js';
export { startMetricsServer } from './server.js';
export type { MetricsServer, MetricsServerOptions } from './server.js';
export { startTelemetry } from './sdk.js';
export type { StartedTelemetry, StartTelemetryOptions } from './sdk.js';
export { METRIC_NAMES } from './metrics.js';
export { DURATION_BUCKETS, REQUEST_OUTCOMES } from './series.js';
export type { RequestOutcome } from './series.js';
export { FAILURE_EVENT, MAX_FAILURE_EVENTS, PUSH_ATTRIBUTES } from './tracing.js';
export type { TelemetryProblem } from './problems.js';
export type {
  FailedMessage,
  InvalidTokenEvent,
  PushSender,
  PushTelemetryOptions,
  ReceiptsOptions,
  SenderArgs,
  SenderResult,
  SettleResult,
  TokenHashOptions,
  WrapSenderOptions,
} from './types.js';
export { VERSION } from './version.js';
