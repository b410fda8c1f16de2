import { classifyError, reasonOf } from '../core/classify.js';
import type { PushTelemetry } from '../core/telemetry.js';
import type { ErrorType } from '../core/taxonomy.js';
import type { FailedMessage, SettleResult } from '../core/types.js';
import { readProperty, readString } from '../core/read.js';
import { TicketTokens } from './expo-tickets.js';
import { checkAdapterOptions, expectClient, withMethods, wrapMethod, type AdapterOptions } from './client-view.js';

export type { AdapterOptions } from './client-view.js';

/** The part of an Expo push message the adapter reads: one recipient or several. */
export interface ExpoPushMessageLike {
  readonly to: string | readonly string[];
}

/** An `Expo` client from expo-server-sdk (`new Expo({ accessToken })`), or anything with its two API calls. */
export interface ExpoLike {
  sendPushNotificationsAsync(messages: ExpoPushMessageLike[]): PromiseLike<readonly unknown[]>;
  getPushNotificationReceiptsAsync(receiptIds: string[]): PromiseLike<object>;
}

/**
 * Expo codes → error_type: ticket and receipt `details.error` (PascalCase) and whole-request error `code`s
 * (UPPER_SNAKE) never collide, so one table serves both.
 */
export const EXPO_ERROR_TYPES = {
  DeviceNotRegistered: 'unregistered',
  InvalidCredentials: 'auth',
  MessageTooBig: 'payload_too_large',
  MessageRateExceeded: 'rate_limited',
  MismatchSenderId: 'config',
  ExpoError: 'provider_unavailable',
  ProviderError: 'provider_unavailable',
  DeveloperError: 'payload_invalid',
  TOO_MANY_REQUESTS: 'rate_limited',
  UNAUTHORIZED: 'auth',
  PUSH_TOO_MANY_EXPERIENCE_IDS: 'config',
  PUSH_TOO_MANY_NOTIFICATIONS: 'payload_invalid',
  PUSH_TOO_MANY_RECEIPTS: 'payload_invalid',
  VALIDATION_ERROR: 'payload_invalid',
} as const satisfies Readonly<Record<string, ErrorType>>;

// Expo answers a malformed token with a ticket whose details.error is DeviceNotRegistered (or absent); only the
// message tells a token that never was valid from one that went away.
const NOT_A_VALID_TOKEN = /is not a valid Expo push token/i;

function lookup(code: string | undefined): ErrorType | undefined {
  return code !== undefined && Object.hasOwn(EXPO_ERROR_TYPES, code)
    ? EXPO_ERROR_TYPES[code as keyof typeof EXPO_ERROR_TYPES]
    : undefined;
}

function isTicket(value: unknown): boolean {
  return readProperty(value, 'status') === 'error' && !(value instanceof Error);
}

/**
 * Maps an Expo failure onto the taxonomy: an error ticket or receipt (`{ status: 'error', message, details }`) or an
 * error the SDK threw (`code`, `statusCode`, transport `cause`). Never throws.
 */
export function classifyExpoError(error: unknown): ErrorType {
  try {
    if (isTicket(error)) {
      if (NOT_A_VALID_TOKEN.test(readString(error, 'message')?.slice(0, 500) ?? '')) return 'invalid_token';
      return lookup(readString(readProperty(error, 'details'), 'error')) ?? 'unknown';
    }
    const byCode = lookup(readString(error, 'code'));
    if (byCode !== undefined) return byCode;
    const type = classifyError(error);
    // A whole request never says anything about one device: a 404/410 means a wrong EXPO_BASE_URL or proxy, and
    // must not make onInvalidToken prune every token of the batch.
    return type === 'unregistered' || type === 'invalid_token' ? 'config' : type;
  } catch {
    return 'unknown';
  }
}

/** `push.provider.reason`: the ticket's `details.error`, the request error's `code`, else the transport code under `cause`. */
export function expoReason(error: unknown): string | undefined {
  if (isTicket(error)) return readString(readProperty(error, 'details'), 'error');
  const code = readString(error, 'code');
  if (code !== undefined && code !== '') return code.slice(0, 128);
  let cause = readProperty(error, 'cause');
  for (let depth = 0; depth < 4 && cause !== undefined; depth++, cause = readProperty(cause, 'cause')) {
    const causeCode = readString(cause, 'code');
    if (causeCode !== undefined && causeCode !== '') return causeCode.slice(0, 128);
  }
  return reasonOf(error);
}

