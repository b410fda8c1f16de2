import type { FaultRule } from '../simulator/faults.js';
import type { Simulator } from '../simulator/index.js';
import { DEMO_PROVIDERS, type DemoProvider } from './clients/index.js';
import { CAMPAIGN_TOKEN_PREFIX, type CampaignPlan } from './campaign.js';

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
  /** The sender itself stops: its traffic loop sends nothing for the phase, while the process runs and is scraped. */
  readonly stalled?: boolean;
  /** Share of the demo's fake devices offline (0 to 1): providers accept, devices confirm nothing. Default 0. */
  readonly devicesOffline?: number;
  /** A marketing campaign runs beside the steady (transactional) traffic: pushes/s to a small FCM audience. */
  readonly campaign?: CampaignPlan;
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly phases: readonly Phase[];
  /** The timeline starts over after this many milliseconds, so a demo left running keeps having incidents. */
  readonly loopMs?: number;
  /** The demo's own SDK request timeout per provider, in ms (0 for none), where the scenario needs another than the default. */
  readonly clientTimeoutMs?: Readonly<Partial<Record<DemoProvider, number>>>;
  /**
   * With Prometheus: every range window of the rules divided by this, for an alert whose windows are hours long (the
   * demo otherwise keeps windows as shipped and caps only `for:`).
   */
  readonly alertWindowScale?: number;
  /**
   * The demo's telemetry estimates pushes per recipient (PushTelemetry's sendFrequency) with this cap, over a day
   * compressed to `dayMs` as the scenario's incidents are (campaign.ts, demoTelemetry).
   */
  readonly sendFrequency?: { readonly cap: number; readonly dayMs: number };
  /** The demo's telemetry declares these groups: the steady traffic is the first, the campaign the second. */
  readonly groups?: readonly [transactional: string, marketing: string];
}

const S = 1000;
const M = 60 * S;
// A healthy baseline first: the table and Prometheus see normal traffic before anything breaks.
const WARM_UP = 10 * S;
const INCIDENT = 3 * M;
/**
 * PushProviderHung wants 5 minutes of calls in flight with none completing; the demo keeps windows as shipped and
 * caps only the `for:` (15 s), so the hang must outlast 5 min 15 s, with a margin for the scrape and Alertmanager.
 */
const HANG_INCIDENT = 7 * M;
/**
 * PushSendingStalled pages only for a sender that was steady for 3 hours, after 20 minutes of silence: at the real
 * scale no demo gets there. The stall scenario runs the rules with every window 60 times shorter (3 h → 3 min,
 * 5m → 5 s at the demo's 1 s scrape) and warms up past the 3 minutes (Prometheus calls it steady after about
 * 3 min 20 s); the stall then pages after about 40 s.
 */
const STALL_WINDOW_SCALE = 60;
const STALL_WARM_UP = 4 * M;
const STALL_INCIDENT = 2 * M;

/** Every provider answers a little later than instantly, as real ones do; the p95 column has something to show. */
export const BASE_LATENCY_MS: Readonly<Record<DemoProvider, number>> = {
  fcm: 25,
  apns: 12,
  webpush: 35,
  expo: 60,
  sns: 20,
};

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
    faults: everyone((provider): FaultRule[] => [
      { fault: provider === 'apns' || provider === 'webpush' ? 'payload_too_large' : 'payload_invalid', rate: 0.5 },
    ]),
  },
  'token-churn': {
    label:
      'token churn: 20% of devices uninstalled, 5% of tokens malformed; onInvalidToken prunes them (audience churn never pages)',
    // SNS has no invalid-token answer (a bad endpoint ARN is InvalidParameter, a payload error): only uninstalls there.
    faults: everyone((provider): FaultRule[] => [
      { fault: 'unregistered', rate: 0.2 },
      ...(provider === 'sns' ? [] : [{ fault: 'invalid_token', rate: 0.05 } as const]),
    ]),
  },
  'fcm-hang': {
    label:
      'FCM hung: it takes every request and never answers; calls pile up in flight, none completes (no errors either)',
    faults: { fcm: [{ fault: 'hang' }] },
  },
  stall: {
    label: 'sender stalled: its traffic loop sends nothing; the process is up and scraped, no message fails',
    faults: {},
    stalled: true,
  },
  'devices-offline': {
    label:
      'devices offline: 80% of devices lose their connection; every provider still accepts 100%, delivery receipts fall',
    faults: {},
    devicesOffline: 0.8,
  },
} satisfies Record<string, Omit<Phase, 'at'>>;

type IncidentName = keyof typeof INCIDENTS;

const RECOVERED: Readonly<Record<IncidentName, string>> = {
  'fcm-outage': 'FCM recovered',
  'apns-credentials-expired': 'APNs key rotated: sends succeed again',
  'webpush-rate-limited': 'Web Push throttling over',
  'bad-deploy-payloads': 'deploy rolled back',
  'token-churn': 'token churn back to normal',
  'fcm-hang': 'FCM answers again; the requests it held are dropped (connection reset) and firebase-admin retries them',
  stall: 'sender resumed: traffic back to normal',
  'devices-offline': 'devices back online: what the providers held arrives late (latency spikes), the rest expired',
};

