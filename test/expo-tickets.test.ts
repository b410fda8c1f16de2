import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { TicketTokens } from '../src/providers/expo-tickets.js';

const token = (i: number) => `ExponentPushToken[${i.toString(36).padStart(22, 'x')}]`;

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
    for (let i = 1; i < 100_000; i++) memory.remember(`id-${i}`, token(i));
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

  it('keeps the last 100,000 Expo tickets, never answers with another ticket\'s token, and forgets the oldest', () => {
    const memory = new TicketTokens();
    const ids = Array.from({ length: 250_000 }, () => randomUUID());
    ids.forEach((id, i) => memory.remember(id, token(i)));
    let found = 0;
    for (let i = ids.length - 100_000; i < ids.length; i++) {
      const remembered = memory.take(ids[i] as string);
      if (remembered !== undefined) {
        assert.equal(remembered, token(i), `ticket ${i} answered with another token`);
        found++;
      }
    }
    assert.ok(found >= 99_900, `only ${found} of the last 100,000 tickets were remembered`);
    let old = 0;
    for (let i = 0; i < ids.length - 100_000; i++) {
      const remembered = memory.take(ids[i] as string);
      if (remembered !== undefined) {
        assert.equal(remembered, token(i));
        old++;
      }
    }
    assert.equal(old, 0, 'tickets older than the last 100,000 are forgotten');
  });
});
