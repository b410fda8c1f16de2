import { describe, rejectUnknownOptions } from '../core/options.js';
import type { ReceiptStamp } from '../delivery/stamp.js';
import { DueQueue, type DueReceipt } from './due-queue.js';

/**
 * Fake devices: for the pushes a provider accepted, they post the receipts real devices would (the service worker,
 * an app's receipt code) to a receipts endpoint, with a device's delays and losses: some pushes never arrive (a phone
 * off past the TTL, an app uninstalled without telling), some arrive and show nothing (notifications muted), few are
 * opened, and an opened one minutes later. With devices offline, the provider still accepts everything and the
 * receipts stop: the failure only device receipts see. A device that comes back gets what the provider held for it,
 * late, unless its TTL ran out.
 */

/** A log-normal delay: the median, and sigma (the spread of its logarithm; 1 puts a tenth of them over 3.6 × median). */
export interface DelayDistribution {
  readonly medianMs: number;
  readonly sigma: number;
}

export interface DeviceFleetOptions {
  /** The receipts endpoint, e.g. `http://127.0.0.1:9464/v1/receipts`. */
  readonly endpoint: string;
  /** Share of accepted pushes a device confirms, 0 to 1. Default 0.93. */
  readonly deliveredRate?: number;
  /** Share of delivered pushes whose notification is shown. Default 0.96. */
  readonly displayedRate?: number;
  /** Share of shown notifications the user opens. Default 0.07. */
  readonly openedRate?: number;
  /** Send to delivered. Default median 700 ms, sigma 0.9. */
  readonly deliveryDelay?: DelayDistribution;
  /** Delivered to displayed. Default median 120 ms, sigma 0.5. */
  readonly displayDelay?: DelayDistribution;
  /** Displayed to opened. Default median 25 s, sigma 1.2. */
  readonly openDelay?: DelayDistribution;
  /** Share of devices offline now, 0 to 1 (settable while running: `fleet.offline = 0.8`). Default 0. */
  readonly offline?: number;
  /** How long the provider holds a push for an offline device: its TTL. Default 5 minutes. */
  readonly ttlMs?: number;
  /** Receipts waiting at most (held and scheduled); more are dropped and counted in `stats.overflow`. Default 100,000. */
  readonly maxPending?: number;
  /** How often due receipts are posted, in batches of up to 100. Default 250 ms. */
  readonly flushEveryMs?: number;
  /** Random numbers in [0, 1); default Math.random. Give a seeded one for repeatable runs. */
  readonly random?: () => number;
}

export interface DeviceFleetStats {
  /** Recipients handed to `accepted`. */
  pushes: number;
  /** Receipts the endpoint took, per event. */
  posted: { delivered: number; displayed: number; opened: number };
  /** Receipts the endpoint refused (a 4xx answer, or refused inside a batch). */
  refused: number;
  /** Receipts whose post failed (endpoint unreachable, 5xx, timeout). */
  failed: number;
  /** Pushes that never reach their device: lost, or held for an offline device past the TTL. */
  lost: number;
  /** Receipts dropped because `maxPending` were waiting. */
  overflow: number;
}

const MAX_BATCH = 100;
const POST_TIMEOUT_MS = 5_000;
const DEFAULTS = {
  deliveredRate: 0.93,
  displayedRate: 0.96,
  openedRate: 0.07,
  deliveryDelay: { medianMs: 700, sigma: 0.9 },
  displayDelay: { medianMs: 120, sigma: 0.5 },
  openDelay: { medianMs: 25_000, sigma: 1.2 },
  ttlMs: 5 * 60_000,
  maxPending: 100_000,
  flushEveryMs: 250,
} as const;
// A log-normal has a long tail; past this a "device" would hold a demo's receipt for hours.
const MAX_DELAY_MS = 10 * 60_000;

function share(value: unknown, option: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new TypeError(`${option} must be a number from 0 to 1, got ${describe(value)}`);
  return value;
}

function whole(value: unknown, option: string, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    throw new TypeError(`${option} must be a whole number from ${min} to ${max}, got ${describe(value)}`);
  return value as number;
}

function delay(value: unknown, option: string): DelayDistribution {
  if (value === null || typeof value !== 'object')
    throw new TypeError(`${option} must be { medianMs, sigma }, got ${describe(value)}`);
  rejectUnknownOptions(value, ['medianMs', 'sigma'], option);
  const { medianMs, sigma } = value as DelayDistribution;
  if (typeof medianMs !== 'number' || !(medianMs >= 0 && medianMs <= MAX_DELAY_MS))
    throw new TypeError(`${option}.medianMs must be a number from 0 to ${MAX_DELAY_MS}, got ${describe(medianMs)}`);
  if (typeof sigma !== 'number' || !(sigma >= 0 && sigma <= 3))
    throw new TypeError(`${option}.sigma must be a number from 0 to 3, got ${describe(sigma)}`);
  return { medianMs, sigma };
}

