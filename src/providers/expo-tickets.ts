/**
 * Ticket id → token for Expo's receipts, which name no token of their own. A service that prunes tokens sends every
 * accepted message through here, so a send must cost next to nothing; the lookups come later, when (and only if) the
 * app fetches receipts through the instrumented client.
 *
 * So a send only appends its id and token, as bytes, to a ring of fixed-size records: no hashing, no per-entry
 * objects for the GC, no random memory access. The hash index over the ring is brought up to date by the first
 * lookup after new sends, in one pass. Measured under load, both a Map of strings and a hash index kept up to date on
 * every send cost several times the append, most of it the index's cache misses (docs/performance.md).
 *
 * A cache, not a store: the oldest records are overwritten as the ring wraps. Within that, it is exact: every one of
 * the last TICKET_CAPACITY records stays findable whatever the ids hash to (the index probes until an empty slot, and
 * grows rather than evicts). Nothing is allocated up front: the ring is allocated a chunk at a time as records reach
 * it, and the index on the first lookup, sized to the records it holds.
 *
 * A record holds an id of up to 46 printable ASCII characters and a token of up to 64 (Expo's ids are UUIDs, 36, and
 * its tokens ExponentPushToken[…], 41); a pair that does not fit goes to a Map of its own, bounded the same, which
 * costs what the ring saves but only for such pairs.
 */
import { BoundedMap } from './bounded-map.js';

const MAX_ID = 46;
const MAX_TOKEN = 64;
/** [id length][token length][id][token]: 112 bytes. */
const RECORD = 2 + MAX_ID + MAX_TOKEN;
/** Records per chunk of the ring, a power of two: 1,024 records, 112 KiB, allocated when the ring first reaches it. */
const CHUNK_SHIFT = 10;
const CHUNK_RECORDS = 1 << CHUNK_SHIFT;
/** Records kept, a whole number of chunks: the receipts of the last ~1,000 batches of 100, in 11.2 MiB. */
export const TICKET_CAPACITY = 100 * CHUNK_RECORDS;
/** The index's smallest size, in slots (a power of two): 16 KiB. */
const MIN_SLOTS = 1 << 10;
/**
 * As fractions of the index's slots: the used ones (live, taken or overwritten) past which it is rebuilt, and the
 * live ones it holds at most after that. So a full ring's 102,400 records fit 2^18 slots (4 MiB), searches stay
 * short, and rebuilds, which copy the live slots only, are at least 0.2 × slots inserts apart.
 */
const MAX_USED = 0.6;
const MAX_LIVE = 0.4;

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

const FNV_PRIME = 0x01000193;

/** FNV-1a's finish: spreads every bit into the low ones the index masks. */
function mix(hash: number): number {
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** FNV-1a from a per-instance offset basis, finished by mix(). */
function hashOf(seed: number, text: string): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return mix(hash);
}

/** hashOf() of the id stored in the record at `at`: the same bytes, read from the ring. */
function hashOfRecord(seed: number, chunk: Uint8Array, at: number): number {
  let hash = seed;
  const end = at + 2 + (chunk[at] as number);
  for (let i = at + 2; i < end; i++) hash = Math.imul(hash ^ (chunk[i] as number), FNV_PRIME);
  return mix(hash);
}

export class TicketTokens {
  /** The ring, TICKET_CAPACITY records in chunks; record n is in chunk (n % TICKET_CAPACITY) >> CHUNK_SHIFT. */
  readonly #chunks: Buffer[] = [];
  /** Records written since the start; record n is intact until record n + TICKET_CAPACITY overwrites it. */
  #written = 0;
  /** Records the index covers: every record before this one is in it, or was overwritten before it got there. */
  #indexed = 0;
  /**
   * Open addressing, linear probing. Per slot: its entry, then the id's hash. An entry is a record number + 1;
   * 0 is an empty slot, which ends a search, and -1 a taken one. An entry whose record is overwritten or taken is
   * dead: it still lengthens searches, until an insert reuses its slot or a rebuild drops it.
   */
  #index = new Float64Array(0);
  /** Slots that are not empty; a catch-up that would take them past #maxUsed rebuilds the index first. */
  #used = 0;
  #maxUsed = 0;
  /** Per instance, so ids crafted to collide in one index (and slow its searches) do not collide in another. */
  readonly #seed = (Math.random() * 0x1_0000_0000) >>> 0;
  /** The pairs no record can hold; created on the first one. */
  #overflow: BoundedMap<string, string> | undefined;

