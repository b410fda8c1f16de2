import { DEMO_PROVIDERS, type DemoProvider, type Notification, type SendOutcome } from './clients/index.js';
import type { TokenStore } from './tokens.js';

const TICK_MS = 100;
/** Messages a provider may have in flight before ticks are skipped: an outage slows sends down, it must not pile them up. */
const MAX_IN_FLIGHT = 400;

export interface TrafficOptions {
  /** Messages per second in total, shared evenly by the providers. */
  readonly rate: number;
  readonly tokens: TokenStore;
  readonly send: (
    provider: DemoProvider,
    tokens: readonly string[],
    notification: Notification,
  ) => Promise<SendOutcome>;
}

/**
 * Steady traffic: every 100 ms each provider gets the messages its share of the rate has accrued, sent in one call
 * (a small multicast). Calls are not awaited before the next tick, as a real sender's workers would not wait for a
 * slow provider either; in-flight messages are capped per provider so a long outage or a hang cannot grow the backlog
 * without bound, while the other providers keep sending.
 */
export class Traffic {
  readonly #options: TrafficOptions;
  readonly #credit = new Map<DemoProvider, number>(DEMO_PROVIDERS.map((provider) => [provider, 0]));
  readonly #inFlight = new Map<DemoProvider, number>(DEMO_PROVIDERS.map((provider) => [provider, 0]));
  readonly #pending = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;
  #paused = false;

  constructor(options: TrafficOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
  }

  /** Messages handed to the SDKs so far. */
  get sent(): number {
    return this.#sent;
  }

  /** A stalled sender: while paused, nothing is sent and nothing is owed, so resuming does not burst. */
  get paused(): boolean {
    return this.#paused;
  }

  set paused(paused: boolean) {
    this.#paused = paused;
    if (paused) for (const provider of DEMO_PROVIDERS) this.#credit.set(provider, 0);
  }

  #tick(): void {
    if (this.#paused) return;
    const share = (this.#options.rate / DEMO_PROVIDERS.length) * (TICK_MS / 1000);
    for (const provider of DEMO_PROVIDERS) {
      const credit = (this.#credit.get(provider) as number) + share;
      const count = Math.floor(credit);
      const inFlight = this.#inFlight.get(provider) as number;
      if (count === 0 || inFlight + count > MAX_IN_FLIGHT) {
        // Skipped ticks do not bank credit: after an outage the sender does not burst to catch up.
        this.#credit.set(provider, count === 0 ? credit : 0);
        continue;
      }
      this.#credit.set(provider, credit - count);
      this.#inFlight.set(provider, inFlight + count);
      this.#sent += count;
      const notification: Notification = {
        title: 'Your order shipped',
        body: `Order #${1000 + (this.#sent % 9000)} is on its way`,
        data: { kind: 'order' },
      };
      const call = this.#options
        .send(provider, this.#options.tokens.take(provider, count), notification)
        // Outcomes are in the metrics; a send that throws outright (a bug) must not kill the demo.
        .catch(() => undefined)
        .finally(() => {
          this.#inFlight.set(provider, (this.#inFlight.get(provider) as number) - count);
          this.#pending.delete(call);
        });
      this.#pending.add(call);
    }
  }

  /** Stops sending and waits up to `graceMs` for calls in flight (the SDKs' timeouts bound them anyway). */
  async stop(graceMs: number): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }
}