export class DeviceFleet {
  readonly endpoint: string;
  readonly stats: DeviceFleetStats = {
    pushes: 0,
    posted: { delivered: 0, displayed: 0, opened: 0 },
    refused: 0,
    failed: 0,
    lost: 0,
    overflow: 0,
  };
  readonly #rates: { delivered: number; displayed: number; opened: number };
  readonly #delays: { delivery: DelayDistribution; display: DelayDistribution; open: DelayDistribution };
  readonly #ttlMs: number;
  readonly #maxPending: number;
  readonly #random: () => number;
  readonly #queue = new DueQueue();
  /** Pushes accepted for devices that are offline: delivered when the fleet comes back, if still within the TTL. */
  #held: ReceiptStamp[] = [];
  #offline: number;
  readonly #posts = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: DeviceFleetOptions) {
    if (options === null || typeof options !== 'object')
      throw new TypeError(`new DeviceFleet(options): options must be an object, got ${describe(options)}`);
    rejectUnknownOptions(
      options,
      [
        'endpoint',
        'deliveredRate',
        'displayedRate',
        'openedRate',
        'deliveryDelay',
        'displayDelay',
        'openDelay',
        'offline',
        'ttlMs',
        'maxPending',
        'flushEveryMs',
        'random',
      ],
      'new DeviceFleet(options)',
    );
    let url: URL | undefined;
    try {
      url = typeof options.endpoint === 'string' ? new URL(options.endpoint) : undefined;
    } catch {}
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new TypeError(
        `options.endpoint must be the receipts endpoint's http(s) URL, got ${describe(options.endpoint)}`,
      );
    this.endpoint = url.href;
    this.#rates = {
      delivered: share(options.deliveredRate ?? DEFAULTS.deliveredRate, 'options.deliveredRate'),
      displayed: share(options.displayedRate ?? DEFAULTS.displayedRate, 'options.displayedRate'),
      opened: share(options.openedRate ?? DEFAULTS.openedRate, 'options.openedRate'),
    };
    this.#delays = {
      delivery: delay(options.deliveryDelay ?? DEFAULTS.deliveryDelay, 'options.deliveryDelay'),
      display: delay(options.displayDelay ?? DEFAULTS.displayDelay, 'options.displayDelay'),
      open: delay(options.openDelay ?? DEFAULTS.openDelay, 'options.openDelay'),
    };
    this.#offline = share(options.offline ?? 0, 'options.offline');
    this.#ttlMs = whole(options.ttlMs ?? DEFAULTS.ttlMs, 'options.ttlMs', 0, 28 * 24 * 3_600_000);
    this.#maxPending = whole(options.maxPending ?? DEFAULTS.maxPending, 'options.maxPending', 1, 10_000_000);
    const flushEveryMs = whole(options.flushEveryMs ?? DEFAULTS.flushEveryMs, 'options.flushEveryMs', 10, 60_000);
    const { random = Math.random } = options;
    if (typeof random !== 'function')
      throw new TypeError(`options.random must be a function returning [0, 1), got ${describe(random)}`);
    this.#random = random;
    this.#timer = setInterval(() => this.flush(), flushEveryMs);
    this.#timer.unref();
  }

  /** Share of devices offline now. Lowering it delivers, late, what the provider held for the devices coming back. */
  get offline(): number {
    return this.#offline;
  }

  set offline(value: number) {
    const before = this.#offline;
    this.#offline = share(value, 'offline');
    if (value < before) this.#reconnect(1 - value / before);
  }

  /** Pushes the providers hold for offline devices. */
  get held(): number {
    return this.#held.length;
  }

  /** Receipts waiting to be posted, and pushes held for offline devices. */
  get pending(): number {
    return this.#queue.size + this.#held.length;
  }

  /** `recipients` devices got a push the provider accepted, stamped with `stamp`: each schedules what it reports. */
  accepted(stamp: ReceiptStamp, recipients = 1): void {
    if (!Number.isInteger(recipients) || recipients < 0)
      throw new TypeError(`recipients must be a whole number of devices, got ${describe(recipients)}`);
    if (stamp === null || typeof stamp !== 'object' || !Number.isSafeInteger(stamp.sentAt))
      throw new TypeError(`stamp must be a receipt stamp { provider, app, sentAt, sig? }, got ${describe(stamp)}`);
    if (this.#timer === undefined) return;
    this.stats.pushes += recipients;
    const now = Date.now();
    for (let i = 0; i < recipients; i++) {
      if (this.#random() >= this.#rates.delivered) {
        this.stats.lost++;
        continue;
      }
      if (this.#offline > 0 && this.#random() < this.#offline) {
        if (this.pending >= this.#maxPending) this.stats.overflow++;
        else this.#held.push(stamp);
        continue;
      }
      this.#arrive(stamp, now);
    }
  }

  /** Posts every receipt due now; the timer calls it, a test may too. Resolves when every post under way is answered. */
  async flush(): Promise<void> {
    const now = Date.now();
    this.#expire(now);
    const batch: DueReceipt[] = [];
    const posts: Promise<void>[] = [];
    for (let due = this.#queue.popDue(now); due !== undefined; due = this.#queue.popDue(now)) {
      batch.push(due);
      if (batch.length === MAX_BATCH) posts.push(this.#post(batch.splice(0)));
    }
    if (batch.length > 0) posts.push(this.#post(batch));
    await Promise.all([...posts, ...this.#posts]);
  }

  /** Stops the fleet: nothing more is scheduled or posted; waits for the posts under way. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#queue.clear();
    this.#held = [];
    await Promise.allSettled([...this.#posts]);
  }

  /** A push reaches its device at `at`: delivered after the network's delay, then maybe shown, maybe opened. */
  #arrive(stamp: ReceiptStamp, at: number): void {
    const delivered = at + this.#sample(this.#delays.delivery);
    this.#schedule({ dueAt: delivered, stamp, event: 'delivered' });
    if (this.#random() >= this.#rates.displayed) return;
    const displayed = delivered + this.#sample(this.#delays.display);
    this.#schedule({ dueAt: displayed, stamp, event: 'displayed' });
    if (this.#random() >= this.#rates.opened) return;
    this.#schedule({ dueAt: displayed + this.#sample(this.#delays.open), stamp, event: 'opened' });
  }

  /** `fraction` of the offline devices came back: their held pushes arrive now, unless the TTL expired them. */
  #reconnect(fraction: number): void {
    const now = Date.now();
    const stillHeld: ReceiptStamp[] = [];
    for (const stamp of this.#held) {
      if (now - stamp.sentAt > this.#ttlMs) this.stats.lost++;
      else if (this.#random() < fraction) this.#arrive(stamp, now);
      else stillHeld.push(stamp);
    }
    this.#held = stillHeld;
  }

  /** Held pushes past their TTL are gone: the provider dropped them (held in arrival order, so oldest first). */
  #expire(now: number): void {
    let expired = 0;
    while (expired < this.#held.length && now - (this.#held[expired] as ReceiptStamp).sentAt > this.#ttlMs) expired++;
    if (expired === 0) return;
    this.stats.lost += expired;
    this.#held = this.#held.slice(expired);
  }

  #schedule(item: DueReceipt): void {
    if (this.#queue.size >= this.#maxPending) this.stats.overflow++;
    else this.#queue.push(item);
  }

  /** Log-normal: median × e^(sigma·N(0,1)), N from Box-Muller. */
  #sample({ medianMs, sigma }: DelayDistribution): number {
    const u = 1 - this.#random(); // (0, 1]: log(0) is -Infinity
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#random());
    return Math.min(MAX_DELAY_MS, medianMs * Math.exp(sigma * normal));
  }

  #post(batch: readonly DueReceipt[]): Promise<void> {
    const body = JSON.stringify(batch.map(({ stamp, event }) => ({ ...stamp, event })));
    const post = fetch(this.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    })
      .then(async (response) => {
        if (response.ok) {
          await response.body?.cancel();
          for (const { event } of batch) this.stats.posted[event]++;
          return;
        }
        if (response.status >= 500) {
          await response.body?.cancel();
          this.stats.failed += batch.length;
          return;
        }
        this.#settleRefusal(batch, (await response.json().catch(() => undefined)) as unknown);
      })
      .catch(() => {
        this.stats.failed += batch.length;
      })
      .finally(() => this.#posts.delete(post));
    this.#posts.add(post);
    return post;
  }

  /** A 422 names the receipts it refused by index; the rest counted. Any other 4xx refused the whole batch. */
  #settleRefusal(batch: readonly DueReceipt[], answer: unknown): void {
    const rejected = (answer as { rejected?: unknown } | undefined)?.rejected;
    const refusedAt = new Set(
      Array.isArray(rejected) ? rejected.map((entry) => (entry as { index?: unknown })?.index) : [],
    );
    batch.forEach(({ event }, index) => {
      if (refusedAt.size === 0 || refusedAt.has(index)) this.stats.refused++;
      else this.stats.posted[event]++;
    });
  }
}
