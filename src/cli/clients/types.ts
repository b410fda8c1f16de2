import type { ErrorType } from '../../core/taxonomy.js';
import type { PushTelemetry } from '../../core/telemetry.js';
import type { FakeProvider } from '../../simulator/fake.js';

/** The providers the demo sends to, one real SDK each. */
export const DEMO_PROVIDERS = ['fcm', 'apns', 'webpush', 'expo', 'sns'] as const;
export type DemoProvider = (typeof DEMO_PROVIDERS)[number];

/** The `app` label of every demo sender: one app sending through five providers. */
export const DEMO_APP = 'com.example.pushdemo';

export interface Notification {
  readonly title: string;
  readonly body: string;
  readonly data?: Readonly<Record<string, string>>;
}

export interface FailedToken {
  readonly token: string;
  readonly errorType: ErrorType;
  /** The provider's own code, as the adapter puts on the span. */
  readonly reason?: string;
}

/** What one send came to, per token, in the service's own vocabulary (the same classifiers as the adapters). */
export interface SendOutcome {
  readonly accepted: number;
  readonly failed: readonly FailedToken[];
}

/** One instrumented SDK client behind a provider-neutral send. */
export interface ProviderClient {
  send(tokens: readonly string[], notification: Notification): Promise<SendOutcome>;
  close(): Promise<void>;
}

export interface ClientContext {
  /** The simulator's fake for this provider: where the SDK is pointed. */
  readonly fake: FakeProvider;
  readonly telemetry: PushTelemetry;
  /** Called with the demo's own token (not the provider's endpoint or ARN) when the provider says it is gone. */
  readonly onInvalidToken?: (provider: DemoProvider, token: string) => void;
  /** The `group` label of every send of this client; needs the telemetry's `groups` to declare it. Default none. */
  readonly group?: string;
  /**
   * Per-request timeout given to each SDK, so a `hang` fault ends as a timeout and shutdown never waits long; 0 for
   * none (firebase-admin, node-apn, web-push and the AWS SDK take it; expo-server-sdk has no timeout to set).
   */
  readonly timeoutMs: number;
  /**
   * Default true. False hands back the bare SDK clients, not wrapped by push-telemetry: nothing is recorded and
   * onInvalidToken is never called. For the load bench (bench/load.bench.ts), which compares the same service with
   * and without instrumentation.
   */
  readonly instrument?: boolean;
}

/** Every token of a call that failed as a whole, with one classification. */
export function allFailed(tokens: readonly string[], errorType: ErrorType, reason: string | undefined): SendOutcome {
  return {
    accepted: 0,
    failed: tokens.map((token) => ({ token, errorType, ...(reason !== undefined && { reason }) })),
  };
}
