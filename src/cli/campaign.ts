import { DEFAULT_SAMPLE_SIZE } from '../core/send-frequency.js';
import { PushTelemetry } from '../core/telemetry.js';
import type { PushTelemetryOptions } from '../core/types.js';
import { storeFor } from '../metrics/prom-client-binding.js';
import { RecipientFrequency, type FrequencySnapshot } from '../metrics/recipient-frequency.js';
import type { Simulator } from '../simulator/index.js';
import { DEMO_PROVIDERS, type Notification } from './clients/index.js';
import { fcmClient } from './clients/fcm.js';
import { DEMO_APP } from './clients/types.js';
import type { Scenario } from './scenarios.js';

/**
 * The campaign-blast scenario's marketing sender: a small audience pushed to many times a minute through its own FCM
 * client (group `marketing`), beside the demo's steady transactional traffic. Its recipients are tokens of their own
 * (`fcm-mkt-…`), so the simulator can make exactly them uninstall.
 */

const TICK_MS = 100;
const MAX_IN_FLIGHT = 200;
export const CAMPAIGN_TOKEN_PREFIX = 'fcm-mkt-';

export interface CampaignPlan {
  /** Marketing pushes per second. */
  readonly rate: number;
  /** Recipients the campaign cycles through. */
  readonly audience: number;
}

export type CampaignSend = (tokens: readonly string[], notification: Notification) => Promise<unknown>;

export function campaignToken(i: number): string {
  return `${CAMPAIGN_TOKEN_PREFIX}${String(i).padStart(4, '0')}`;
}

export class Campaign {
  readonly #send: CampaignSend;
  readonly #pending = new Set<Promise<unknown>>();
  #plan: CampaignPlan | undefined;
  #timer: NodeJS.Timeout | undefined;
  #credit = 0;
  #next = 0;
  #inFlight = 0;
  #sent = 0;

  constructor(send: CampaignSend) {
    this.#send = send;
  }

  /** The campaign running now, or none. */
  set plan(plan: CampaignPlan | undefined) {
    this.#plan = plan;
    this.#credit = 0;
    if (plan !== undefined) this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
  }

  /** Marketing pushes handed to the SDK so far. */
  get sent(): number {
    return this.#sent;
  }

  #tick(): void {
    const plan = this.#plan;
    if (plan === undefined) return;
    this.#credit += plan.rate * (TICK_MS / 1000);
    const count = Math.floor(this.#credit);
    if (count === 0) return;
    this.#credit -= count;
    if (this.#inFlight + count > MAX_IN_FLIGHT) return;
    const tokens = Array.from({ length: count }, () => campaignToken(this.#next++ % plan.audience));
    this.#inFlight += count;
    this.#sent += count;
    const call = this.#send(tokens, {
      title: 'Flash sale',
      body: 'Everything 20% off for the next hour',
      data: { kind: 'marketing' },
    })
      .catch(() => undefined)
      .finally(() => {
        this.#inFlight -= count;
        this.#pending.delete(call);
      });
    this.#pending.add(call);
  }

  async stop(graceMs: number): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#plan = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }
}

/** What a scenario asks of the demo's telemetry: groups and send frequency, when it has a campaign. */
export function strategyOptions(scenario: Scenario): PushTelemetryOptions {
  return {
    ...(scenario.groups !== undefined && { groups: scenario.groups }),
    ...(scenario.sendFrequency !== undefined && { sendFrequency: { cap: scenario.sendFrequency.cap } }),
  };
}

const DAY_MS = 24 * 3_600_000;

/**
 * A send-frequency sample whose 24 hours pass in `dayMs`: its clock runs DAY_MS / dayMs times faster. The demo
 * compresses incidents from hours to minutes; a real day would keep a blast's recipients over the cap for a day.
 */
export class CompressedDayFrequency extends RecipientFrequency {
  readonly #speed: number;

  constructor(capacity: number, cap: number, dayMs: number) {
    super(capacity, cap);
    if (!(dayMs > 0 && dayMs <= DAY_MS)) throw new RangeError(`dayMs must be from 1 to ${DAY_MS} ms, got ${dayMs}`);
    this.#speed = DAY_MS / dayMs;
  }

  override record(token: string, nowMs: number): void {
    super.record(token, nowMs * this.#speed);
  }

  override unrecord(token: string, nowMs: number): void {
    super.unrecord(token, nowMs * this.#speed);
  }

  override snapshot(nowMs: number, into: FrequencySnapshot): FrequencySnapshot {
    return super.snapshot(nowMs * this.#speed, into);
  }
}

/**
 * The demo's telemetry for a scenario. With sendFrequency, every demo sender's sample counts over the scenario's
 * compressed day: it is put on the (provider, app) before any sender is wrapped, and the wrapped senders adopt it
 * (a sample already on a registry is shared when its cap and size match the instance's).
 */
export function demoTelemetry(scenario: Scenario): PushTelemetry {
  const telemetry = new PushTelemetry(strategyOptions(scenario));
  const frequency = scenario.sendFrequency;
  if (frequency !== undefined) {
    const store = storeFor(telemetry.registry);
    for (const provider of DEMO_PROVIDERS)
      store.sender(provider, DEMO_APP).frequency = new CompressedDayFrequency(
        DEFAULT_SAMPLE_SIZE,
        frequency.cap,
        frequency.dayMs,
      );
  }
  return telemetry;
}

/** The steady traffic's group, when the scenario declares groups. */
export function steadyGroup(scenario: Scenario): { readonly group?: string } {
  return scenario.groups === undefined ? {} : { group: scenario.groups[0] };
}

/** The marketing sender of a scenario with a campaign: its own FCM client in the campaign's group; none otherwise. */
export async function campaignFor(
  simulator: Simulator,
  telemetry: PushTelemetry,
  scenario: Scenario,
  timeoutMs: number,
): Promise<{ readonly campaign: Campaign; close(): Promise<void> } | undefined> {
  if (!scenario.phases.some((phase) => phase.campaign !== undefined)) return undefined;
  const group = scenario.groups?.[1];
  const client = await fcmClient({
    telemetry,
    timeoutMs,
    fake: simulator.fake('fcm'),
    ...(group !== undefined && { group }),
  });
  const campaign = new Campaign((tokens, notification) => client.send(tokens, notification));
  return {
    campaign,
    async close() {
      await campaign.stop(timeoutMs + 1_000);
      await client.close();
    },
  };
}
