import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  classifyApnsError,
  classifyError,
  classifyExpoError,
  classifyFcmError,
  classifySnsError,
  classifyWebPushError,
  ERROR_TYPES,
  PushTelemetry,
} from '../src/index.js';
import { isPromiseLike } from '../src/core/read.js';
import { scrape, valueOf } from './helpers.js';

const CLASSIFIERS = {
  classifyError,
  classifyFcmError,
  classifyApnsError,
  classifyWebPushError,
  classifyExpoError,
  classifySnsError,
};

// One error object, so a sender whose promise rejects because resolving it tripped a trap rejects identically each time.
const HOSTILE = new Error('hostile');
const throwing = () => {
  throw HOSTILE;
};

/**
 * Makers of values a sender or SDK might throw, hostile ones included. Thunks, because fast-check itself inspects
 * generated values and would trip over a Proxy that throws on every trap.
 */
const thrownValue: fc.Arbitrary<() => unknown> = fc.oneof(
  fc.anything().map((v) => () => v),
  fc.string({ maxLength: 200 }).map((v) => () => v),
  fc.integer().map((status) => () => Object.assign(new Error('http'), { statusCode: status })),
  fc
    .anything()
    .map((status) => () => Object.assign(new Error('any status'), { statusCode: status, status, code: status })),
  fc
    .record({
      code: fc.string(),
      message: fc.string(),
      name: fc.string(),
      status: fc.anything(),
      $fault: fc.constantFrom('client', 'server'),
    })
    .map((v) => () => v),
  fc.anything().map((value) => () => Object.freeze({ statusCode: value, response: { status: value, reason: value } })),
  fc.constant(() => ({
    get statusCode(): never {
      return throwing();
    },
    get code(): never {
      return throwing();
    },
    get message(): never {
      return throwing();
    },
    get name(): never {
      return throwing();
    },
  })),
  fc.constant(
    () =>
      new Proxy(
        {},
        {
          get: throwing,
          has: throwing,
          ownKeys: throwing,
          getPrototypeOf: throwing,
          getOwnPropertyDescriptor: throwing,
        },
      ),
  ),
  fc.constant(() => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  }),
  fc.constant(() => {
    const a: Record<string, unknown> = { status: 'error', details: {} };
    a.cause = a;
    (a.details as Record<string, unknown>).self = a;
    return a;
  }),
  fc.integer({ min: 100_000, max: 2_000_000 }).map((n) => () => new Error('timeout '.repeat(Math.ceil(n / 8)))),
  fc
    .record({ status: fc.constant('error'), message: fc.string(), details: fc.record({ error: fc.string() }) })
    .map((v) => () => v),
);

describe('every classifier, for any thrown value', () => {
  for (const [name, classify] of Object.entries(CLASSIFIERS)) {
    it(`${name} returns a member of ERROR_TYPES and never throws`, () => {
      fc.assert(
        fc.property(thrownValue, (make) => {
          const type = classify(make());
          return (ERROR_TYPES as readonly string[]).includes(type);
        }),
        { numRuns: 300 },
      );
    });
  }
});

type Shape = 'sync-return' | 'sync-throw' | 'async-resolve' | 'async-reject';
interface Behaviour {
  readonly shape: Shape;
  readonly value: () => unknown;
}

const behaviour: fc.Arbitrary<Behaviour> = fc.record({
  shape: fc.constantFrom<Shape>('sync-return', 'sync-throw', 'async-resolve', 'async-reject'),
  value: fc.oneof(
    thrownValue,
    fc.constant(() => new Error('boom')),
  ),
});

/** A sender that always answers with the same value object, so bare and wrapped calls can be compared by identity. */
function senderFor(b: Behaviour): () => unknown {
  const value = b.value();
  // Resolving with a revoked Proxy rejects with a fresh TypeError each time; one shared promise keeps it one object.
  let resolved: Promise<unknown> | undefined;
  switch (b.shape) {
    case 'sync-return':
      return () => value;
    case 'sync-throw':
      return () => {
        throw value;
      };
    case 'async-resolve':
      return () => (resolved ??= Promise.resolve(value));
    case 'async-reject':
      return () => Promise.reject(value);
  }
}

/** What a call did, observed the way a caller can: returned or threw synchronously, then settled how. */
async function observe(
  call: () => unknown,
): Promise<{ sync: 'returned' | 'threw'; settled: 'value' | 'resolved' | 'rejected'; outcome: unknown }> {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    return { sync: 'threw', settled: 'value', outcome: error };
  }
  if (!isPromiseLike(result)) return { sync: 'returned', settled: 'value', outcome: result };
  try {
    return { sync: 'returned', settled: 'resolved', outcome: await result };
  } catch (error) {
    return { sync: 'returned', settled: 'rejected', outcome: error };
  }
}

describe('the wrapped sender, for any sender', () => {
  it('is observationally identical to the bare sender, and the counters add up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(behaviour, { minLength: 1, maxLength: 25 }), async (behaviours) => {
        const telemetry = new PushTelemetry();
        let failures = 0;
        for (const b of behaviours) {
          const bare = senderFor(b);
          const wrapped = telemetry.wrapSender(bare, { provider: 'prop' });
          const [expected, actual] = [await observe(bare), await observe(wrapped)];
          assert.equal(actual.sync, expected.sync);
          assert.equal(actual.settled, expected.settled);
          // Same value or the very same error object: Object.is, not deep equality.
          assert.ok(
            Object.is(actual.outcome, expected.outcome) ||
              (Number.isNaN(actual.outcome) && Number.isNaN(expected.outcome)),
          );
          // Judged by what happened, not the shape: resolving with a hostile object can reject too.
          if (expected.sync === 'threw' || expected.settled === 'rejected') failures++;
        }
        const { samples } = await scrape(telemetry);
        const failed = ERROR_TYPES.reduce(
          (sum, type) =>
            sum +
            (valueOf(samples, 'push_messages_total', { provider: 'prop', outcome: 'failed', error_type: type }) ?? 0),
          0,
        );
        assert.equal(
          valueOf(samples, 'push_messages_total', { provider: 'prop', outcome: 'accepted' }),
          behaviours.length - failures,
        );
        assert.equal(failed, failures);
        assert.equal(valueOf(samples, 'push_requests_in_flight', { provider: 'prop' }), 0);
      }),
      { numRuns: 60 },
    );
  });
});
