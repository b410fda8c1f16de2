import type { FaultRule } from '../simulator/faults.js';
import type { Simulator } from '../simulator/index.js';
import { DEMO_PROVIDERS, type DemoProvider } from './clients/index.js';

/**
 * Game-day scenarios: timelines of FaultPlan scripts. Each phase replaces every fake's rules at once, the way an
 * incident starts and ends; the demo's traffic and telemetry are never told, they only see what the providers answer.
 */

export interface Phase {
  /** Milliseconds from the start of the timeline. */
  readonly at: number;
  /** One line for the operator: what the providers are doing now. */
  readonly label: string;
  /** Rules per provider for this phase; providers left out answer normally. */
  readonly faults: Readonly<Partial<Record<DemoProvider, readonly FaultRule[]>>>;
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly phases: readonly Phase[];
  /** The timeline starts over after this many milliseconds, so a demo left running keeps having incidents. */
  readonly loopMs?: number;
}

const S = 1000;
const M = 60 * S;
// A healthy baseline first: the table and Prometheus see normal traffic before anything breaks.
const WARM_UP = 10 * S;
const INCIDENT = 3 * M;

/** Every provider answers a little later than instantly, as real ones do; the p95 column has something to show. */
export const BASE_LATENCY_MS: Readonly<Record<DemoProvider, number>> = { fcm: 25, apns: 12, webpush: 35, expo: 60, sns: 20 };

const HEALTHY: Phase = { at: 0, label: 'all providers healthy', faults: {} };

const everyone = (rules: (provider: DemoProvider) => readonly FaultRule[]): Phase['faults'] =>
  Object.fromEntries(DEMO_PROVIDERS.map((provider) => [provider, rules(provider)]));

const INCIDENTS = {
  'fcm-outage': {
    label: 'FCM outage: every FCM request answered 503 UNAVAILABLE',
    faults: { fcm: [{ fault: 'provider_unavailable' }] },
  },
  'apns-credentials-expired': {
    label: 'APNs signing key revoked: every APNs request answered 403 ExpiredProviderToken',
    faults: { apns: [{ fault: 'auth' }] },
  },
  'webpush-rate-limited': {
    label: 'Web Push service throttling: 40% of pushes answered 429 Too Many Requests',
    faults: { webpush: [{ fault: 'rate_limited', rate: 0.4 }] },
  },
  'bad-deploy-payloads': {
    label: 'bad deploy: the new notification template is refused by every provider (half the messages)',
    faults: everyone((provider): FaultRule[] => [{ fault: provider === 'apns' || provider === 'webpush' ? 'payload_too_large' : 'payload_invalid', rate: 0.5 }]),
  },
  'token-churn': {
    label: 'token churn: 20% of devices uninstalled, 5% of tokens malformed; onInvalidToken prunes them (audience churn never pages)',
    // SNS has no invalid-token answer (a bad endpoint ARN is InvalidParameter, a payload error): only uninstalls there.
    faults: everyone((provider): FaultRule[] => [{ fault: 'unregistered', rate: 0.2 }, ...(provider === 'sns' ? [] : [{ fault: 'invalid_token', rate: 0.05 } as const])]),
  },
} satisfies Record<string, Omit<Phase, 'at'>>;

type IncidentName = keyof typeof INCIDENTS;

const RECOVERED: Readonly<Record<IncidentName, string>> = {
  'fcm-outage': 'FCM recovered',
  'apns-credentials-expired': 'APNs key rotated: sends succeed again',
  'webpush-rate-limited': 'Web Push throttling over',
  'bad-deploy-payloads': 'deploy rolled back',
  'token-churn': 'token churn back to normal',
};

/** Warm-up, the incident for three minutes, then a minute of recovery (alerts resolve), and again. */
function single(name: IncidentName, summary: string): Scenario {
  return {
    name,
    summary,
    phases: [HEALTHY, { at: WARM_UP, ...INCIDENTS[name] }, { at: WARM_UP + INCIDENT, label: RECOVERED[name], faults: {} }],
    loopMs: WARM_UP + INCIDENT + M,
  };
}

