import { classifyError, loggedStatusOf } from '../core/classify.js';
import type { PushTelemetry } from '../core/telemetry.js';
import type { ErrorType } from '../core/taxonomy.js';
import type { FailedMessage, PushSender, SettleResult, WrapSenderOptions } from '../core/types.js';
import { readProperty, readString } from '../core/read.js';
import { checkAdapterOptions, expectClient, withMethods, wrapMethod, type AdapterOptions } from './client-view.js';

/**
 * The part of firebase-admin's `Messaging` (from `getMessaging(app)`) this adapter relies on. Declared here rather
 * than imported so that code without firebase-admin installed still compiles against this module.
 */
export interface FcmMessagingLike {
  send(message: never, dryRun?: boolean): PromiseLike<string>;
  sendEach(messages: never, dryRun?: boolean): PromiseLike<unknown>;
  sendEachForMulticast(message: never, dryRun?: boolean): PromiseLike<unknown>;
}

/** firebase-admin error codes → error_type. `messaging/invalid-argument` and `messaging/unknown-error` are refined by message. */
export const FCM_ERROR_TYPES: Readonly<Record<string, ErrorType>> = {
  'messaging/registration-token-not-registered': 'unregistered',
  'messaging/installation-id-not-registered': 'unregistered',
  'messaging/invalid-registration-token': 'invalid_token',
  'messaging/invalid-argument': 'payload_invalid',
  'messaging/invalid-payload': 'payload_invalid',
  'messaging/invalid-options': 'payload_invalid',
  'messaging/invalid-data-payload-key': 'payload_invalid',
  'messaging/invalid-recipient': 'payload_invalid',
  'messaging/payload-size-limit-exceeded': 'payload_too_large',
  'messaging/third-party-auth-error': 'auth',
  'messaging/authentication-error': 'auth',
  'app/invalid-credential': 'auth',
  'messaging/mismatched-credential': 'config',
  'messaging/invalid-package-name': 'config',
  'messaging/message-rate-exceeded': 'rate_limited',
  'messaging/device-message-rate-exceeded': 'rate_limited',
  'messaging/topics-message-rate-exceeded': 'rate_limited',
  'messaging/topics-subscription-rate-exceeded': 'rate_limited',
  'messaging/server-unavailable': 'provider_unavailable',
  'messaging/internal-error': 'provider_unavailable',
  'messaging/unknown-error': 'unknown',
  'app/network-timeout': 'timeout',
  'app/network-error': 'network',
};

// FCM v1 answers INVALID_ARGUMENT for bad tokens, oversized messages and bad fields alike; only the text tells them apart.
const INVALID_TOKEN_TEXT = /not a valid (?:FCM )?registration token|invalid registration token/i;
const TOO_BIG_TEXT = /too big|too large|size limit|exceeds the maximum/i;
const NO_PROJECT_TEXT = /determine project id/i;
// The SDK's wording for a non-JSON answer with an unexpected status (a 502 from a load balancer, say).
const SERVER_STATUS_TEXT = /Status code: 5\d\d\b/;

function byMessage(code: string, message: string): ErrorType | undefined {
  if (code === 'messaging/invalid-argument') {
    if (INVALID_TOKEN_TEXT.test(message)) return 'invalid_token';
    if (TOO_BIG_TEXT.test(message)) return 'payload_too_large';
    if (NO_PROJECT_TEXT.test(message)) return 'config';
  }
  if (code === 'messaging/unknown-error' && SERVER_STATUS_TEXT.test(message)) return 'provider_unavailable';
  return undefined;
}

// firebase-admin 14 reports an HTTP/2 session failure on every message of the batch (13 rejected the whole call): a
// messaging/unknown-error whose cause is an AggregateError of the stream's error and the session's own errors.
const MAX_SESSION_ERRORS = 8;

function sessionErrorsOf(error: unknown): readonly unknown[] {
  if (readString(error, 'code') !== 'messaging/unknown-error') return [];
  const errors = readProperty(readProperty(error, 'cause'), 'errors');
  return Array.isArray(errors) ? errors.slice(0, MAX_SESSION_ERRORS) : [];
}

