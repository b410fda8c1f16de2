import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedMap } from '../src/providers/bounded-map.js';

describe('BoundedMap', () => {
  it('forgets the oldest keys past its capacity', () => {
    const map = new BoundedMap<string, number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) map.set(key, i);
    assert.equal(map.size, 3);
    assert.equal(map.get('a'), undefined);
    assert.equal(map.get('b'), undefined);
    assert.deepEqual(
      ['c', 'd', 'e'].map((key) => map.get(key)),
      [2, 3, 4],
    );
  });

  it('stays bounded when keys are taken out early', () => {
    const map = new BoundedMap<number, number>(100);
    for (let i = 0; i < 10_000; i++) {
      map.set(i, i);
      if (i % 3 === 0) map.delete(i);
    }
    assert.ok(map.size <= 100);
    assert.equal(map.get(9_998), 9_998); // 9_999 was taken out
  });
});
