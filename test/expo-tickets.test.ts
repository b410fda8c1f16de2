import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TICKET_CAPACITY, TicketTokens } from '../src/providers/expo-tickets.js';

const token = (i: number) => `ExponentPushToken[${i.toString(36).padStart(22, 'x')}]`;

/**
 * UUID-shaped ids whose probe windows all overlap in the index of the previous design (FNV-1a, 2^18 slots, 16
 * probes from the hash on): each one's first slot is within 16 of slot 0, so they compete for 31 slots, and that
 * design kept at most 31 of them.
 */
function idsSharingProbeWindows(count: number): string[] {
  const prefix = '00000000-0000-4000-8000-';
  let start = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) start = Math.imul(start ^ prefix.charCodeAt(i), 0x01000193);
  const ids: string[] = [];
  for (let n = 0; ids.length < count; n++) {
    const suffix = n.toString(16).padStart(12, '0');
    let hash = start;
    for (let i = 0; i < suffix.length; i++) hash = Math.imul(hash ^ suffix.charCodeAt(i), 0x01000193);
    if ((hash & ((1 << 18) - 1)) < 16) ids.push(prefix + suffix);
  }
  return ids;
}

/** Full GCs, so arrayBuffers counts what is still referenced (one alone left the last test's ring uncollected). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

describe('TicketTokens (the Expo adapter ticket id → token memory)', () => {
  it('gives back the token remembered for a ticket id, once', () => {
    const memory = new TicketTokens();
    memory.remember('id-1', token(1));
    memory.remember('id-2', token(2));
    assert.equal(memory.take('id-2'), token(2));
    assert.equal(memory.take('id-2'), undefined, 'a receipt is final: the id is forgotten once read');
    assert.equal(memory.take('id-1'), token(1));
    assert.equal(memory.take('never-sent'), undefined);
    assert.equal(memory.take(''), undefined);
  });

  it('answers a repeated id with its latest token', () => {
    const memory = new TicketTokens();
    memory.remember('id', token(1));
    memory.remember('id', token(2));
    assert.equal(memory.take('id'), token(2));
  });

  it('remembers pairs no record can hold (long, non-ASCII) too, and stays correct around them', () => {
    const memory = new TicketTokens();
    const long = `ExponentPushToken[${'y'.repeat(80)}]`;
    memory.remember('id-a', token(1));
    memory.remember('id-b', 'ExponentPushToken[ünïcode]');
    memory.remember('id-c', long);
    memory.remember('ïd-é', token(3));
    memory.remember('i'.repeat(47), token(4));
    memory.remember('i'.repeat(46), 'x'.repeat(64));
    memory.remember('id-d', '');
    memory.remember('', token(5));
    memory.remember('id-h', token(8));
    assert.equal(memory.take('id-b'), 'ExponentPushToken[ünïcode]');
    assert.equal(memory.take('id-c'), long);
    assert.equal(memory.take('id-c'), undefined, 'forgotten once read, there too');
    assert.equal(memory.take('ïd-é'), token(3));
    assert.equal(memory.take('i'.repeat(47)), token(4));
    assert.equal(memory.take('i'.repeat(46)), 'x'.repeat(64));
    assert.equal(memory.take('id-d'), undefined, 'an empty token is nothing to remember');
    assert.equal(memory.take(''), undefined);
    assert.equal(memory.take('id-a'), token(1));
    assert.equal(memory.take('id-h'), token(8), 'a record refused half-way is reused, not left half-written');
  });

  it('drops the oldest record when a refused pair overwrote part of it, rather than answer with a mangled token', () => {
    const memory = new TicketTokens();
    memory.remember('abc', token(0));
    for (let i = 1; i < TICKET_CAPACITY; i++) memory.remember(`id-${i}`, token(i));
    // The ring is full: the next record goes where 'abc' is. This id starts with 'abc'; its token is refused half-way.
    memory.remember('abcd', 'ExponentPushToken[ünïcode]');
    assert.equal(memory.take('abc'), undefined);
    assert.equal(memory.take('abcd'), 'ExponentPushToken[ünïcode]', 'kept beside the ring');
    assert.equal(memory.take('id-1'), token(1));
  });

  it('indexes on the first lookup what was sent since the last one', () => {
    const memory = new TicketTokens();
    memory.remember('first', token(1));
    assert.equal(memory.take('first'), token(1));
    for (let i = 0; i < 1000; i++) memory.remember(`later-${i}`, token(i));
    assert.equal(memory.take('later-999'), token(999));
    assert.equal(memory.take('later-0'), token(0));
  });

  it('tells apart ids that differ in one character', () => {
    const memory = new TicketTokens();
    const ids = Array.from({ length: 1000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    ids.forEach((id, i) => memory.remember(id, token(i)));
    ids.forEach((id, i) => assert.equal(memory.take(id), token(i)));
  });

  it('keeps every one of the last TICKET_CAPACITY tickets whatever their ids hash to, and forgets older ones', () => {
    const memory = new TicketTokens();
    // 300,000 random UUIDs, 600 of them replaced by ids that crowd one corner of the previous design's index:
    // 100 among the older tickets, 500 among the last TICKET_CAPACITY.
    const ids: string[] = Array.from({ length: 300_000 }, () => randomUUID());
    const crafted = idsSharingProbeWindows(600);
    const recent = ids.length - TICKET_CAPACITY;
    crafted.forEach((id, i) => {
      ids[i < 100 ? i * Math.floor(recent / 100) : recent + (i - 100) * Math.floor(TICKET_CAPACITY / 500)] = id;
    });
    ids.forEach((id, i) => memory.remember(id, token(i)));
    let lost = 0;
    for (let i = recent; i < ids.length; i++) {
      const remembered = memory.take(ids[i] as string);
      if (remembered === undefined) lost++;
      else assert.equal(remembered, token(i), `ticket ${i} answered with another token`);
    }
    assert.equal(lost, 0, `${lost} of the last ${TICKET_CAPACITY} tickets were lost`);
    let old = 0;
    for (let i = 0; i < recent; i++) if (memory.take(ids[i] as string) !== undefined) old++;
    assert.equal(old, 0, 'tickets older than the last TICKET_CAPACITY are forgotten');
  });

  it('stays exact while receipts are read between sends, as a service reads them', () => {
    const memory = new TicketTokens();
    const crafted = idsSharingProbeWindows(300);
    const ids: string[] = [];
    const taken = new Set<number>();
    // 300 batches of 1,000. After each: a lookup of an id never sent, and the receipts of the batch sent 20 batches
    // earlier, except every 7th ticket's, which never comes (so its record stays until overwritten).
    for (let batch = 0; batch < 300; batch++) {
      for (let i = 0; i < 1000; i++) {
        const n = ids.length;
        ids.push(i === 0 ? (crafted[batch] as string) : randomUUID());
        memory.remember(ids[n] as string, token(n));
      }
      assert.equal(memory.take(randomUUID()), undefined);
      if (batch < 20) continue;
      for (let n = (batch - 20) * 1000; n < (batch - 19) * 1000; n++) {
        if (n % 7 === 0) continue;
        assert.equal(memory.take(ids[n] as string), token(n), `ticket ${n} lost`);
        taken.add(n);
      }
    }
    for (let n = 0; n < ids.length; n++) {
      const expected = n >= ids.length - TICKET_CAPACITY && !taken.has(n) ? token(n) : undefined;
      assert.equal(memory.take(ids[n] as string), expected, `ticket ${n}`);
    }
  });

  it('allocates nothing up front, then memory as tickets arrive', () => {
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    const memories = Array.from({ length: 10 }, () => new TicketTokens());
    const fresh = process.memoryUsage().arrayBuffers - before;
    assert.ok(fresh < 64 * 1024, `10 fresh ticket memories hold ${fresh} bytes`);
    memories.forEach((memory, i) => memory.remember(`id-${i}`, token(i)));
    const one = process.memoryUsage().arrayBuffers - before;
    assert.ok(one > 10 * 64 * 1024 && one < 10 * 256 * 1024, `10 ticket memories of one ticket each hold ${one} bytes`);
    const [memory] = memories as [TicketTokens];
    for (let i = 0; i < 2 * TICKET_CAPACITY; i++) memory.remember(`id-${i}`, token(i));
    assert.equal(memory.take(`id-${2 * TICKET_CAPACITY - 1}`), token(2 * TICKET_CAPACITY - 1));
    collectGarbage();
    const full = process.memoryUsage().arrayBuffers - before;
    assert.ok(full > 11 * 2 ** 20 && full < 17 * 2 ** 20, `a full ticket memory, indexed, holds ${full} bytes`);
    assert.equal(memories.length, 10);
  });
});
