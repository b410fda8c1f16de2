/**
 * Ticket id → token for Expo's receipts, which name no token of their own. A service that prunes tokens sends every
 * accepted message through here, so a send must cost next to nothing; the lookups come later, when (and only if) the
 * app fetches receipts through the instrumented client.
 *
 * So a send only appends its id and token, as bytes, to a ring of fixed-size records: no hashing, no per-entry
 * objects for the GC, no random memory access. The hash index over the ring is brought up to date by the first
 * lookup after new sends, in one pass (~0.1–0.2 µs a record). Measured under load, a Map of strings cost ~1.1 µs a
 * message and a hash index kept up to date on every send ~0.5 µs, most of it the index's cache misses.
 *
 * A cache, not a store: the oldest records are overwritten as the ring wraps. A record holds an id of up to 46
 * printable ASCII characters and a token of up to 64 (Expo's ids are UUIDs, 36, and its tokens ExponentPushToken[…],
 * 41); a pair that does not fit goes to a Map of its own, bounded the same, which costs what the ring saves but
 * only for such pairs.
 */
import { BoundedMap } from '../bounded-map.js';

/** Records kept: the receipts of the last ~1,000 batches of 100. */
const CAPACITY = 100_000;
const MAX_ID = 46;
const MAX_TOKEN = 64;
/** [id length][token length][id][token]: 112 bytes, so ~11 MiB for CAPACITY. */
const RECORD = 2 + MAX_ID + MAX_TOKEN;
/** Index slots, a power of two, ~40% full: each holds a record number + 1 (0: empty) and its id hash. */
const SLOTS = 1 << 18;
/** Slots an id may occupy, from its hash on. Lookups look at all of them, so no empty slot ends a search. */
const PROBES = 16;

/** Copies `text` into `into` at `at` when it is printable ASCII of at most `max` characters. */
function copyAscii(text: string, max: number, into: Uint8Array, at: number): boolean {
  if (text.length === 0 || text.length > max) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
    into[at + i] = code;
  }
  return true;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function hashOf(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash >>> 0;
}

/** hashOf() of the id stored in the record at `at`: the same bytes, read from the ring. */
function hashOfRecord(ring: Uint8Array, at: number): number {
  let hash = FNV_OFFSET;
  const end = at + 2 + (ring[at] as number);
  for (let i = at + 2; i < end; i++) hash = Math.imul(hash ^ (ring[i] as number), FNV_PRIME);
  return hash >>> 0;
}

export class TicketTokens {
  readonly #ring = Buffer.alloc(CAPACITY * RECORD);
  /** Per slot: record number + 1 (0: empty), then the id's hash. */
  readonly #index = new Float64Array(2 * SLOTS);
  /** Records written since the start; record n lives at (n % CAPACITY) * RECORD until record n + CAPACITY. */
  #written = 0;
  /** Records the index covers: every record before this one is in it, or was overwritten before it got there. */
  #indexed = 0;
  /** The pairs no record can hold; created on the first one. */
  #overflow: BoundedMap<string, string> | undefined;

  remember(id: string, token: string): void {
    if (id === '' || token === '') return;
    const at = (this.#written % CAPACITY) * RECORD;
    // Copied while checked. An unstorable pair is not counted, so its record is reused; but it may have overwritten
    // part of the oldest record, which a zero id length now keeps from ever matching a lookup.
    if (!copyAscii(id, MAX_ID, this.#ring, at + 2) || !copyAscii(token, MAX_TOKEN, this.#ring, at + 2 + MAX_ID)) {
      this.#ring[at] = 0;
      (this.#overflow ??= new BoundedMap(CAPACITY)).set(id, token);
      return;
    }
    this.#ring[at] = id.length;
    this.#ring[at + 1] = token.length;
    this.#written++;
  }

  /** The token remembered for `id`, forgetting it: a receipt is final, so its id is never asked for twice. */
  take(id: string): string | undefined {
    const token = id.length > 0 && id.length <= MAX_ID ? this.#takeRecord(id) : undefined;
    if (token !== undefined || this.#overflow === undefined) return token;
    const overflowed = this.#overflow.get(id);
    this.#overflow.delete(id);
    return overflowed;
  }

  #takeRecord(id: string): string | undefined {
    this.#catchUp();
    const hash = hashOf(id);
    for (let probe = 0; probe < PROBES; probe++) {
      const slot = (hash + probe) & (SLOTS - 1);
      const at = this.#liveRecordAt(slot, hash);
      if (at === -1 || !this.#holdsId(at, id)) continue;
      this.#index[2 * slot] = 0;
      const tokenAt = at + 2 + MAX_ID;
      return this.#ring.toString('latin1', tokenAt, tokenAt + (this.#ring[at + 1] as number));
    }
    return undefined;
  }

  /** Where the slot's record starts in the ring, when it holds one with this id hash that is still intact; else -1. */
  #liveRecordAt(slot: number, hash: number): number {
    const record = (this.#index[2 * slot] as number) - 1;
    return record !== -1 && this.#index[2 * slot + 1] === hash && this.#intact(record) ? (record % CAPACITY) * RECORD : -1;
  }

  #intact(record: number): boolean {
    return record < this.#written && record >= this.#written - CAPACITY;
  }

  #holdsId(at: number, id: string): boolean {
    if (this.#ring[at] !== id.length) return false;
    for (let i = 0; i < id.length; i++) if (this.#ring[at + 2 + i] !== id.charCodeAt(i)) return false;
    return true;
  }

  /** Indexes the records written since the last lookup (those still intact). */
  #catchUp(): void {
    for (let record = Math.max(this.#indexed, this.#written - CAPACITY); record < this.#written; record++) {
      const at = (record % CAPACITY) * RECORD;
      const hash = hashOfRecord(this.#ring, at);
      const slot = this.#slotFor(hash, at);
      this.#index[2 * slot] = record + 1;
      this.#index[2 * slot + 1] = hash;
    }
    this.#indexed = this.#written;
  }

  /**
   * The slot of an earlier record of the same id (Expo's ids never repeat, but the newest token must win if one did),
   * else an empty slot among the id's probes, or one whose record is overwritten, else the oldest record's.
   */
  #slotFor(hash: number, at: number): number {
    for (let probe = 0; probe < PROBES; probe++) {
      const slot = (hash + probe) & (SLOTS - 1);
      const other = this.#liveRecordAt(slot, hash);
      if (other !== -1 && this.#sameId(at, other)) return slot;
    }
    let oldest = hash & (SLOTS - 1);
    for (let probe = 0; probe < PROBES; probe++) {
      const slot = (hash + probe) & (SLOTS - 1);
      const record = (this.#index[2 * slot] as number) - 1;
      if (record === -1 || !this.#intact(record)) return slot;
      if (record < (this.#index[2 * oldest] as number) - 1) oldest = slot;
    }
    return oldest;
  }

  #sameId(at: number, other: number): boolean {
    const length = this.#ring[at] as number;
    return this.#ring[other] === length && this.#ring.compare(this.#ring, at + 2, at + 2 + length, other + 2, other + 2 + length) === 0;
  }
}
