import { HASHED, KeyedHash } from './keyed-hash.js';
import { bucketIndex, RECIPIENT_SENDS_BUCKETS } from './contract.js';

/**
 * How many pushes each recipient received in the last 24 hours, per (provider, app), in memory fixed at construction
 * whatever the audience: a distinct sample of recipients (Gibbons' distinct sampling) keyed by a keyed 64-bit hash of
 * the token, never the token, with each sampled recipient's sends counted exactly in 24 hourly slots.
 *
 * A recipient is in the sample when the low `level` bits of its hash are zero, so it is in or out for all of its
 * sends, and the sample is uniform whatever the send counts. While the audience fits, level is 0 and every recipient
 * is counted; when the table is full, level rises by one and the recipients it no longer admits are dropped, halving
 * the sample. Each sampled recipient then stands for 2^level recipients. A count-min sketch was the alternative, but
 * its error is a share of all sends (εN): at a million sends a day, a sketch of this size would over-count every
 * recipient by more than the caps it is meant to check.
 *
 * Time is the monotonic clock in hours; the window is the current hour and the 23 before it. When a day's quiet lets
 * the sample shrink below a quarter of its capacity, level falls by one: recipients admitted then have no count from
 * before, so for up to 24 hours they count low. docs/metrics.md gives the bytes and the error bound.
 */

const SLOTS = 24;
const HOUR_MS = 3_600_000;
const MAX_COUNT = 255;
const MAX_LEVEL = 30;
const BUCKETS = RECIPIENT_SENDS_BUCKETS.length + 1; // + the +Inf bucket

/** Bytes of a sample of `capacity` recipients: two hash words and 24 hourly counts each, and the index at load ≤ ½. */
export function frequencyBytes(capacity: number): number {
  return capacity * (4 + 4 + SLOTS) + indexSize(capacity) * 4;
}

function indexSize(capacity: number): number {
  return 2 ** Math.ceil(Math.log2(capacity * 2));
}

/** One scrape's view: recipients by sends in the window, estimated for the whole audience. */
export interface FrequencySnapshot {
  /** Non-cumulative counts per bucket of RECIPIENT_SENDS_BUCKETS, then +Inf. */
  readonly buckets: Float64Array;
  /** Recipients with at least one send in the window. */
  count: number;
  /** Sends to them in the window. */
  sum: number;
  /** Recipients with more than `cap` sends. */
  overCap: number;
}

export function emptySnapshot(): FrequencySnapshot {
  return { buckets: new Float64Array(BUCKETS), count: 0, sum: 0, overCap: 0 };
}

export class RecipientFrequency {
  readonly capacity: number;
  readonly cap: number;
  readonly #hash: KeyedHash;
  readonly #keyHi: Int32Array;
  readonly #keyLo: Int32Array;
  readonly #counts: Uint8Array;
  /** Entry index + 1 per slot, 0 when free; linear probing on the high hash word. */
  readonly #index: Int32Array;
  readonly #mask: number;
  #size = 0;
  #level = 0;
  #hour = -1;
  /** Bumped by every change to the counts, so a scrape that reads both families walks the sample once. */
  #changes = 0;
  #snapshotChanges = -1;
  readonly #snapshot = emptySnapshot();

  constructor(capacity: number, cap: number, key?: readonly [number, number]) {
    this.capacity = capacity;
    this.cap = cap;
    this.#hash = new KeyedHash(key);
    this.#keyHi = new Int32Array(capacity);
    this.#keyLo = new Int32Array(capacity);
    this.#counts = new Uint8Array(capacity * SLOTS);
    this.#index = new Int32Array(indexSize(capacity));
    this.#mask = this.#index.length - 1;
  }

  /** Bytes held, fixed at construction. */
  get bytes(): number {
    return this.#keyHi.byteLength + this.#keyLo.byteLength + this.#counts.byteLength + this.#index.byteLength;
  }

  /** Recipients in the sample now. */
  get size(): number {
    return this.#size;
  }

  /** Each sampled recipient stands for 2^level. */
  get level(): number {
    return this.#level;
  }

