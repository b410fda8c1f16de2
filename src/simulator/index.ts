import { FaultPlan, type FaultSettings } from './faults.js';
import { SIMULATED_PROVIDERS, type FakeProvider, type FakeProviderOptions, type SimulatedProvider } from './fake.js';
import { loopbackIdentity } from './tls.js';
import { startFakeApns } from './apns.js';
import { startFakeExpo } from './expo.js';
import { startFakeFcm } from './fcm.js';
import { startFakeOneSignal } from './onesignal.js';
import { startFakeSns } from './sns.js';
import { startFakeWebPush } from './webpush.js';
import { describe } from '../core/options.js';
import { startFakeFcmData, type FakeFcmData } from './fcm-data.js';
import { startFakeApnsMetricsExport, type FakeApnsMetricsExport } from './apns-metrics-export.js';

export { FaultPlan } from './faults.js';
export type { Fault, FaultRule, FaultSettings, HeldRequest } from './faults.js';
export { SIMULATED_PROVIDERS } from './fake.js';
export type { FakeProvider, FakeProviderStats, SimulatedProvider } from './fake.js';
export { loopbackIdentity } from './tls.js';
export type { TlsIdentity } from './tls.js';
export { startFakeApns, startFakeExpo, startFakeFcm, startFakeOneSignal, startFakeSns, startFakeWebPush };
export { fcmLoopbackAgent } from './fcm.js';
export type { FcmLoopbackAgentOptions } from './fcm.js';
export { webPushSubscription } from './webpush.js';
export { DeviceFleet } from './devices.js';
export type { DelayDistribution, DeviceFleetOptions, DeviceFleetStats } from './devices.js';
export type { FakePushSubscription } from './webpush.js';
export { startFakeFcmData } from './fcm-data.js';
export type { FakeDeliveryDataRow, FakeFcmData, FakeFcmDataOptions } from './fcm-data.js';
export { apnsDeliveryMetricsCsv, startFakeApnsMetricsExport } from './apns-metrics-export.js';
export type { ApnsMetricsRow, FakeApnsMetricsExport, FakeApnsMetricsExportOptions } from './apns-metrics-export.js';

const STARTERS: Readonly<Record<SimulatedProvider, (options: FakeProviderOptions) => Promise<FakeProvider>>> = {
  fcm: startFakeFcm,
  apns: startFakeApns,
  webpush: startFakeWebPush,
  expo: startFakeExpo,
  sns: startFakeSns,
  onesignal: startFakeOneSignal,
};

export interface SimulatorOptions {
  /** Which fakes to start; default all of them. */
  readonly providers?: readonly SimulatedProvider[];
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Fixed ports per provider; default free ones. */
  readonly ports?: Readonly<Partial<Record<SimulatedProvider, number>>>;
  /** Initial fault scripts per provider. */
  readonly faults?: Readonly<Partial<Record<SimulatedProvider, FaultSettings>>>;
  /** Also start the delivery report fakes: the FCM Data API (with its token endpoint) and an APNs metrics export. */
  readonly deliveryReports?: boolean;
}

/** The providers' daily delivery report endpoints, faked (`deliveryReports: true`). */
export interface DeliveryReportFakes {
  readonly fcmData: FakeFcmData;
  readonly apnsMetrics: FakeApnsMetricsExport;
}

export interface Simulator {
  readonly providers: Readonly<Partial<Record<SimulatedProvider, FakeProvider>>>;
  /** The running fake for a provider; throws if it was not started. */
  fake(provider: SimulatedProvider): FakeProvider;
  /** Present with `deliveryReports: true`. */
  readonly deliveryReports?: DeliveryReportFakes;
  close(): Promise<void>;
}

/** Starts fake FCM, APNs, Web Push, Expo, SNS and OneSignal endpoints on loopback, each speaking its provider's protocol. */
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
  if (options.deliveryReports !== undefined && typeof options.deliveryReports !== 'boolean')
    throw new TypeError(`options.deliveryReports must be a boolean, got ${describe(options.deliveryReports)}`);
  const reportFakes: Array<{ close(): Promise<void> }> = [];
  let deliveryReports: DeliveryReportFakes | undefined;
  try {
    if (options.deliveryReports === true) {
      const fcmData = await startFakeFcmData({ host });
      reportFakes.push(fcmData);
      const apnsMetrics = await startFakeApnsMetricsExport({ host });
      reportFakes.push(apnsMetrics);
      deliveryReports = { fcmData, apnsMetrics };
    }
    for (const provider of providers) {
      started[provider] = await STARTERS[provider]({
        host,
        port: ports[provider] ?? 0,
        identity,
        faults: new FaultPlan(faults[provider]),
      });
    }
  } catch (error) {
    await Promise.all([...Object.values(started), ...reportFakes].map((fake) => fake.close()));
    throw error;
  }
  return {
    providers: started,
    ...(deliveryReports !== undefined && { deliveryReports }),
    fake(provider) {
      const fake = started[provider];
      if (fake === undefined) throw new Error(`the ${provider} fake was not started (options.providers)`);
      return fake;
    },
    async close() {
      await Promise.all([...Object.values(started), ...reportFakes].map((fake) => fake.close()));
    },
  };
}