interface Timing {
  readonly warmUpMs?: number;
  readonly incidentMs?: number;
}

/** Warm-up (10 s unless said), the incident (three minutes unless said), then a minute of recovery (alerts resolve), and again. */
function single(
  name: IncidentName,
  summary: string,
  timing: Timing = {},
  extra: Pick<Scenario, 'clientTimeoutMs' | 'alertWindowScale'> = {},
): Scenario {
  const { warmUpMs = WARM_UP, incidentMs = INCIDENT } = timing;
  const healthy =
    warmUpMs === WARM_UP
      ? HEALTHY
      : { ...HEALTHY, label: `all providers healthy (steady traffic for ${clockText(warmUpMs)} before the incident)` };
  return {
    name,
    summary,
    phases: [
      healthy,
      { at: warmUpMs, ...INCIDENTS[name] },
      { at: warmUpMs + incidentMs, label: RECOVERED[name], faults: {} },
    ],
    loopMs: warmUpMs + incidentMs + M,
    ...extra,
  };
}

/** `3 min 30 s`, for labels. */
function clockText(ms: number): string {
  const minutes = Math.floor(ms / M);
  const seconds = Math.round((ms % M) / S);
  return [minutes > 0 ? `${minutes} min` : '', seconds > 0 ? `${seconds} s` : ''].filter(Boolean).join(' ');
}

/**
 * The send-frequency sample's 24 hours pass in one minute here (each hourly slot 2.5 s): with a real day, a recipient
 * over the cap stays over it for 24 h, so on a demo left running the blast's audience never left the cap and the
 * steady recipients, pushed all day, joined it. With a day a minute, the blast's recipients are over the cap while it
 * runs and fall back under about half a minute after it stops, before the next blast (70 s later) starts.
 */
const DEMO_DAY_MS = M;
/** Pushes per recipient in that day. The blast gives each of its recipients 90 (54 once 40% of them have uninstalled). */
const DEMO_SEND_CAP = 30;
/** Steady recipients per provider at the default rate, and the most any one of them gets in a day: a quarter of the cap. */
const STEADY_AUDIENCE = 200;
const STEADY_SHARE_OF_CAP = 1 / 4;
/** At the default rate: 30 pushes/s to 20 recipients, 90 a minute each, beside 200 steady FCM recipients (9% of them). */
const BLAST: CampaignPlan = { rate: 30, audience: 20 };

/**
 * Steady (transactional) recipients per provider the demo's traffic cycles through at `rate` messages/s: 200, or, in a
 * scenario counting sends per recipient, enough that no steady recipient gets more than a quarter of the cap in a day
 * whatever the rate, so only a campaign puts anyone over it.
 */
export function steadyAudience(scenario: Scenario, rate: number): number {
  const frequency = scenario.sendFrequency;
  if (frequency === undefined) return STEADY_AUDIENCE;
  const perProviderDaily = (rate / DEMO_PROVIDERS.length) * (frequency.dayMs / S);
  return Math.max(STEADY_AUDIENCE, Math.ceil(perProviderDaily / (frequency.cap * STEADY_SHARE_OF_CAP)));
}

/**
 * A phase's campaign (written for the 200 steady recipients of the default rate) grown with the steady audience: its
 * recipients stay the same share of the day's recipients, each pushed as often, so the share over the cap is the same
 * at any rate.
 */
export function campaignAt(plan: CampaignPlan, steady: number): CampaignPlan {
  const scale = steady / STEADY_AUDIENCE;
  return { rate: plan.rate * scale, audience: Math.max(1, Math.round(plan.audience * scale)) };
}

/**
 * A marketing blast: a second sender (group `marketing`) pushes a small FCM audience far past the cap while the
 * steady traffic (group `transactional`) goes on. The over-sent users uninstall more and more (unregistered on their
 * tokens only, climbing), the share of recipients over the cap crosses PushRecipientsOverSendCap's threshold about
 * 20 s into the blast, and the transactional pushes stay healthy throughout. After the blast its recipients' day
 * passes and the share falls to 0: the alert resolves before the next blast.
 */
function campaignBlast(): Scenario {
  const uninstalls = (rate: number) =>
    ({ fcm: [{ fault: 'unregistered', match: `${CAMPAIGN_TOKEN_PREFIX}*`, rate }] }) as const;
  const blast = (share: number) =>
    `campaign blast: marketing pushes 1 FCM user in 11 90 times a minute (cap ${DEMO_SEND_CAP} in the demo's one-minute day); ${share}% of them uninstalled by now`;
  return {
    name: 'campaign-blast',
    summary:
      'a marketing campaign over-sends a small audience from 10 s: its unregistered rate climbs, transactional stays healthy',
    phases: [
      { ...HEALTHY, label: 'transactional traffic only, every provider healthy' },
      { at: WARM_UP, label: blast(5), faults: uninstalls(0.05), campaign: BLAST },
      { at: WARM_UP + M, label: blast(20), faults: uninstalls(0.2), campaign: BLAST },
      { at: WARM_UP + 2 * M, label: blast(40), faults: uninstalls(0.4), campaign: BLAST },
      {
        at: WARM_UP + INCIDENT,
        label: "campaign over; its recipients fall back under the cap as the demo's one-minute day passes",
        faults: {},
      },
    ],
    loopMs: WARM_UP + INCIDENT + M,
    sendFrequency: { cap: DEMO_SEND_CAP, dayMs: DEMO_DAY_MS },
    groups: ['transactional', 'marketing'],
  };
}

