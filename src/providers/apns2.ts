import { httpStatusOf } from '../core/classify.js';
import type { PushTelemetry } from '../core/telemetry.js';
import type { FailedMessage, SettleResult } from '../core/types.js';
import { readProperty, readString } from '../core/read.js';
import { apnsReasonOf, apnsSenderOptions, classifyApnsError } from './apns-reasons.js';
import { expectClient, withMethods, wrapMethod, type AdapterOptions } from './client-view.js';

export { APNS_REASONS, apnsReasonOf, classifyApnsError, classifyApnsReason } from './apns-reasons.js';
export type { ApnsReason } from './apns-reasons.js';
export type { AdapterOptions } from './client-view.js';

const ADAPTER = 'instrumentApns2';

/** An apns2 `Notification`, as far as the adapter reads one. */
export interface Apns2NotificationLike {
  readonly deviceToken: string;
}

/**
 * An apns2 `ApnsClient`, as far as the adapter needs one. Declared here rather than imported so that code compiled
 * against push-telemetry does not need apns2 installed.
 */
export interface Apns2ClientLike {
  send(notification: Apns2NotificationLike): Promise<unknown>;
  sendMany(notifications: readonly Apns2NotificationLike[]): Promise<readonly unknown[]>;
}

type SendArgs = [notification: Apns2NotificationLike];
type SendManyArgs = [notifications: readonly Apns2NotificationLike[]];

function tokenOf(notification: unknown): string | undefined {
  return readString(notification, 'deviceToken');
}

function notificationsOf([notifications]: SendManyArgs): readonly unknown[] {
  return Array.isArray(notifications) ? notifications : [];
}

function manyTokens(args: SendManyArgs): string[] {
  return notificationsOf(args)
    .map(tokenOf)
    .filter((token): token is string => token !== undefined);
}

/**
 * apns2's sendMany never rejects for a refused notification: it resolves one entry per notification, in order,
 * either the notification itself or `{ error }` (an `ApnsError` with `statusCode` and `response.reason`, or undici's
 * transport error).
 */
function settleMany(results: readonly unknown[], args: SendManyArgs): SettleResult {
  if (!Array.isArray(results)) throw new TypeError(`${ADAPTER}: expected sendMany to resolve an array`);
  const sent = notificationsOf(args);
  const failed: FailedMessage[] = [];
  results.forEach((entry: unknown, i) => {
    const error = readProperty(entry, 'error');
    if (error === undefined) return;
    const reason = apnsReasonOf(error);
    const token = tokenOf(sent[i]) ?? tokenOf(readProperty(error, 'notification'));
    const status = httpStatusOf(error);
    failed.push({
      errorType: classifyApnsError(error),
      ...(reason !== undefined && { reason }),
      ...(token !== undefined && { token }),
      ...(status !== undefined && { status }),
    });
  });
  return { accepted: results.length - failed.length, failed };
}

/**
 * Instruments an apns2 `ApnsClient`: `send(notification)` counts one message and rejects with the SDK's `ApnsError`
 * or transport error; `sendMany(notifications)` counts one per notification from its per-entry results. Returns a view
 * of the client with those two methods instrumented; `close`, `ping`, `on` and the rest pass through.
 */
export function instrumentApns2<T extends Apns2ClientLike>(
  client: T,
  telemetry: PushTelemetry,
  options?: AdapterOptions,
): T {
  expectClient(client, ['send', 'sendMany'], ADAPTER, 'an apns2 ApnsClient');
  const common = apnsSenderOptions(options, ADAPTER);
  // wrapMethod calls the originals with `this` = the client, so sendMany's internal this.send() is not counted twice.
  return withMethods(client, {
    send: wrapMethod<(...args: SendArgs) => Promise<unknown>>(telemetry, client, 'send', {
      ...common,
      operation: 'send',
      // One message, and no batch attribute on its span: the token list doubles as the count.
      tokens: ([notification]) => [String(readProperty(notification, 'deviceToken'))],
    }),
    sendMany: wrapMethod<(...args: SendManyArgs) => Promise<readonly unknown[]>>(telemetry, client, 'sendMany', {
      ...common,
      operation: 'send_many',
      countMessages: (args) => notificationsOf(args).length,
      tokens: manyTokens,
      settle: settleMany,
    }),
  });
}
