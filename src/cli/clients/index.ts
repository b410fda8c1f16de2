import type { Simulator } from '../../simulator/index.js';
import { apnsClient } from './apns.js';
import { expoClient } from './expo.js';
import { fcmClient } from './fcm.js';
import { snsClient } from './sns.js';
import {
  DEMO_PROVIDERS,
  type ClientContext,
  type DemoProvider,
  type Notification,
  type ProviderClient,
  type SendOutcome,
} from './types.js';
import { webPushClient } from './webpush.js';

export { DEMO_PROVIDERS } from './types.js';
export type { DemoProvider, FailedToken, Notification, SendOutcome } from './types.js';
export { MissingSdkError } from './load.js';

const FACTORIES: Readonly<Record<DemoProvider, (context: ClientContext) => Promise<ProviderClient>>> = {
  fcm: fcmClient,
  apns: apnsClient,
  webpush: webPushClient,
  expo: expoClient,
  sns: snsClient,
};

/** The five real SDK clients, instrumented, each pointed at its fake; one send for all. */
export interface DemoClients {
  send(provider: DemoProvider, tokens: readonly string[], notification: Notification): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** `timeoutsMs` overrides `options.timeoutMs` for some providers (0: none), as a scenario may need. */
export async function createClients(
  simulator: Simulator,
  options: Omit<ClientContext, 'fake'>,
  timeoutsMs: Readonly<Partial<Record<DemoProvider, number>>> = {},
): Promise<DemoClients> {
  const clients: Partial<Record<DemoProvider, ProviderClient>> = {};
  try {
    for (const provider of DEMO_PROVIDERS) {
      clients[provider] = await FACTORIES[provider]({
        ...options,
        timeoutMs: timeoutsMs[provider] ?? options.timeoutMs,
        fake: simulator.fake(provider),
      });
    }
  } catch (error) {
    await Promise.allSettled(Object.values(clients).map((client) => client.close()));
    throw error;
  }
  return {
    send: (provider, tokens, notification) => (clients[provider] as ProviderClient).send(tokens, notification),
    async close() {
      await Promise.allSettled(Object.values(clients).map((client) => client.close()));
    },
  };
}