function classifyCoded(error: unknown): ErrorType {
  const raw = readString(error, 'code');
  if (raw === undefined || !/^(?:messaging|app)\//.test(raw)) return classifyError(error);
  // An HTTP/2 session failure is a FirebaseMessagingSessionError whose code wraps the app code: messaging/app/network-error.
  const code = raw.replace(/^messaging\/(?=app\/)/, '');
  const message = (readString(error, 'message') ?? '').slice(0, 2000);
  return byMessage(code, message) ?? FCM_ERROR_TYPES[code] ?? 'unknown';
}

/** The error that says what went wrong: for a session failure, the first of its errors that names a known cause. */
function telling(error: unknown): unknown {
  for (const inner of sessionErrorsOf(error)) if (classifyCoded(inner) !== 'unknown') return inner;
  return error;
}

/** Maps a firebase-admin error (FirebaseMessagingError, FirebaseAppError) onto the taxonomy. Never throws. */
export function classifyFcmError(error: unknown): ErrorType {
  try {
    return classifyCoded(telling(error));
  } catch {
    return 'unknown';
  }
}

/** The recipient of a message: its registration token, or (firebase-admin 14) its Firebase installation ID. */
function tokenOf(message: unknown): string | undefined {
  const token = readProperty(message, 'token') ?? readProperty(message, 'fid');
  return typeof token === 'string' && token !== '' ? token : undefined;
}

function presentTokens(tokens: readonly (string | undefined)[]): string[] {
  return tokens.filter((token): token is string => token !== undefined);
}

/** The recipient tokens of a batch call by message index (undefined for topic and condition messages). */
type IndexedTokens = (args: readonly unknown[]) => readonly (string | undefined)[];

const eachTokens: IndexedTokens = ([messages]) => (Array.isArray(messages) ? messages.map(tokenOf) : []);
const recipients = (list: unknown): (string | undefined)[] =>
  Array.isArray(list) ? list.map((token) => (typeof token === 'string' && token !== '' ? token : undefined)) : [];
// firebase-admin 14 sends a multicast's tokens first, then its fids, and answers in that order.
const multicastTokens: IndexedTokens = ([message]) => [
  ...recipients(readProperty(message, 'tokens')),
  ...recipients(readProperty(message, 'fids')),
];
const deviceTokens: IndexedTokens = ([tokens]) => (typeof tokens === 'string' ? [tokens] : recipients(tokens));

function failure(error: unknown, token: string | undefined): FailedMessage {
  const reason = readString(telling(error), 'code');
  // firebase-admin 14 keeps each refused message's HTTP status (httpResponse.status); 13 drops it.
  const status = loggedStatusOf(error);
  return {
    errorType: classifyFcmError(error),
    ...(reason !== undefined && { reason }),
    ...(token !== undefined && { token }),
    ...(status !== undefined && { status }),
  };
}

/** Per-message outcomes of a list of `{ success, error }` (BatchResponse) or `{ error?, messageId? }` (legacy) results. */
function settleResults(
  results: unknown,
  tokens: readonly (string | undefined)[],
  failed: (item: unknown) => boolean,
): SettleResult {
  if (!Array.isArray(results)) throw new TypeError('FCM batch result has no results array');
  let accepted = 0;
  const failures: FailedMessage[] = [];
  results.forEach((item: unknown, i) => {
    if (failed(item)) failures.push(failure(readProperty(item, 'error'), tokens[i]));
    else accepted++;
  });
  return { accepted, failed: failures };
}

const batchFailed = (item: unknown) => readProperty(item, 'success') !== true;
const legacyFailed = (item: unknown) => readProperty(item, 'error') !== undefined;

function batch(tokens: IndexedTokens): Partial<WrapSenderOptions<PushSender>> {
  return {
    countMessages: (args) => tokens(args).length,
    tokens: (args) => presentTokens(tokens(args)),
    settle: (result, args) => settleResults(readProperty(result, 'responses'), tokens(args), batchFailed),
  };
}

function single(settleId: (result: unknown) => unknown): Partial<WrapSenderOptions<PushSender>> {
  return {
    countMessages: () => 1,
    tokens: ([message]) => presentTokens([tokenOf(message)]),
    settle: (result) => {
      const id = settleId(result);
      return {
        accepted: 1,
        failed: [],
        ...((typeof id === 'string' || typeof id === 'number') && { messageId: String(id) }),
      };
    },
  };
}

// firebase-admin 12 still has the legacy senders (removed in 13); each is instrumented only when the client has it.
const METHODS: Readonly<Record<string, Partial<WrapSenderOptions<PushSender>>>> = {
  send: single((id) => id),
  sendEach: batch(eachTokens),
  sendEachForMulticast: batch(multicastTokens),
  sendAll: batch(eachTokens),
  sendMulticast: batch(multicastTokens),
  sendToDevice: {
    countMessages: (args) => deviceTokens(args).length,
    tokens: (args) => presentTokens(deviceTokens(args)),
    settle: (result, args) => settleResults(readProperty(result, 'results'), deviceTokens(args), legacyFailed),
  },
  sendToTopic: single((result) => readProperty(result, 'messageId')),
  sendToCondition: single((result) => readProperty(result, 'messageId')),
  sendToDeviceGroup: {
    countMessages: () => 1,
    // The legacy group API reports failed tokens without a reason.
    settle: (result) => {
      const successCount = readProperty(result, 'successCount');
      const failureCount = readProperty(result, 'failureCount');
      const failedTokens = readProperty(result, 'failedRegistrationTokens');
      const tokens: unknown[] = Array.isArray(failedTokens) ? failedTokens : [];
      const failed = Array.from(
        { length: typeof failureCount === 'number' ? failureCount : 0 },
        (_, i): FailedMessage => {
          const token = tokens[i];
          return typeof token === 'string' ? { errorType: 'unknown', token } : { errorType: 'unknown' };
        },
      );
      return { accepted: typeof successCount === 'number' ? successCount : 0, failed };
    },
  },
};

function snakeCase(method: string): string {
  return method.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * Instruments a firebase-admin `Messaging`: `send`, `sendEach` and `sendEachForMulticast` (plus the legacy senders
 * when the installed firebase-admin still has them). Returns a view of the client; the client itself is unchanged.
 */
export function instrumentFcm<T extends FcmMessagingLike>(
  messaging: T,
  telemetry: PushTelemetry,
  options?: AdapterOptions,
): T {
  expectClient(
    messaging,
    ['send', 'sendEach', 'sendEachForMulticast'],
    'instrumentFcm',
    'a firebase-admin Messaging (getMessaging(app))',
  );
  const { app, group, onInvalidToken, onInvalidTokensHeld } = checkAdapterOptions(options, 'instrumentFcm');
  const wrapped: Record<string, PushSender> = {};
  for (const [method, hooks] of Object.entries(METHODS)) {
    if (typeof readProperty(messaging, method) !== 'function') continue;
    wrapped[method] = wrapMethod(telemetry, messaging, method, {
      provider: 'fcm',
      operation: snakeCase(method),
      classify: classifyFcmError,
      ...hooks,
      ...(app !== undefined && { app }),
      ...(group !== undefined && { group }),
      ...(onInvalidToken !== undefined && { onInvalidToken }),
      ...(onInvalidTokensHeld !== undefined && { onInvalidTokensHeld }),
    });
  }
  return withMethods(messaging, wrapped);
}