  remember(id: string, token: string): void {
    if (id === '' || token === '') return;
    const slot = this.#written % TICKET_CAPACITY;
    // Chunks are reached in order, so a missing one is always the next.
    const chunk = this.#chunks[slot >>> CHUNK_SHIFT] ?? this.#addChunk();
    const at = (slot & (CHUNK_RECORDS - 1)) * RECORD;
    // Copied while checked. An unstorable pair is not counted, so its record is reused; but it may have overwritten
    // part of the oldest record, which a zero id length now keeps from ever matching a lookup.
    if (!copyAscii(id, MAX_ID, chunk, at + 2) || !copyAscii(token, MAX_TOKEN, chunk, at + 2 + MAX_ID)) {
      chunk[at] = 0;
      (this.#overflow ??= new BoundedMap(TICKET_CAPACITY)).set(id, token);
      return;
    }
    chunk[at] = id.length;
    chunk[at + 1] = token.length;
    this.#written++;
  }

  /** The token remembered for `id`, forgetting it: a receipt is final, so its id is never asked for twice. */
  take(id: string): string | undefined {
    const token = id.length > 0 && id.length <= MAX_ID ? this.#takeRecord(id) : undefined;
    if (this.#overflow === undefined) return token;
    // Both can hold the id only if it was sent twice (Expo's ids never are): the ring answers, and both forget it.
    const overflowed = this.#overflow.get(id);
    this.#overflow.delete(id);
    return token ?? overflowed;
  }

  #addChunk(): Buffer {
    const chunk = Buffer.alloc(CHUNK_RECORDS * RECORD);
    this.#chunks.push(chunk);
    return chunk;
  }

  #chunkOf(record: number): Buffer {
    return this.#chunks[(record % TICKET_CAPACITY) >>> CHUNK_SHIFT] as Buffer;
  }

  #offsetOf(record: number): number {
    return ((record % TICKET_CAPACITY) & (CHUNK_RECORDS - 1)) * RECORD;
  }

  /** Entries above this are live: their record is neither overwritten nor taken (taken is -1, empty 0). */
  #deadUpTo(): number {
    return Math.max(0, this.#written - TICKET_CAPACITY);
  }

  #takeRecord(id: string): string | undefined {
    this.#catchUp();
    const index = this.#index;
    if (index.length === 0) return undefined;
    const mask = index.length / 2 - 1;
    const hash = hashOf(this.#seed, id);
    const dead = this.#deadUpTo();
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = index[2 * slot] as number;
      if (entry === 0) return undefined;
      if (entry <= dead || index[2 * slot + 1] !== hash) continue;
      const chunk = this.#chunkOf(entry - 1);
      const at = this.#offsetOf(entry - 1);
      // Same hash, but is it the same id? And a record refused half-way has an id length of 0, so it never is.
      if (!holdsId(chunk, at, id)) continue;
      index[2 * slot] = -1;
      const tokenAt = at + 2 + MAX_ID;
      return chunk.toString('latin1', tokenAt, tokenAt + (chunk[at + 1] as number));
    }
  }

  /** Indexes the records written since the last lookup (those still intact). */
  #catchUp(): void {
    const from = Math.max(this.#indexed, this.#written - TICKET_CAPACITY);
    if (this.#used + (this.#written - from) > this.#maxUsed) this.#rebuild(this.#written - from);
    for (let record = from; record < this.#written; record++) {
      const chunk = this.#chunkOf(record);
      const at = this.#offsetOf(record);
      if (chunk[at] !== 0) this.#insert(record, hashOfRecord(this.#seed, chunk, at));
    }
    this.#indexed = this.#written;
  }

  /**
   * Puts the record in the slot of a live entry with the same id (Expo's ids never repeat, but the newest token must
   * win if one did), else in the first dead slot on the way, else in the empty slot that ends the search.
   */
  #insert(record: number, hash: number): void {
    const index = this.#index;
    const mask = index.length / 2 - 1;
    const dead = this.#deadUpTo();
    let free = -1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = index[2 * slot] as number;
      if (entry === 0) {
        if (free === -1) {
          free = slot;
          this.#used++;
        }
        break;
      }
      if (entry <= dead) {
        if (free === -1) free = slot;
      } else if (index[2 * slot + 1] === hash && this.#sameId(entry - 1, record)) {
        free = slot;
        break;
      }
    }
    index[2 * free] = record + 1;
    index[2 * free + 1] = hash;
  }

  /** A new index of the live entries only, sized for them and `incoming` more (which #catchUp() is about to add). */
  #rebuild(incoming: number): void {
    const old = this.#index;
    const dead = this.#deadUpTo();
    let live = 0;
    for (let slot = 0; slot < old.length; slot += 2) if ((old[slot] as number) > dead) live++;
    let slots = MIN_SLOTS;
    while (live + incoming > slots * MAX_LIVE) slots *= 2;
    const index = new Float64Array(2 * slots);
    const mask = slots - 1;
    for (let from = 0; from < old.length; from += 2) {
      const entry = old[from] as number;
      if (entry <= dead) continue;
      const hash = old[from + 1] as number;
      let slot = hash & mask;
      while (index[2 * slot] !== 0) slot = (slot + 1) & mask;
      index[2 * slot] = entry;
      index[2 * slot + 1] = hash;
    }
    this.#index = index;
    this.#used = live;
    this.#maxUsed = Math.floor(slots * MAX_USED);
  }

  #sameId(a: number, b: number): boolean {
    const chunkA = this.#chunkOf(a);
    const atA = this.#offsetOf(a);
    const chunkB = this.#chunkOf(b);
    const atB = this.#offsetOf(b);
    const length = chunkA[atA] as number;
    return chunkB[atB] === length && chunkA.compare(chunkB, atB + 2, atB + 2 + length, atA + 2, atA + 2 + length) === 0;
  }
}

function holdsId(chunk: Uint8Array, at: number, id: string): boolean {
  if (chunk[at] !== id.length) return false;
  for (let i = 0; i < id.length; i++) if (chunk[at + 2 + i] !== id.charCodeAt(i)) return false;
  return true;
}