/** One entry per recipient, in the order Expo answers with tickets: a message with `to: [a, b]` gets two. */
function recipientsOf(messages: unknown): (string | undefined)[] {
  const recipients: (string | undefined)[] = [];
  for (const message of Array.isArray(messages) ? messages : [messages]) {
    const to = readProperty(message, 'to');
    if (Array.isArray(to)) for (const token of to) recipients.push(typeof token === 'string' ? token : undefined);
    else recipients.push(typeof to === 'string' ? to : undefined);
  }
  return recipients;
}

/** recipientsOf(messages).length without building the list: counted on every send, read back only on failure. */
function recipientCount(messages: unknown): number {
  let count = 0;
  for (const message of Array.isArray(messages) ? messages : [messages]) {
    const to = readProperty(message, 'to');
    count += Array.isArray(to) ? to.length : 1;
  }
  return count;
}

/**
 * Instruments `sendPushNotificationsAsync` (one push_messages_total per recipient, from the tickets) and
 * `getPushNotificationReceiptsAsync` (push_receipts_total per receipt; the call itself counts no messages) of an
 * expo-server-sdk client, and returns a view of it. The client is not modified; chunkPushNotifications and every
 * other member are the client's own.
 */
export function instrumentExpo<T extends ExpoLike>(expo: T, telemetry: PushTelemetry, options?: AdapterOptions): T {
  expectClient(
    expo,
    ['sendPushNotificationsAsync', 'getPushNotificationReceiptsAsync'],
    'instrumentExpo',
    "an Expo client (new Expo() from 'expo-server-sdk')",
  );
  const { app, group, onInvalidToken, onInvalidTokensHeld } = checkAdapterOptions(options, 'instrumentExpo');
  const tokenHooks = {
    ...(onInvalidToken !== undefined && { onInvalidToken }),
    ...(onInvalidTokensHeld !== undefined && { onInvalidTokensHeld }),
  };
  const common = {
    provider: 'expo',
    ...(app !== undefined && { app }),
    ...(group !== undefined && { group }),
    classify: classifyExpoError,
    reason: expoReason,
  };
  // Only worth the memory when someone prunes tokens.
  const ticketTokens = onInvalidToken === undefined ? undefined : new TicketTokens();

  const settleTickets = (tickets: readonly unknown[], [messages]: [ExpoPushMessageLike[]]): SettleResult => {
    const recipients = recipientsOf(messages);
    const failed: FailedMessage[] = [];
    let accepted = 0;
    let messageId: string | undefined;
    tickets.forEach((ticket, i) => {
      const details = readProperty(ticket, 'details');
      const token = recipients[i] ?? readString(details, 'expoPushToken');
      if (readProperty(ticket, 'status') === 'ok') {
        accepted++;
        messageId = readString(ticket, 'id');
        if (ticketTokens !== undefined && messageId !== undefined && token !== undefined)
          ticketTokens.remember(messageId, token);
      } else {
        failed.push({ errorType: classifyExpoError(ticket), reason: readString(details, 'error'), token });
      }
    });
    return { accepted, failed, ...(messageId !== undefined && { messageId }) };
  };

  const settleReceipts = (receipts: object): SettleResult => {
    let delivered = 0;
    const failed: FailedMessage[] = [];
    for (const [id, receipt] of Object.entries(receipts)) {
      const remembered = ticketTokens?.take(id);
      if (readProperty(receipt, 'status') === 'ok') {
        delivered++;
        continue;
      }
      const details = readProperty(receipt, 'details');
      const token = readString(details, 'expoPushToken') ?? remembered;
      failed.push({
        errorType: classifyExpoError(receipt),
        reason: readString(details, 'error'),
        ...(token !== undefined && { token }),
      });
    }
    telemetry.recordReceipts({ provider: 'expo', ...(app !== undefined && { app }), delivered, failed, ...tokenHooks });
    // Receipts are about messages already counted when their tickets came back: nothing to add to push_messages_total.
    return { accepted: 0, failed: [] };
  };

  const sendPushNotificationsAsync = wrapMethod<ExpoLike['sendPushNotificationsAsync']>(
    telemetry,
    expo,
    'sendPushNotificationsAsync',
    {
      ...common,
      operation: 'send_push_notifications',
      countMessages: ([messages]) => recipientCount(messages),
      tokens: ([messages]) => recipientsOf(messages).filter((token): token is string => token !== undefined),
      settle: settleTickets,
      ...tokenHooks,
    },
  );
  const getPushNotificationReceiptsAsync = wrapMethod<ExpoLike['getPushNotificationReceiptsAsync']>(
    telemetry,
    expo,
    'getPushNotificationReceiptsAsync',
    {
      ...common,
      operation: 'get_push_notification_receipts',
      countMessages: () => 0,
      settle: settleReceipts,
    },
  );
  return withMethods(expo, { sendPushNotificationsAsync, getPushNotificationReceiptsAsync });
}