/** One incident after another, each followed by a recovery. */
function mixed(): Scenario {
  const order: readonly IncidentName[] = [
    'fcm-outage',
    'apns-credentials-expired',
    'webpush-rate-limited',
    'bad-deploy-payloads',
    'token-churn',
  ];
  const incident = 90 * S;
  const recovery = 30 * S;
  const phases: Phase[] = [
    { ...HEALTHY, label: 'all providers healthy (mixed: five incidents, 90 s each, 30 s apart)' },
  ];
  order.forEach((name, i) => {
    const start = 15 * S + i * (incident + recovery);
    phases.push({ at: start, ...INCIDENTS[name] }, { at: start + incident, label: RECOVERED[name], faults: {} });
  });
  return {
    name: 'mixed',
    summary: 'a game day: FCM outage, expired APNs key, Web Push throttling, bad deploy, token churn',
    phases,
    loopMs: 15 * S + order.length * (incident + recovery),
  };
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'healthy', summary: 'every provider accepts everything (the baseline)', phases: [HEALTHY] },
  single('fcm-outage', 'FCM answers 503 to everything from 10 s for 3 minutes'),
  single('apns-credentials-expired', 'APNs refuses the provider token (403 ExpiredProviderToken) from 10 s'),
  single('webpush-rate-limited', 'the Web Push service throttles 40% of pushes (429) from 10 s'),
  single('bad-deploy-payloads', 'a deploy ships a payload every provider refuses, half the messages, from 10 s'),
  single('token-churn', '25% of tokens are stale (unregistered / invalid) from 10 s; onInvalidToken prunes them'),
  // The FCM client gets no timeout here: with one, each hung call would end as a timeout and the hang look like an outage.
  single(
    'fcm-hang',
    'FCM takes every request and never answers from 10 s for 7 minutes; calls pile up in flight',
    { incidentMs: HANG_INCIDENT },
    { clientTimeoutMs: { fcm: 0 } },
  ),
  single(
    'stall',
    'the sender stops sending from 4 min for 2 minutes (process up, no errors), then resumes',
    { warmUpMs: STALL_WARM_UP, incidentMs: STALL_INCIDENT },
    { alertWindowScale: STALL_WINDOW_SCALE },
  ),
  single(
    'devices-offline',
    '80% of devices go offline from 10 s for 3 minutes: acceptance stays 100%, delivery receipts fall',
  ),
  campaignBlast(),
  mixed(),
];

export const SCENARIO_NAMES = SCENARIOS.map((scenario) => scenario.name);

/** "provider_unavailable 100%, invalid_token 5%": what a provider's rules do, for the table. */
export function describeRules(rules: readonly FaultRule[] | undefined): string {
  if (rules === undefined || rules.length === 0) return '-';
  return rules
    .map(
      ({ fault, rate = 1 }) =>
        `${typeof fault === 'string' ? fault : `${fault.status} ${fault.reason}`} ${Math.round(rate * 100)}%`,
    )
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
    if (loopMs !== undefined && elapsed - this.#loopStart >= loopMs)
      this.#loopStart += loopMs * Math.floor((elapsed - this.#loopStart) / loopMs);
    const offset = elapsed - this.#loopStart;
    const due = [...phases].reverse().find((phase) => phase.at <= offset) ?? (phases[0] as Phase);
    if (due === this.#current) return;
    this.#current = due;
    for (const provider of DEMO_PROVIDERS) {
      const rules = due.faults[provider] ?? [];
      const faults = this.#simulator.fake(provider).faults;
      faults.set({ rules, latencyMs: BASE_LATENCY_MS[provider] });
      // New rules answer new requests only; what a hang held would wait for the SDK's timeout (none, in fcm-hang), so
      // the recovered provider drops it, as its load balancer would, and the SDK retries or fails it.
      if (!rules.some((rule) => rule.fault === 'hang')) faults.dropHanging();
    }
    this.#onPhase(due);
  }

  /** True while the phase running stalls the sender. */
  get stalled(): boolean {
    return this.#current?.stalled === true;
  }

  get phase(): Phase | undefined {
    return this.#current;
  }

  /** The rules a provider's fake is answering with right now. */
  activeRules(provider: DemoProvider): readonly FaultRule[] {
    return this.#current?.faults[provider] ?? [];
  }
}
