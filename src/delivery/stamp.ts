import { APP_PATTERN, PROVIDER_PATTERN } from '../metrics/contract.js';
import { checkLabelValue, describe, rejectUnknownOptions } from '../core/options.js';
import { checkSecret, signReceipt } from './signature.js';

/**
 * Stamping: the sender puts one key, `pushTelemetry`, into the payload it sends, and the device posts that object
 * back with an `event` as its receipt. The helpers below put it where each provider's payload carries custom data,
 * so no sender writes the stamp by hand.
 */

/** The payload key every stamping helper writes. */
export const RECEIPT_STAMP_KEY = 'pushTelemetry';

/** What the payload carries, and what the device posts back beside `event`. */
export interface ReceiptStamp {
  readonly provider: string;
  readonly app: string;
  /** Unix time in milliseconds of the send. */
  readonly sentAt: number;
  /** base64url HMAC-SHA256 of `${app}.${sentAt}`, when a secret was given. */
  readonly sig?: string;
}

export interface StampOptions {
  /** The app the receipt counts under: one of the receipts endpoint's `apps`. */
  readonly app: string;
  /** The receipts endpoint's `secret`: with it the stamp carries a `sig`, and only signed receipts count. */
  readonly secret?: string;
  /** The send time in ms. Default Date.now(). */
  readonly sentAt?: number;
}

function stamp(provider: string, options: StampOptions, caller: string): ReceiptStamp {
  if (options === null || typeof options !== 'object')
    throw new TypeError(
      `${caller}: options must be an object such as { app: 'com.example.app' }, got ${describe(options)}`,
    );
  rejectUnknownOptions(options, ['app', 'secret', 'sentAt'], `${caller}: options`);
  const app = checkLabelValue(
    options.app,
    APP_PATTERN,
    'options.app',
    'an app name of letters, digits, ".", "_" or "-"',
  );
  const { sentAt = Date.now() } = options;
  if (!Number.isSafeInteger(sentAt) || sentAt < 0)
    throw new TypeError(`options.sentAt must be a Unix time in whole milliseconds, got ${describe(sentAt)}`);
  if (options.secret === undefined) return { provider, app, sentAt };
  const secret = checkSecret(options.secret, 'options.secret');
  return { provider, app, sentAt, sig: signReceipt(secret, app, sentAt) };
}

/** The stamp for a provider the helpers below do not cover (a custom sender): put it in the payload yourself. */
export function createReceiptStamp(provider: string, options: StampOptions): ReceiptStamp {
  const checked = checkLabelValue(provider, PROVIDER_PATTERN, 'provider', 'a provider name such as "fcm"');
  return stamp(checked, options, 'createReceiptStamp(provider, options)');
}

function object(value: unknown, what: string, caller: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`${caller}: ${what} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

/** The part of a firebase-admin Message (or MulticastMessage) the stamp goes in; the rest is copied as given. */
export interface FcmMessageData {
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * A copy of an FCM message with the stamp in `data`, JSON-encoded since FCM data values are strings. On Android it
 * arrives in `RemoteMessage.data`; on iOS FCM passes data keys as top-level keys of the APNs payload.
 */
export function stampFcmMessage<M extends object>(
  message: M,
  options: StampOptions,
): M & { data: Record<string, string> } {
  const caller = 'stampFcmMessage(message, options)';
  object(message, 'message', caller);
  const given = (message as FcmMessageData).data;
  const data = given === undefined ? {} : object(given, 'message.data', caller);
  const value = JSON.stringify(stamp('fcm', options, caller));
  return { ...message, data: { ...(data as Record<string, string>), [RECEIPT_STAMP_KEY]: value } };
}

/**
 * A copy of an APNs payload with the stamp as a custom key beside `aps`: the whole JSON payload, node-apn's
 * `notification.payload` or apns2's `data`. The Notification Service Extension that posts the receipt runs only for
 * alerts with `"mutable-content": 1`.
 */
export function stampApnsPayload<P extends object>(
  payload: P,
  options: StampOptions,
): P & { pushTelemetry: ReceiptStamp } {
  const caller = 'stampApnsPayload(payload, options)';
  object(payload, 'payload', caller);
  return { ...payload, [RECEIPT_STAMP_KEY]: stamp('apns', options, caller) } as P & { pushTelemetry: ReceiptStamp };
}

/**
 * The Web Push payload with the stamp added: an object gives an object (stringify it to send), the JSON text of an
 * object gives JSON text, ready for web-push's sendNotification.
 */
export function stampWebPushPayload(payload: string, options: StampOptions): string;
export function stampWebPushPayload<P extends object>(
  payload: P,
  options: StampOptions,
): P & { pushTelemetry: ReceiptStamp };
export function stampWebPushPayload(payload: string | object, options: StampOptions): string | object {
  const caller = 'stampWebPushPayload(payload, options)';
  if (typeof payload !== 'string') {
    object(payload, 'payload', caller);
    return { ...payload, [RECEIPT_STAMP_KEY]: stamp('webpush', options, caller) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new TypeError(`${caller}: payload must be an object or the JSON text of one; this text is not JSON`);
  }
  const fields = object(parsed, 'payload (parsed from JSON)', caller);
  return JSON.stringify({ ...fields, [RECEIPT_STAMP_KEY]: stamp('webpush', options, caller) });
}

/** The part of an Expo push message the stamp goes in. */
export interface ExpoMessageData {
  readonly data?: object;
}

/** A copy of an Expo push message with the stamp in `data` (the app reads it from `notification.request.content.data`). */
export function stampExpoMessage<M extends object>(
  message: M,
  options: StampOptions,
): M & { data: Record<string, unknown> } {
  const caller = 'stampExpoMessage(message, options)';
  object(message, 'message', caller);
  const given = (message as ExpoMessageData).data;
  const data = given === undefined ? {} : object(given, 'message.data', caller);
  return { ...message, data: { ...data, [RECEIPT_STAMP_KEY]: stamp('expo', options, caller) } };
}
