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

  it('does not remember what it cannot store as short ASCII, and stays correct around it', () => {
    const memory = new TicketTokens();
    memory.remember('id-a', token(1));
    memory.remember('id-b', 'ExponentPushToken[ünïcode]');
    memory.remember('id-c', 'x'.repeat(65));
    memory.remember('id-d', '');
    memory.remember('', token(5));
    memory.remember('ïd-é', token(6));
    memory.remember('i'.repeat(47), token(7));
    memory.remember('i'.repeat(46), 'x'.repeat(64));
    memory.remember('id-h', token(8));
    for (const id of ['id-b', 'id-c', 'id-d', '', 'ïd-é', 'i'.repeat(47)]) assert.equal(memory.take(id), undefined, id);
    assert.equal(memory.take('id-a'), token(1));
    assert.equal(memory.take('i'.repeat(46)), 'x'.repeat(64));
    assert.equal(memory.take('id-h'), token(8), 'a record refused half-way is reused, not left half-written');
  });

  it('tells apart ids that differ in one character', () => {
    const memory = new TicketTokens();
    const ids = Array.from({ length: 1000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    ids.forEach((id, i) => memory.remember(id, token(i)));
    ids.forEach((id, i) => assert.equal(memory.take(id), token(i)));
  });

  it('indexes on the first lookup what was sent since the last one', () => {
    const memory = new TicketTokens();
    memory.remember('first', token(1));
    assert.equal(memory.take('first'), token(1));
    for (let i = 0; i < 1000; i++) memory.remember(`later-${i}`, token(i));
    assert.equal(memory.take('later-999'), token(999));
    assert.equal(memory.take('later-0'), token(0));
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