  /** One push to `token`, at `nowMs` on the monotonic clock (performance.now()). */
  record(token: string, nowMs: number): void {
    this.#hash.hash(token);
    const hi = HASHED.hi;
    const lo = HASHED.lo;
    if ((lo & ((1 << this.#level) - 1)) !== 0) return;
    const hour = Math.floor(nowMs / HOUR_MS);
    if (hour !== this.#hour) this.#advance(hour);
    let entry = this.#find(hi, lo);
    if (entry < 0) {
      entry = this.#admit(hi, lo);
      if (entry < 0) return;
    }
    const slot = entry * SLOTS + (hour % SLOTS);
    const count = this.#counts[slot] as number;
    if (count < MAX_COUNT) {
      this.#counts[slot] = count + 1;
      this.#changes++;
    }
  }

  /**
   * Takes back one push to `token` counted this hour: a recipient the provider refused after all. Cheaper than
   * checking every recipient of a batch against its few refusals.
   */
  unrecord(token: string, nowMs: number): void {
    this.#hash.hash(token);
    const lo = HASHED.lo;
    if ((lo & ((1 << this.#level) - 1)) !== 0 || Math.floor(nowMs / HOUR_MS) !== this.#hour) return;
    const entry = this.#find(HASHED.hi, lo);
    if (entry < 0) return;
    const slot = entry * SLOTS + (this.#hour % SLOTS);
    const count = this.#counts[slot] as number;
    if (count > 0) {
      this.#counts[slot] = count - 1;
      this.#changes++;
    }
  }

  /** Recipients by sends in the last 24 h at `nowMs`, scaled up from the sample, into `into` (reset first). */
  snapshot(nowMs: number, into: FrequencySnapshot): FrequencySnapshot {
    if (this.#hour >= 0) this.#advance(Math.floor(nowMs / HOUR_MS));
    const cached = this.#snapshot;
    if (this.#snapshotChanges !== this.#changes) {
      this.#count(cached);
      this.#snapshotChanges = this.#changes;
    }
    into.buckets.set(cached.buckets);
    into.count = cached.count;
    into.sum = cached.sum;
    into.overCap = cached.overCap;
    return into;
  }

  #count(into: FrequencySnapshot): void {
    into.buckets.fill(0);
    into.count = 0;
    into.sum = 0;
    into.overCap = 0;
    const weight = 2 ** this.#level;
    const counts = this.#counts;
    for (let entry = 0; entry < this.#size; entry++) {
      let sends = 0;
      for (let slot = entry * SLOTS, end = slot + SLOTS; slot < end; slot++) sends += counts[slot] as number;
      // Every push to it taken back (unrecord): no recipient until the next compaction drops it.
      if (sends === 0) continue;
      const bucket = bucketIndex(RECIPIENT_SENDS_BUCKETS, sends);
      into.buckets[bucket] = (into.buckets[bucket] as number) + weight;
      into.count += weight;
      into.sum += sends * weight;
      if (sends > this.cap) into.overCap += weight;
    }
  }

  #find(hi: number, lo: number): number {
    const index = this.#index;
    for (let slot = hi & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const entry = (index[slot] as number) - 1;
      if (entry < 0) return -1;
      if (this.#keyHi[entry] === hi && this.#keyLo[entry] === lo) return entry;
    }
  }

  /** Adds a recipient, raising the level first when the sample is full; -1 when the new level no longer admits it. */
  #admit(hi: number, lo: number): number {
    while (this.#size >= this.capacity) {
      if (this.#level >= MAX_LEVEL) return -1;
      this.#level++;
      this.#compact();
      if ((lo & ((1 << this.#level) - 1)) !== 0) return -1;
    }
    const entry = this.#size++;
    this.#keyHi[entry] = hi;
    this.#keyLo[entry] = lo;
    this.#counts.fill(0, entry * SLOTS, entry * SLOTS + SLOTS);
    this.#place(entry);
    return entry;
  }

  #place(entry: number): void {
    const index = this.#index;
    let slot = (this.#keyHi[entry] as number) & this.#mask;
    while (index[slot] !== 0) slot = (slot + 1) & this.#mask;
    index[slot] = entry + 1;
  }

  /** Moves to `hour`: clears the slots of the hours that left the window and drops recipients left with no sends. */
  #advance(hour: number): void {
    if (hour === this.#hour) return;
    if (this.#hour < 0 || hour < this.#hour) {
      this.#hour = Math.max(hour, this.#hour);
      return;
    }
    const steps = Math.min(hour - this.#hour, SLOTS);
    const counts = this.#counts;
    for (let step = 1; step <= steps; step++) {
      const slot = (this.#hour + step) % SLOTS;
      for (let entry = 0; entry < this.#size; entry++) counts[entry * SLOTS + slot] = 0;
    }
    this.#hour = hour;
    this.#compact();
    if (this.#level > 0 && this.#size < this.capacity / 4) this.#level--;
  }

  /** Keeps the recipients the level admits that still have sends in the window, and rebuilds the index. */
  #compact(): void {
    const mask = (1 << this.#level) - 1;
    const counts = this.#counts;
    let kept = 0;
    for (let entry = 0; entry < this.#size; entry++) {
      if (((this.#keyLo[entry] as number) & mask) !== 0) continue;
      let sends = 0;
      for (let slot = entry * SLOTS, end = slot + SLOTS; slot < end; slot++) sends += counts[slot] as number;
      if (sends === 0) continue;
      if (kept !== entry) {
        this.#keyHi[kept] = this.#keyHi[entry] as number;
        this.#keyLo[kept] = this.#keyLo[entry] as number;
        counts.copyWithin(kept * SLOTS, entry * SLOTS, entry * SLOTS + SLOTS);
      }
      kept++;
    }
    this.#size = kept;
    this.#changes++;
    this.#index.fill(0);
    for (let entry = 0; entry < kept; entry++) this.#place(entry);
  }
}
