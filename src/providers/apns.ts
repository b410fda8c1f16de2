import { httpStatusOf } from '../core/classify.js';
import type { PushTelemetry } from '../core/telemetry.js';
import type { FailedMessage, PushSender, SettleResult } from '../core/types.js';
import { readProperty, readString } from '../core/read.js';
import { apnsReasonOf, apnsSenderOptions, classifyApnsError } from './apns-reasons.js';
import { expectClient, withMethods, wrapMethod, type AdapterOptions } from './client-view.js';

export { APNS_REASONS, apnsReasonOf, classifyApnsError, classifyApnsReason } from './apns-reasons.js';
export type { ApnsReason } from './apns-reasons.js';
export type { AdapterOptions } from './client-view.js';

const ADAPTER = 'instrumentApns';

/**
 * A @parse/node-apn `Provider` or `MultiProvider` (or a `Provider` of the original `apn` package, whose API it
 * shares), as far as the adapter needs one. Declared here rather than imported
 * so that code compiled against push-telemetry does not need node-apn installed.
 */
export interface ApnProviderLike {
  send(notification: object, recipients: string | readonly string[]): Promise<unknown>;
  broadcast?(notifications: object | readonly object[], bundleId: string): Promise<unknown>;
}

type SendArgs = [notification: object, recipients: string | readonly string[]];
type BroadcastArgs = [notifications: object | readonly object[], bundleId: string];

/**
 * The tokens node-apn posts to, one HTTP/2 request each: it also supplies the message count (default countMessages),
 * which keeps `messaging.batch.message_count` off single-recipient spans.
 */
function deviceTokens([, recipients]: SendArgs): string[] {
  const list: readonly unknown[] = Array.isArray(recipients) ? recipients : [recipients];
  // node-apn builds the path with `${token}`, so String() is the token APNs sees.
  return list.map((token) => (typeof token === 'string' ? token : String(token)));
}

function notificationCount([notifications]: BroadcastArgs): number {
  return Array.isArray(notifications) ? notifications.length : 1;
}

/**
 * node-apn resolves `{ sent, failed }` and never rejects for a refused device: each `failed` entry is either
 * `{ device, status, response: { reason } }` (APNs answered) or `{ device, error }` (node-apn's own VError: timeout,
 * write failure, 500 with the body dropped, ExpiredProviderToken after its retries).
 */
function settleResponses(result: unknown): SettleResult {
  const sent = readProperty(result, 'sent');
  const failed = readProperty(result, 'failed');
  if (!Array.isArray(sent) || !Array.isArray(failed))
    throw new TypeError(`${ADAPTER}: expected node-apn to resolve { sent: [], failed: [] }`);
  const failures = failed.map((entry: unknown): FailedMessage => {
    const reason = apnsReasonOf(entry);
    // Broadcast failures name a bundle id, not a device: no token, so no onInvalidToken for them.
    const token = readString(entry, 'device');
    // node-apn's `(timeout)`, `(aborted)` and `(error)` stand-ins are no status.
    const status = httpStatusOf(entry);
    return {
      errorType: classifyApnsError(entry),
      ...(reason !== undefined && { reason }),
      ...(token !== undefined && { token }),
      ...(status !== undefined && { status }),
    };
  });
  const messageId = sent.length === 1 ? readString(sent[0], 'apns-id') : undefined;
  return { accepted: sent.length, failed: failures, ...(messageId !== undefined && { messageId }) };
}

/**
 * Instruments a @parse/node-apn `Provider` (or `MultiProvider`): `send(notification, tokens)` counts one message per
 * token from its `{ sent, failed }`, `broadcast(notifications, bundleId)` one per notification. Returns a view of the
 * provider with those methods instrumented; `shutdown`, `client`, `manageChannels` and the rest pass through.
 */
export function instrumentApns<T extends ApnProviderLike>(
  provider: T,
  telemetry: PushTelemetry,
  options?: AdapterOptions,
): T {
  expectClient(provider, ['send'], ADAPTER, 'a node-apn Provider or MultiProvider (@parse/node-apn, or apn)');
  const common = apnsSenderOptions(options, ADAPTER);
  const methods: Record<string, PushSender> = {
    send: wrapMethod<(...args: SendArgs) => Promise<unknown>>(telemetry, provider, 'send', {
      ...common,
      operation: 'send',
      tokens: deviceTokens,
      settle: settleResponses,
    }),
  };
  // broadcast arrived in node-apn 7 (Live Activity channels); older providers simply lack it.
  if (typeof readProperty(provider, 'broadcast') === 'function') {
    methods.broadcast = wrapMethod<(...args: BroadcastArgs) => Promise<unknown>>(telemetry, provider, 'broadcast', {
      ...common,
      operation: 'broadcast',
      countMessages: notificationCount,
      settle: settleResponses,
    });
  }
  return withMethods(provider, methods);
}
