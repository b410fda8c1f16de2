import { classifyError, classifyHttpStatus, httpStatusOf, reasonOf } from '../core/classify.js';
import type { ErrorType } from '../core/taxonomy.js';
import { readProperty, readString, toHttpStatus } from '../core/read.js';
import { checkAdapterOptions, type AdapterOptions } from './client-view.js';

/**
 * APNs error reasons (the JSON `reason` of a refused request) and who has to act on them. Shared by the node-apn and
 * apns2 adapters: both SDKs hand back Apple's reason untouched.
 */
export const APNS_REASONS = Object.freeze({
  Unregistered: 'unregistered',
  ExpiredToken: 'unregistered',
  BadDeviceToken: 'invalid_token',
  MissingDeviceToken: 'invalid_token',
  ExpiredProviderToken: 'auth',
  InvalidProviderToken: 'auth',
  MissingProviderToken: 'auth',
  BadCertificate: 'auth',
  Forbidden: 'auth',
  UnrelatedKeyIdInToken: 'auth',
  // A 429, but no amount of backing off helps: the sender is minting JWTs too often.
  TooManyProviderTokenUpdates: 'auth',
  DeviceTokenNotForTopic: 'config',
  BadTopic: 'config',
  MissingTopic: 'config',
  TopicDisallowed: 'config',
  BadCertificateEnvironment: 'config',
  BadEnvironmentKeyIdInToken: 'config',
  BadCollapseId: 'payload_invalid',
  BadExpirationDate: 'payload_invalid',
  BadMessageId: 'payload_invalid',
  BadPriority: 'payload_invalid',
  DuplicateHeaders: 'payload_invalid',
  InvalidPushType: 'payload_invalid',
  PayloadEmpty: 'payload_invalid',
  BadPath: 'payload_invalid',
  MethodNotAllowed: 'payload_invalid',
  PayloadTooLarge: 'payload_too_large',
  TooManyRequests: 'rate_limited',
  InternalServerError: 'provider_unavailable',
  ServiceUnavailable: 'provider_unavailable',
  Shutdown: 'provider_unavailable',
  // A 400, but it is APNs closing an idle connection: nothing is wrong with the notification.
  IdleTimeout: 'network',
} as const satisfies Readonly<Record<string, ErrorType>>);

export type ApnsReason = keyof typeof APNS_REASONS;

function isApnsReason(reason: string | undefined): reason is ApnsReason {
  return reason !== undefined && Object.hasOwn(APNS_REASONS, reason);
}

/** A status without a known reason. APNs answers 404/405 only for a bad path or method, never for a gone device. */
function classifyApnsStatus(status: number): ErrorType | undefined {
  if (status === 404 || status === 405) return 'payload_invalid';
  return classifyHttpStatus(status);
}

/** apns2's stand-in reason for an answer whose body was not APNs JSON. */
const NO_APNS_BODY = 'UnknownError';

/**
 * Status plus reason → error type: the reason decides when it is Apple's, the status otherwise (a reason Apple added
 * since, apns2's `UnknownError`, proxies). APNs always says why in a 410's JSON body, so a 410 without one is a proxy
 * or a wrong host speaking: the sender's configuration to fix, never evidence that the device is gone.
 */
export function classifyApnsReason(status: number | undefined, reason: string | undefined): ErrorType {
  if (isApnsReason(reason)) return APNS_REASONS[reason];
  if (status === 410 && (reason === undefined || reason === NO_APNS_BODY)) return 'config';
  return (status === undefined ? undefined : classifyApnsStatus(status)) ?? 'unknown';
}