/** One incident after another, each followed by a recovery. */
function mixed(): Scenario {
  const order: readonly IncidentName[] = ['fcm-outage', 'apns-credentials-expired', 'webpush-rate-limited', 'bad-deploy-payloads', 'token-churn'];
  const incident = 90 * S;
  const recovery = 30 * S;
  const phases: Phase[] = [{ ...HEALTHY, label: 'all providers healthy (mixed: five incidents, 90 s each, 30 s apart)' }];
  order.forEach((name, i) => {
    const start = 15 * S + i * (incident + recovery);
    phases.push({ at: start, ...INCIDENTS[name] }, { at: start + incident, label: RECOVERED[name], faults: {} });
  });
  return { name: 'mixed', summary: 'a game day: FCM outage, expired APNs key, Web Push throttling, bad deploy, token churn', phases, loopMs: 15 * S + order.length * (incident + recovery) };
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'healthy', summary: 'every provider accepts everything (the baseline)', phases: [HEALTHY] },
  single('fcm-outage', 'FCM answers 503 to everything from 10 s for 3 minutes'),
  single('apns-credentials-expired', 'APNs refuses the provider token (403 ExpiredProviderToken) from 10 s'),
  single('webpush-rate-limited', 'the Web Push service throttles 40% of pushes (429) from 10 s'),
  single('bad-deploy-payloads', 'a deploy ships a payload every provider refuses, half the messages, from 10 s'),
  single('token-churn', '25% of tokens are stale (unregistered / invalid) from 10 s; onInvalidToken prunes them'),
  mixed(),
];

export const SCENARIO_NAMES = SCENARIOS.map((scenario) => scenario.name);

/** "provider_unavailable 100%, invalid_token 5%": what a provider's rules do, for the table. */
export function describeRules(rules: readonly FaultRule[] | undefined): string {
  if (rules === undefined || rules.length === 0) return '-';
  return rules
    .map(({ fault, rate = 1 }) => `${typeof fault === 'string' ? fault : `${fault.status} ${fault.reason}`} ${Math.round(rate * 100)}%`)
    .join(', ');
}

/** Plays a scenario onto the simulator's fakes; `advance()` is called by the demo's clock. */
export class Timeline {
  readonly scenario: Scenario;
  readonly #simulator: Simulator;
  readonly #onPhase: (phase: Phase) => void;
  #current: Phase | undefined;
  #loopStart = 0;

  constructor(scenario: Scenario, simulator: Simulator, onPhase: (phase: Phase) => void) {
    this.scenario = scenario;
    this.#simulator = simulator;
    this.#onPhase = onPhase;
  }

  /** Applies the phase due at `elapsed` ms (from the demo's start) if it is not the one running. */
  advance(elapsed: number): void {
    const { phases, loopMs } = this.scenario;
    if (loopMs !== undefined && elapsed - this.#loopStart >= loopMs) this.#loopStart += loopMs * Math.floor((elapsed - this.#loopStart) / loopMs);
    const offset = elapsed - this.#loopStart;
    const due = [...phases].reverse().find((phase) => phase.at <= offset) ?? (phases[0] as Phase);
    if (due === this.#current) return;
    this.#current = due;
    for (const provider of DEMO_PROVIDERS) {
      this.#simulator.fake(provider).faults.set({ rules: due.faults[provider] ?? [], latencyMs: BASE_LATENCY_MS[provider] });
    }
    this.#onPhase(due);
  }

  get phase(): Phase | undefined {
    return this.#current;
  }

  /** The rules a provider's fake is answering with right now. */
  activeRules(provider: DemoProvider): readonly FaultRule[] {
    return this.#current?.faults[provider] ?? [];
  }
}
