import https from 'node:https';
import { classifyWebPushError, instrumentWebPush, webPushReason } from '../../providers/webpush.js';
import { webPushSubscription, type FakePushSubscription } from '../../simulator/webpush.js';
import { loadSdk } from './load.js';
import { DEMO_APP, type ClientContext, type FailedToken, type ProviderClient } from './types.js';

const MAX_SUBSCRIPTIONS = 10_000;

/**
 * web-push on the fake push service. A demo "token" is a subscription id: the browser subscription (endpoint and
 * keys) is made up for it on first use, since web-push must encrypt to a real P-256 key.
 */
export async function webPushClient(context: ClientContext): Promise<ProviderClient> {
  const { default: webpush } = await loadSdk('web-push', () => import('web-push'));
  const vapid = webpush.generateVAPIDKeys();
  // web-push always speaks HTTPS, and the fake's certificate is self-signed.
  const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
  const options = {
    agent,
    TTL: 60,
    timeout: context.timeoutMs,
    vapidDetails: { subject: 'mailto:push-demo@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
  };
  const subscriptions = new Map<string, FakePushSubscription>();
  const endpointPrefix = `${context.fake.url}/push/`;
  const onInvalidToken = context.onInvalidToken;
  const client =
    context.instrument === false
      ? webpush
      : instrumentWebPush(webpush, context.telemetry, {
          app: DEMO_APP,
          ...(context.group !== undefined && { group: context.group }),
          // The adapter reports the subscription endpoint; the demo's token is its last path segment.
          ...(onInvalidToken && {
            onInvalidToken: ({ token }) =>
              onInvalidToken('webpush', decodeURIComponent(token.slice(endpointPrefix.length))),
          }),
        });

  function subscriptionFor(token: string): FakePushSubscription {
    let subscription = subscriptions.get(token);
    if (subscription === undefined) {
      if (subscriptions.size >= MAX_SUBSCRIPTIONS) subscriptions.delete(subscriptions.keys().next().value as string);
      subscriptions.set(token, (subscription = webPushSubscription(context.fake.url, token)));
    }
    return subscription;
  }

  return {
    async send(tokens, notification) {
      const payload = JSON.stringify(notification);
      // One request per subscription: that is the Web Push protocol.
      const results = await Promise.allSettled(
        tokens.map((token) => client.sendNotification(subscriptionFor(token), payload, options)),
      );
      const failed: FailedToken[] = [];
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') return;
        const reason = webPushReason(result.reason);
        failed.push({
          token: tokens[i] as string,
          errorType: classifyWebPushError(result.reason),
          ...(reason !== undefined && { reason }),
        });
      });
      return { accepted: tokens.length - failed.length, failed };
    },
    async close() {
      agent.destroy();
    },
  };
}
