import { classifyFcmError, instrumentFcm } from '../../providers/fcm.js';
import { fcmLoopbackAgent } from '../../simulator/fcm.js';
import { readString } from '../../core/read.js';
import { loadSdk } from './load.js';
import { allFailed, DEMO_APP, type ClientContext, type ProviderClient } from './types.js';

let apps = 0;

/**
 * firebase-admin's Messaging on the fake FCM: an access-token credential that never leaves the process, the loopback
 * agent (the only way to point firebase-admin elsewhere), and the HTTP/1.1 transport so sendEach* use that agent too.
 */
export async function fcmClient(context: ClientContext): Promise<ProviderClient> {
  const { initializeApp, deleteApp } = await loadSdk('firebase-admin/app', () => import('firebase-admin/app'));
  const { getMessaging } = await loadSdk('firebase-admin/messaging', () => import('firebase-admin/messaging'));
  const agent = fcmLoopbackAgent(context.fake.url, { timeoutMs: context.timeoutMs });
  const app = initializeApp(
    {
      projectId: 'push-telemetry-demo',
      credential: { getAccessToken: async () => ({ access_token: 'demo-access-token', expires_in: 3600 }) },
      httpAgent: agent,
    },
    // A name per client: firebase-admin refuses two apps with the same name in one process.
    `push-telemetry-demo-${++apps}`,
  );
  const raw = getMessaging(app);
  raw.enableLegacyHttpTransport();
  const onInvalidToken = context.onInvalidToken;
  const messaging =
    context.instrument === false
      ? raw
      : instrumentFcm(raw, context.telemetry, {
          app: DEMO_APP,
          ...(context.group !== undefined && { group: context.group }),
          ...(onInvalidToken && { onInvalidToken: ({ token }) => onInvalidToken('fcm', token) }),
        });

  return {
    async send(tokens, notification) {
      try {
        const batch = await messaging.sendEachForMulticast({
          tokens: [...tokens],
          notification: { title: notification.title, body: notification.body },
          ...(notification.data && { data: { ...notification.data } }),
        });
        const failed = batch.responses.flatMap((response, i) =>
          response.success
            ? []
            : [
                {
                  token: tokens[i] as string,
                  errorType: classifyFcmError(response.error),
                  reason: response.error?.code,
                },
              ],
        );
        return { accepted: batch.successCount, failed };
      } catch (error) {
        return allFailed(tokens, classifyFcmError(error), readString(error, 'code'));
      }
    },
    async close() {
      await deleteApp(app);
      agent.destroy();
    },
  };
}
