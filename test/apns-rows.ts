/** APNs answers shared by the node-apn and apns2 adapter tests: one table, two SDKs. */
import assert from 'node:assert/strict';
import { ERROR_TYPES, type ErrorType } from '../src/index.js';
import type { Fault } from '../src/simulator/faults.js';
import { valueOf, type Sample } from './helpers.js';

export const LABELS = { provider: 'apns', app: 'com.example.app' };

export function messages(samples: readonly Sample[], labels: Record<string, string>): number {
  return valueOf(samples, 'push_messages_total', { ...LABELS, ...labels }) ?? 0;
}

export function calls(samples: readonly Sample[], operation: string, outcome: string): number {
  return valueOf(samples, 'push_request_duration_seconds_count', { ...LABELS, operation, outcome }) ?? 0;
}

/** Every push_messages_total series: accepted, then one per error_type. */
export function assertMessages(
  samples: readonly Sample[],
  accepted: number,
  failed: Partial<Record<ErrorType, number>>,
): void {
  assert.equal(messages(samples, { outcome: 'accepted' }), accepted, 'accepted');
  for (const type of ERROR_TYPES)
    assert.equal(messages(samples, { outcome: 'failed', error_type: type }), failed[type] ?? 0, type);
}

export interface Row {
  readonly fault: Fault;
  readonly errorType: ErrorType;
  readonly reason: string;
}

// Apple's documented status for each reason, with the research table's verdict; written out, not derived from APNS_REASONS.
export const REASON_ROWS: ReadonlyArray<readonly [number, string, ErrorType]> = [
  [410, 'Unregistered', 'unregistered'],
  [410, 'ExpiredToken', 'unregistered'],
  [400, 'BadDeviceToken', 'invalid_token'],
  [400, 'MissingDeviceToken', 'invalid_token'],
  [403, 'ExpiredProviderToken', 'auth'],
  [403, 'InvalidProviderToken', 'auth'],
  [403, 'MissingProviderToken', 'auth'],
  [403, 'BadCertificate', 'auth'],
  [403, 'Forbidden', 'auth'],
  [403, 'UnrelatedKeyIdInToken', 'auth'],
  [429, 'TooManyProviderTokenUpdates', 'auth'],
  [400, 'DeviceTokenNotForTopic', 'config'],
  [400, 'BadTopic', 'config'],
  [400, 'MissingTopic', 'config'],
  [400, 'TopicDisallowed', 'config'],
  [403, 'BadCertificateEnvironment', 'config'],
  [403, 'BadEnvironmentKeyIdInToken', 'config'],
  [400, 'BadCollapseId', 'payload_invalid'],
  [400, 'BadExpirationDate', 'payload_invalid'],
  [400, 'BadMessageId', 'payload_invalid'],
  [400, 'BadPriority', 'payload_invalid'],
  [400, 'DuplicateHeaders', 'payload_invalid'],
  [400, 'InvalidPushType', 'payload_invalid'],
  [400, 'PayloadEmpty', 'payload_invalid'],
  [404, 'BadPath', 'payload_invalid'],
  [405, 'MethodNotAllowed', 'payload_invalid'],
  [413, 'PayloadTooLarge', 'payload_too_large'],
  [429, 'TooManyRequests', 'rate_limited'],
  [500, 'InternalServerError', 'provider_unavailable'],
  [503, 'ServiceUnavailable', 'provider_unavailable'],
  [503, 'Shutdown', 'provider_unavailable'],
  [400, 'IdleTimeout', 'network'],
];

/** The fake's generic faults answer with Apple's own reason for the class. */
export const GENERIC_ROWS: readonly Row[] = [
  { fault: 'unregistered', errorType: 'unregistered', reason: 'Unregistered' },
  { fault: 'invalid_token', errorType: 'invalid_token', reason: 'BadDeviceToken' },
  { fault: 'auth', errorType: 'auth', reason: 'ExpiredProviderToken' },
  { fault: 'config', errorType: 'config', reason: 'DeviceTokenNotForTopic' },
  { fault: 'payload_invalid', errorType: 'payload_invalid', reason: 'BadPriority' },
  { fault: 'payload_too_large', errorType: 'payload_too_large', reason: 'PayloadTooLarge' },
  { fault: 'rate_limited', errorType: 'rate_limited', reason: 'TooManyRequests' },
  { fault: 'provider_unavailable', errorType: 'provider_unavailable', reason: 'ServiceUnavailable' },
];

/** Every documented reason, answered with its documented status. */
export const DOCUMENTED_ROWS: readonly Row[] = REASON_ROWS.map(
  ([status, reason, errorType]): Row => ({ fault: { status, reason }, errorType, reason }),
);

export function rowName(row: Row): string {
  return typeof row.fault === 'string' ? `fault ${row.fault}` : `${row.fault.status} ${row.fault.reason}`;
}
