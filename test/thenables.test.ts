import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PushTelemetry } from '../src/index.js';
import { httpError, parseExposition, valueOf } from './helpers.js';

async function count(
  telemetry: PushTelemetry,
  outcome: 'accepted' | 'failed',
  errorType?: string,
): Promise<number | undefined> {
  const samples = parseExposition(await telemetry.registry.metrics());
  return valueOf(samples, 'push_messages_total', {
    provider: 'fcm',
    outcome,
    ...(errorType !== undefined && { error_type: errorType }),
  });
}

async function inFlight(telemetry: PushTelemetry): Promise<number | undefined> {
  return valueOf(parseExposition(await telemetry.registry.metrics()), 'push_requests_in_flight', { provider: 'fcm' });
}

/** A minimal thenable that is no native promise (a Bluebird, a query builder): settled from outside, remembers it. */
class Deferred<T> implements PromiseLike<T> {
  readonly #waiting: [(value: T) => void, (error: unknown) => void][] = [];
  #settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  thenCalls = 0;
  then<A = T, B = never>(
    onValue?: ((value: T) => A | PromiseLike<A>) | null,
    onError?: ((error: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    this.thenCalls++;
    return new Promise<A | B>((resolve, reject) => {
      const callbacks: [(value: T) => void, (error: unknown) => void] = [
        (value) => (onValue ? resolve(onValue(value)) : resolve(value as unknown as A)),
        (error) => (onError ? resolve(onError(error)) : reject(error)),
      ];
      if (this.#settled === undefined) this.#waiting.push(callbacks);
      else if (this.#settled.ok) callbacks[0](this.#settled.value);
      else callbacks[1](this.#settled.error);
    });
  }
  resolve(value: T): void {
    this.#settled = { ok: true, value };
    for (const [onValue] of this.#waiting.splice(0)) onValue(value);
  }
  reject(error: unknown): void {
    this.#settled = { ok: false, error };
    for (const [, onError] of this.#waiting.splice(0)) onError(error);
  }
}

/** p-cancelable's shape: its prototype chains to Promise.prototype, but it is no native promise, and has cancel(). */
class Cancelable<T> {
  readonly #promise: Promise<T>;
  canceled = false;
  constructor(executor: (resolve: (value: T) => void, reject: (error: unknown) => void) => void) {
    this.#promise = new Promise(executor);
  }
  then<A = T, B = never>(
    onValue?: ((value: T) => A | PromiseLike<A>) | null,
    onError?: ((error: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onValue, onError);
  }
  cancel(): void {
    this.canceled = true;
  }
}
Object.setPrototypeOf(Cancelable.prototype, Promise.prototype);

describe('senders that return something other than a plain promise', () => {
  it('returns a non-native thenable itself, and counts it when it settles', async () => {
    const telemetry = new PushTelemetry();
    const deferred = new Deferred<string>();
    const send = telemetry.wrapSender(() => deferred, { provider: 'fcm' });
    const returned = send();
    assert.equal(returned, deferred);
    assert.equal(deferred.thenCalls, 1, 'observed on one side branch');
    assert.equal(await inFlight(telemetry), 1);
    deferred.resolve('sent');
    assert.equal(await returned, 'sent');
    assert.equal(await count(telemetry, 'accepted'), 1);
    assert.equal(await inFlight(telemetry), 0);
  });

  it('counts a thenable that rejects as failed, classified', async () => {
    const telemetry = new PushTelemetry();
    const deferred = new Deferred<string>();
    const send = telemetry.wrapSender(() => deferred, { provider: 'fcm' });
    const returned = send();
    deferred.reject(httpError(503));
    await assert.rejects(Promise.resolve(returned), /HTTP 503/);
    assert.equal(await count(telemetry, 'failed', 'provider_unavailable'), 1);
  });

  it('keeps the extra methods of a promise look-alike (p-cancelable, got)', async () => {
    const telemetry = new PushTelemetry();
    const send = telemetry.wrapSender(() => new Cancelable<string>((resolve) => setTimeout(() => resolve('ok'), 5)), {
      provider: 'fcm',
    });
    const returned = send();
    assert.ok(returned instanceof Cancelable);
    returned.cancel();
    assert.equal(returned.canceled, true);
    assert.equal(await returned, 'ok');
    assert.equal(await count(telemetry, 'accepted'), 1);
  });

  it('keeps a promise subclass whose species is Promise, with its own methods', async () => {
    class Tagged<T> extends Promise<T> {
      static override get [Symbol.species]() {
        return Promise;
      }
      tag = 'mine';
    }
    const telemetry = new PushTelemetry();
    const original = new Tagged<string>((resolve) => resolve('v'));
    const send = telemetry.wrapSender(() => original, { provider: 'fcm' });
    const returned = send();
    assert.equal(returned, original);
    assert.equal(returned.tag, 'mine');
    assert.equal(await returned, 'v');
    assert.equal(await count(telemetry, 'accepted'), 1);
  });

  it('counts a thenable whose then() throws as a failure, not a success', async () => {
    const telemetry = new PushTelemetry();
    const broken = {
      then() {
        throw httpError(500, 'then broke');
      },
    };
    const send = telemetry.wrapSender(() => broken, { provider: 'fcm' });
    assert.equal(send(), broken);
    assert.equal(await count(telemetry, 'accepted'), 0);
    assert.equal(await count(telemetry, 'failed', 'provider_unavailable'), 1);
    assert.equal(await inFlight(telemetry), 0);
  });

  it('settles the books once when a foreign then() calls back twice', async () => {
    const telemetry = new PushTelemetry();
    const twice = {
      then(onValue: (v: string) => void, onError: (e: unknown) => void) {
        onValue('a');
        onValue('b');
        onError(new Error('late'));
      },
    };
    const send = telemetry.wrapSender(() => twice, { provider: 'fcm' });
    send();
    assert.equal(await count(telemetry, 'accepted'), 1);
    assert.equal(await count(telemetry, 'failed', 'unknown'), 0);
    assert.equal(await inFlight(telemetry), 0);
  });
});
