import { FaultPlan, type FaultSettings } from './faults.js';
import { SIMULATED_PROVIDERS, type FakeProvider, type FakeProviderOptions, type SimulatedProvider } from './fake.js';
import { loopbackIdentity } from './tls.js';
import { startFakeApns } from './apns.js';
import { startFakeExpo } from './expo.js';
import { startFakeFcm } from './fcm.js';
import { startFakeSns } from './sns.js';
import { startFakeWebPush } from './webpush.js';
import { describe } from '../core/options.js';

export { FaultPlan } from './faults.js';
export type { Fault, FaultRule, FaultSettings, HeldRequest } from './faults.js';
export { SIMULATED_PROVIDERS } from './fake.js';
export type { FakeProvider, FakeProviderStats, SimulatedProvider } from './fake.js';
export { loopbackIdentity } from './tls.js';
export type { TlsIdentity } from './tls.js';
export { startFakeApns, startFakeExpo, startFakeFcm, startFakeSns, startFakeWebPush };
export { fcmLoopbackAgent } from './fcm.js';
export type { FcmLoopbackAgentOptions } from './fcm.js';
export { webPushSubscription } from './webpush.js';
export type { FakePushSubscription } from './webpush.js';

const STARTERS: Readonly<Record<SimulatedProvider, (options: FakeProviderOptions) => Promise<FakeProvider>>> = {
  fcm: startFakeFcm,
  apns: startFakeApns,
  webpush: startFakeWebPush,
  expo: startFakeExpo,
  sns: startFakeSns,
};

export interface SimulatorOptions {
  /** Which fakes to start; default all five. */
  readonly providers?: readonly SimulatedProvider[];
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Fixed ports per provider; default free ones. */
  readonly ports?: Readonly<Partial<Record<SimulatedProvider, number>>>;
  /** Initial fault scripts per provider. */
  readonly faults?: Readonly<Partial<Record<SimulatedProvider, FaultSettings>>>;
}

export interface Simulator {
  readonly providers: Readonly<Partial<Record<SimulatedProvider, FakeProvider>>>;
  /** The running fake for a provider; throws if it was not started. */
  fake(provider: SimulatedProvider): FakeProvider;
  close(): Promise<void>;
}

/** Starts fake FCM, APNs, Web Push, Expo and SNS endpoints on loopback, each speaking its provider's protocol. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const { providers = SIMULATED_PROVIDERS, host = '127.0.0.1', ports = {}, faults = {} } = options;
  for (const provider of providers) {
    if (!(SIMULATED_PROVIDERS as readonly string[]).includes(provider)) {
      throw new TypeError(
        `options.providers: unknown provider ${describe(provider)}; expected some of ${SIMULATED_PROVIDERS.join(', ')}`,
      );
    }
  }
  const identity = await loopbackIdentity();
  const started: Partial<Record<SimulatedProvider, FakeProvider>> = {};
  try {
    for (const provider of providers) {
      started[provider] = await STARTERS[provider]({
        host,
        port: ports[provider] ?? 0,
        identity,
        faults: new FaultPlan(faults[provider]),
      });
    }
  } catch (error) {
    await Promise.all(Object.values(started).map((fake) => fake.close()));
    throw error;
  }
  return {
    providers: started,
    fake(provider) {
      const fake = started[provider];
      if (fake === undefined) throw new Error(`the ${provider} fake was not started (options.providers)`);
      return fake;
    },
    async close() {
      await Promise.all(Object.values(started).map((fake) => fake.close()));
    },
  };
}
