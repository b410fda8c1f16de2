import { classifyExpoError, expoReason, instrumentExpo } from '../../providers/expo.js';
import { loadSdk } from './load.js';
import { allFailed, DEMO_APP, type ClientContext, type FailedToken, type ProviderClient } from './types.js';

// expo-server-sdk reads EXPO_BASE_URL once, when first imported: one Expo fake per process.
let loadedFor: string | undefined;

/** expo-server-sdk on the fake Expo push service; one ticket per recipient, in order. */
export async function expoClient(context: ClientContext): Promise<ProviderClient> {
  if (loadedFor !== undefined && loadedFor !== context.fake.url) {
    throw new Error(
      `expo-server-sdk is already pointed at ${loadedFor} in this process (it reads EXPO_BASE_URL once, at import)`,
    );
  }
  process.env.EXPO_BASE_URL = context.fake.url;
  loadedFor = context.fake.url;
  const { Expo } = await loadSdk('expo-server-sdk', () => import('expo-server-sdk'));
  const onInvalidToken = context.onInvalidToken;
  const raw = new Expo();
  const expo =
    context.instrument === false
      ? raw
      : instrumentExpo(raw, context.telemetry, {
          app: DEMO_APP,
          ...(context.group !== undefined && { group: context.group }),
          ...(onInvalidToken && { onInvalidToken: ({ token }) => onInvalidToken('expo', token) }),
        });

  return {
    async send(tokens, notification) {
      const messages = tokens.map((to) => ({
        to,
        title: notification.title,
        body: notification.body,
        ...(notification.data && { data: { ...notification.data } }),
      }));
      let accepted = 0;
      const failed: FailedToken[] = [];
      // Expo takes at most 100 recipients per request; the SDK's own chunker knows the limits.
      for (const chunk of expo.chunkPushNotifications(messages)) {
        const chunkTokens = chunk.map((message) => message.to as string);
        try {
          const tickets = await expo.sendPushNotificationsAsync(chunk);
          tickets.forEach((ticket, i) => {
            if (ticket.status === 'ok') accepted++;
            else
              failed.push({
                token: chunkTokens[i] as string,
                errorType: classifyExpoError(ticket),
                ...(ticket.details?.error !== undefined && { reason: ticket.details.error }),
              });
          });
        } catch (error) {
          failed.push(...allFailed(chunkTokens, classifyExpoError(error), expoReason(error)).failed);
        }
      }
      return { accepted, failed };
    },
    async close() {},
  };
}
