import { classifyError, reasonOf } from '../core/classify.js';
import type { PushTelemetry } from '../core/telemetry.js';
import type { ErrorType } from '../core/taxonomy.js';
import type { SettleResult } from '../core/types.js';
import { readProperty, readString, toHttpStatus } from '../core/read.js';
import { checkAdapterOptions, expectClient, withMethods, wrapMethod, type AdapterOptions } from './client-view.js';

export type { AdapterOptions } from './client-view.js';

/** The part of a browser PushSubscription the adapter reads; `endpoint` is the web push "token". */
export interface WebPushSubscriptionLike {
  readonly endpoint: string;
  readonly keys?: { readonly p256dh: string; readonly auth: string };
}

/** The web-push module (`import webpush from 'web-push'`) or anything with its `sendNotification`. */
export interface WebPushLike {
  sendNotification(
    subscription: WebPushSubscriptionLike,
    payload?: string | Uint8Array | null,
    options?: object,
  ): PromiseLike<unknown>;
}

/**
 * Push service HTTP statuses (RFC 8030) → error_type. 5xx are provider_unavailable, other statuses unknown. web-push
 * never follows redirects, and a push service answers 301 only when the endpoint itself moved (autopush's bridges):
 * the stored subscription needs the new URL, which is the sender's configuration to fix.
 */
export const WEBPUSH_STATUS_ERRORS: Readonly<Record<number, ErrorType>> = {
  301: 'config',
  400: 'payload_invalid',
  401: 'auth',
  403: 'auth',
  404: 'unregistered',
  410: 'unregistered',
  413: 'payload_too_large',
  429: 'rate_limited',
};

/** Mozilla autopush `errno` values that say more than the status; the rest follow the status. */
export const AUTOPUSH_ERRNO_ERRORS: Readonly<Record<number, ErrorType>> = {
  // 404 errno 102: the endpoint's token cannot be decoded (malformed), as opposed to a subscription that went away.
  102: 'invalid_token',
};

// The subscription was made with another application server key: FCM answers 403 with this text, autopush 401
// errno 109 "VAPID public key mismatch". New keys cannot fix old subscriptions, so this is config, not auth.
const KEY_MISMATCH = /does not correspond to the sender ID|VAPID public key mismatch/i;

// web-push validates before sending and rejects with a bare Error; these are its own messages (3.6.x).
const LOCAL_ERRORS: ReadonlyArray<readonly [RegExp, ErrorType]> = [
  // Unusable keys: the stored subscription is corrupt for good, so its endpoint goes to onInvalidToken.
  [
    /^(The subscription (p256dh|auth)|To send a message with a payload, the subscription|No user (public key|auth) provided)/,
    'invalid_token',
  ],
  [
    /^(Vapid |VAPID audience|No subject set|The subject value|No key set|No audience could|The audience value|`expiration`)/,
    'config',
  ],
  // No endpoint at all is a malformed call (nothing names a recipient), not a token to prune.
  [
    /^(You must pass in a subscription|The subscription endpoint must be|'.*' is an invalid option|TTL should be|Unsupported (content encoding|urgency|characters|encoding)|use maximum of 32|Duplicated headers|Payload must be)/,
    'payload_invalid',
  ],
];

function isWebPushError(error: unknown): boolean {
  return readString(error, 'name') === 'WebPushError' && toHttpStatus(readProperty(error, 'statusCode')) !== undefined;
}

/** The JSON error body push services send: autopush `{code, errno, error, message}`, Apple `{reason}`. */
function jsonBody(error: unknown): unknown {
  const body = readString(error, 'body');
  if (body === undefined || !body.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(body.slice(0, 10_000)) as unknown;
  } catch {
    return undefined;
  }
}

function errnoOf(body: unknown): number | undefined {
  const errno = readProperty(body, 'errno');
  return typeof errno === 'number' && Number.isInteger(errno) && errno > 0 && errno < 100_000 ? errno : undefined;
}

/** Maps a web-push rejection onto the taxonomy: push service status, autopush errno, transport errors. Never throws. */
export function classifyWebPushError(error: unknown): ErrorType {
  try {
    if (isWebPushError(error)) {
      const status = toHttpStatus(readProperty(error, 'statusCode')) as number;
      const byErrno = AUTOPUSH_ERRNO_ERRORS[errnoOf(jsonBody(error)) ?? 0];
      if (byErrno !== undefined && (status === 404 || status === 410)) return byErrno;
      if ((status === 401 || status === 403) && KEY_MISMATCH.test(readString(error, 'body')?.slice(0, 2000) ?? ''))
        return 'config';
      const byStatus = WEBPUSH_STATUS_ERRORS[status];
      if (byStatus !== undefined) return byStatus;
      if (status >= 300 && status <= 399) return 'config';
      return status >= 500 ? 'provider_unavailable' : 'unknown';
    }
    const message = readString(error, 'message');
    if (message === 'Socket timeout') return 'timeout';
    if (readProperty(error, 'code') === undefined && message !== undefined) {
      for (const [pattern, type] of LOCAL_ERRORS) if (pattern.test(message)) return type;
    }
    return classifyError(error);
  } catch {
    return 'unknown';
  }
}

/** `push.provider.reason`: the push service status, plus autopush's errno or Apple's reason when the body has one. */
export function webPushReason(error: unknown): string | undefined {
  if (!isWebPushError(error)) return reasonOf(error);
  const status = String(readProperty(error, 'statusCode'));
  const body = jsonBody(error);
  const errno = errnoOf(body);
  if (errno !== undefined) return `${status} errno ${errno}`;
  const reason = readString(body, 'reason');
  return reason !== undefined && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(reason) ? `${status} ${reason}` : status;
}

/**
 * Always one entry, so each call counts one message; without an endpoint web-push rejects the call locally as
 * payload_invalid, so the empty string never reaches onInvalidToken. (countMessages would also give 1, but marks
 * every span as a batch.)
 */
function endpointOf(subscription: unknown): readonly string[] {
  return [readString(subscription, 'endpoint') ?? ''];
}

/** RFC 8030: 201 Created with `Location` naming the push message resource; its last segment is the message id. */
function settleSend(result: unknown): SettleResult {
  const location = readString(readProperty(result, 'headers'), 'location');
  const messageId = location
    ?.split(/[?#]/, 1)[0]
    ?.split('/')
    .filter((part) => part !== '')
    .at(-1);
  return { accepted: 1, failed: [], ...(messageId !== undefined && messageId.length <= 256 && { messageId }) };
}

/**
 * Instruments `sendNotification` of the web-push module (or a WebPush-like object) and returns a view of it; the
 * module itself is not modified, and every other member (setVapidDetails, generateVAPIDKeys, generateRequestDetails,
 * WebPushError…) is the module's own.
 */
export function instrumentWebPush<T extends WebPushLike>(
  webpush: T,
  telemetry: PushTelemetry,
  options?: AdapterOptions,
): T {
  expectClient(
    webpush,
    ['sendNotification'],
    'instrumentWebPush',
    "the web-push module (import webpush from 'web-push')",
  );
  const { app, group, onInvalidToken, onInvalidTokensHeld } = checkAdapterOptions(options, 'instrumentWebPush');
  const sendNotification = wrapMethod<WebPushLike['sendNotification']>(telemetry, webpush, 'sendNotification', {
    provider: 'webpush',
    operation: 'send_notification',
    app,
    group,
    classify: classifyWebPushError,
    reason: webPushReason,
    tokens: ([subscription]) => endpointOf(subscription),
    settle: settleSend,
    onInvalidToken,
    onInvalidTokensHeld,
  });
  return withMethods(webpush, { sendNotification });
}
