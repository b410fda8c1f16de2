import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { FaultPlan } from '../src/simulator/faults.js';

describe('FaultPlan', () => {
  it('answers normally without rules', () => {
    assert.equal(new FaultPlan().pick('any'), undefined);
  });

  it('spreads a rate evenly: 0.3 is exactly 3 in every 10', () => {
    const plan = new FaultPlan({ rules: [{ fault: 'provider_unavailable', rate: 0.3 }] });
    const picks = Array.from({ length: 100 }, () => plan.pick('t'));
    assert.equal(picks.filter((fault) => fault === 'provider_unavailable').length, 30);
    for (let start = 0; start < 100; start += 10) {
      assert.equal(picks.slice(start, start + 10).filter(Boolean).length, 3);
    }
  });

  it('matches exact tokens and prefixes, first rule wins', () => {
    const plan = new FaultPlan({
      rules: [
        { fault: 'unregistered', match: 'gone-*' },
        { fault: { status: 400, reason: 'BadTopic' }, match: 'topic-token' },
        { fault: 'rate_limited', match: '*', rate: 0 },
      ],
    });
    assert.equal(plan.pick('gone-123'), 'unregistered');
    assert.deepEqual(plan.pick('topic-token'), { status: 400, reason: 'BadTopic' });
    assert.equal(plan.pick('topic-token-2'), undefined);
    assert.equal(plan.pick('fine'), undefined);
  });

  it('is replaced as a whole by set(), which is how a game day changes phase', () => {
    const plan = new FaultPlan({ rules: [{ fault: 'auth' }], latencyMs: 5 });
    assert.equal(plan.pick('x'), 'auth');
    plan.set({});
    assert.equal(plan.pick('x'), undefined);
    assert.equal(plan.latencyMs, 0);
  });

  it('rejects malformed scripts with the field named', () => {
    assert.throws(
      () => new FaultPlan({ rules: [{ fault: 'explode' as never }] }),
      /faults\.rules\[0\]\.fault must be one of/,
    );
    assert.throws(
      () => new FaultPlan({ rules: [{ fault: 'auth', rate: 2 }] }),
      /faults\.rules\[0\]\.rate must be a number from 0 to 1/,
    );
    assert.throws(() => new FaultPlan({ rules: [{ fault: 'auth', match: '' }] }), /faults\.rules\[0\]\.match/);
    assert.throws(() => new FaultPlan({ latencyMs: -1 }), /faults\.latencyMs/);
  });

  it('keeps the requests a hang holds until they close, and drops the rest on demand', () => {
    const plan = new FaultPlan({ rules: [{ fault: 'hang' }] });
    const requests = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
    const dropped: number[] = [];
    requests.forEach((request, i) => plan.hold(request, () => dropped.push(i)));
    assert.equal(plan.hanging, 3);
    requests[1]?.emit('close');
    assert.equal(plan.hanging, 2, 'a client that gave up is forgotten');
    plan.set({});
    assert.equal(plan.hanging, 2, 'new rules do not answer what is already held');
    assert.equal(plan.dropHanging(), 2);
    assert.deepEqual(dropped, [0, 2]);
    assert.equal(plan.hanging, 0);
    requests[0]?.emit('close');
    assert.equal(plan.dropHanging(), 0);
  });
});