// node-apn reports transport failures as VError messages, with no code of their own.
const NODE_APN_MESSAGES: ReadonlyArray<readonly [RegExp, ErrorType]> = [
  [/^apn write timeout/, 'timeout'],
  [/^apn write (failed|aborted)/, 'network'],
  [/^Request frame error/, 'network'],
  [/^client session is either closed or destroyed/, 'network'],
  // The original `apn` (3.0.0-alpha1) reports a 500 InternalServerError without its status, and a non-200 answer
  // without a body (or a stream closed before any headers) as this bare message.
  [/^Error 500, stream ended unexpectedly/, 'provider_unavailable'],
  [/^stream ended unexpectedly$/, 'network'],
  // The caller shut the provider down and kept sending.
  [/^client is destroyed/, 'canceled'],
];
// node-apn's answer to a stream that ended without a body: with a status it is an HTTP answer, with `null` the
// connection went away before any headers came.
const EMPTY_BODY = /stream ended unexpectedly with status (\S+)/;

function classifyMessage(message: string): ErrorType | undefined {
  for (const [pattern, type] of NODE_APN_MESSAGES) if (pattern.test(message)) return type;
  const empty = EMPTY_BODY.exec(message);
  if (!empty) return undefined;
  const status = toHttpStatus(empty[1]);
  return status === undefined ? 'network' : classifyApnsReason(status, undefined);
}

/** The error node-apn nests in a failure entry (`{ device, error }`), else the value itself. */
function innerError(failure: unknown): unknown {
  const inner = readProperty(failure, 'error');
  return inner === undefined || inner === null ? failure : inner;
}

function responseReason(error: unknown): string | undefined {
  return readString(readProperty(error, 'response'), 'reason') ?? readString(error, 'reason');
}

function messageOf(error: unknown): string | undefined {
  return typeof error === 'string' ? error : readString(error, 'message');
}

/**
 * Classifies anything either APNs SDK reports: an apns2 `ApnsError` (`statusCode` + `response.reason`), a node-apn
 * failure entry (`{ device, status, response: { reason } }` or `{ device, error }`), node-apn's VError messages, or a
 * raw transport error. Never throws.
 */
export function classifyApnsError(error: unknown): ErrorType {
  try {
    const status = httpStatusOf(error);
    const inner = innerError(error);
    const message = messageOf(inner);
    // node-apn keeps ExpiredProviderToken only as its error message (status 403, no body).
    const reason = responseReason(error) ?? (isApnsReason(message) ? message : undefined);
    if (reason !== undefined || status !== undefined) return classifyApnsReason(status, reason);
    const byMessage = message === undefined ? undefined : classifyMessage(message);
    if (byMessage !== undefined) return byMessage;
    // VError keeps the Node error it wraps in jse_cause (its `cause` is a method).
    return classifyError(readProperty(inner, 'jse_cause') ?? inner);
  } catch {
    return 'unknown';
  }
}

/**
 * The raw code for `push.provider.reason`: Apple's reason when there is one, else the transport error's code, else
 * node-apn's own message (`apn write timeout`), bounded.
 */
export function apnsReasonOf(error: unknown): string | undefined {
  try {
    const reason = responseReason(error);
    if (reason !== undefined) return reason.slice(0, 128);
    const inner = innerError(error);
    const message = messageOf(inner);
    if (message !== undefined && isApnsReason(message)) return message;
    // node-apn drops the body of a 500 but only says this for reason InternalServerError.
    if (message?.startsWith('Error 500, stream ended unexpectedly')) return 'InternalServerError';
    const causeCode = readString(readProperty(inner, 'jse_cause'), 'code');
    if (causeCode !== undefined) return causeCode.slice(0, 128);
    if (typeof inner === 'string' || readProperty(inner, 'jse_shortmsg') !== undefined) return message?.slice(0, 128);
    return reasonOf(inner) ?? message?.slice(0, 128);
  } catch {
    return undefined;
  }
}

/** The wrapSender options both APNs adapters share: one provider label, one classifier, the user's token hooks. */
export function apnsSenderOptions(options: AdapterOptions | undefined, adapter: string) {
  const { app, group, onInvalidToken, onInvalidTokensHeld } = checkAdapterOptions(options, adapter);
  return {
    provider: 'apns',
    app,
    group,
    classify: classifyApnsError,
    reason: apnsReasonOf,
    onInvalidToken,
    onInvalidTokensHeld,
  };
}
