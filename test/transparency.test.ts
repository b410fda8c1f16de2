import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { diag, DiagLogLevel, type TracerProvider } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { PushTelemetry } from '../src/index.js';
import { createTracing, httpError, scrape, valueOf } from './helpers.js';

function messages(
  samples: Awaited<ReturnType<typeof scrape>>['samples'],
  provider: string,
  labels: Record<string, string>,
) {
  return valueOf(samples, 'push_messages_total', { provider, ...labels });
}

describe('the wrapped sender behaves exactly like the original', () => {
  const telemetry = new PushTelemetry();

  it('resolves with the very same value object', async () => {
    const value = { id: 'm1', nested: [1, 2] };
    const send = telemetry.wrapSender(async () => value, { provider: 'fcm' });
    assert.equal(await send(), value);
  });

  it("returns a promise of the sender's own promise class", async () => {
    class TrackedPromise<T> extends Promise<T> {}
    const send = telemetry.wrapSender(() => TrackedPromise.resolve('x'), { provider: 'fcm' });
    const returned = send();
    assert.ok(returned instanceof TrackedPromise);
    assert.equal(await returned, 'x');
  });

  it('rejects with the very same error object', async () => {
    const error = httpError(503);
    const send = telemetry.wrapSender(
      async () => {
        throw error;
      },
      { provider: 'fcm' },
    );
    await assert.rejects(send(), (thrown) => thrown === error);
  });

  it('rejects with non-Error values unchanged', async () => {
    for (const value of [undefined, null, 'a string', 42, { plain: true }]) {
      const send = telemetry.wrapSender(() => Promise.reject(value), { provider: 'fcm' });
      await assert.rejects(send(), (thrown) => thrown === value);
    }
  });

  it('throws synchronously when the sender throws synchronously, and counts it as a failed call', async () => {
    const local = new PushTelemetry();
    const error = new Error('messages must be a non-empty array');
    const send = local.wrapSender(
      (_messages: string[]) => {
        throw error;
      },
      { provider: 'fcm', operation: 'send_each', countMessages: ([m]) => m.length },
    );
    let thrown: unknown;
    try {
      send([]);
    } catch (caught) {
      thrown = caught;
    }
    assert.equal(thrown, error);
    const { samples } = await scrape(local);
    assert.equal(
      valueOf(samples, 'push_request_duration_seconds_count', {
        provider: 'fcm',
        operation: 'send_each',
        outcome: 'failure',
      }),
      1,
    );
  });

  it('returns synchronous values synchronously', () => {
    const send = telemetry.wrapSender((a: number, b: number) => a + b, { provider: 'custom' });
    assert.equal(send(2, 3), 5);
  });

  it('keeps `this`, the arguments, the name and the arity', async () => {
    const client = {
      prefix: 'id-',
      async send(token: string, dryRun?: boolean) {
        return `${this.prefix}${token}${dryRun ? '-dry' : ''}`;
      },
    };
    client.send = telemetry.wrapSender(client.send, { provider: 'fcm' });
    assert.equal(await client.send('abc', true), 'id-abc-dry');
    assert.equal(client.send.name, 'send');
    assert.equal(client.send.length, 2);
  });

  it('keeps the exact TypeScript signature', async () => {
    const original = async (token: string, options: { priority: 'high' | 'normal' }): Promise<{ id: string }> => ({
      id: `${token}:${options.priority}`,
    });
    const wrapped: typeof original = telemetry.wrapSender(original, { provider: 'fcm' });
    const result: { id: string } = await wrapped('t', { priority: 'high' });
    assert.equal(result.id, 't:high');
  });

  it('leaves an unhandled rejection unhandled, as the bare sender would', async () => {
    // Run in a child process: the test runner turns unhandled rejections into failures of its own.
    const script = (wrap: boolean) => `
      import { PushTelemetry } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const bare = () => Promise.reject(new Error('nobody listens'));
      const send = ${wrap} ? new PushTelemetry().wrapSender(bare, { provider: 'fcm' }) : bare;
      void send();`;
    const run = (wrap: boolean) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script(wrap)],
          (error, _stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
        );
      });
    const [bare, wrapped] = await Promise.all([run(false), run(true)]);
    assert.notEqual(bare.code, 0);
    assert.equal(wrapped.code, bare.code);
    assert.match(wrapped.stderr, /nobody listens/);
  });

  it('has the metrics recorded by the time the caller resumes', async () => {
    const local = new PushTelemetry();
    const send = local.wrapSender(async () => 'ok', { provider: 'apns' });
    await send();
    await send();
    assert.equal(messages((await scrape(local)).samples, 'apns', { outcome: 'accepted' }), 2);
  });
});

describe('telemetry failures never break a send', () => {
  const logged: string[] = [];
  diag.setLogger(
    {
      error: (...args) => logged.push(args.join(' ')),
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true },
  );
  after(() => diag.disable());

  it('falls back to the default classifier when classify throws, and reports it once', async () => {
    logged.length = 0;
    const telemetry = new PushTelemetry();
    const error = httpError(429);
    const send = telemetry.wrapSender(
      async () => {
        throw error;
      },
      {
        provider: 'fcm',
        classify: () => {
          throw new Error('classify bug');
        },
      },
    );
    for (let i = 0; i < 5; i++) await assert.rejects(send(), (thrown) => thrown === error);
    assert.equal(
      messages((await scrape(telemetry)).samples, 'fcm', { outcome: 'failed', error_type: 'rate_limited' }),
      5,
    );
    assert.equal(logged.filter((m) => m.includes('classify')).length, 1, logged.join('\n'));
    const health = telemetry.health();
    assert.equal(health.ok, false);
    assert.deepEqual(
      health.problems.map((p) => [p.kind, p.count]),
      [['classify', 5]],
    );
  });

  it('falls back when classify returns something outside the taxonomy', async () => {
    const telemetry = new PushTelemetry();
    const send = telemetry.wrapSender(
      async () => {
        throw httpError(401);
      },
      { provider: 'fcm', classify: () => 'teapot' as never },
    );
    await assert.rejects(send());
    assert.equal(messages((await scrape(telemetry)).samples, 'fcm', { outcome: 'failed', error_type: 'auth' }), 1);
  });

  it('counts every message accepted when settle throws or returns garbage', async () => {
    const telemetry = new PushTelemetry();
    const value = { weird: true };
    const throwing = telemetry.wrapSender(async () => value, {
      provider: 'fcm',
      countMessages: () => 3,
      settle: () => {
        throw new Error('settle bug');
      },
    });
    const garbage = telemetry.wrapSender(async () => value, {
      provider: 'fcm',
      countMessages: () => 2,
      settle: () => ({ accepted: -1, failed: 'no' }) as never,
    });
    assert.equal(await throwing(), value);
    assert.equal(await garbage(), value);
    assert.equal(messages((await scrape(telemetry)).samples, 'fcm', { outcome: 'accepted' }), 5);
    assert.deepEqual(
      telemetry
        .health()
        .problems.map((p) => p.kind)
        .sort(),
      ['settle'],
    );
  });

  it('maps a settle errorType outside the taxonomy to unknown', async () => {
    const telemetry = new PushTelemetry();
    const send = telemetry.wrapSender(async () => 'r', {
      provider: 'fcm',
      settle: () => ({ accepted: 0, failed: [{ errorType: 'bogus' as never }] }),
    });
    await send();
    assert.equal(messages((await scrape(telemetry)).samples, 'fcm', { outcome: 'failed', error_type: 'unknown' }), 1);
  });

  it('counts one message when countMessages throws or returns a non-count', async () => {
    const telemetry = new PushTelemetry();
    const a = telemetry.wrapSender(async () => 'ok', {
      provider: 'fcm',
      countMessages: () => {
        throw new Error('count bug');
      },
    });
    const b = telemetry.wrapSender(async () => 'ok', { provider: 'fcm', countMessages: () => Number.NaN });
    assert.equal(await a(), 'ok');
    assert.equal(await b(), 'ok');
    assert.equal(messages((await scrape(telemetry)).samples, 'fcm', { outcome: 'accepted' }), 2);
  });

  it('survives onInvalidToken throwing, rejecting or never resolving', async () => {
    const telemetry = new PushTelemetry();
    const error = httpError(410);
    let calls = 0;
    for (const onInvalidToken of [
      () => {
        calls++;
        throw new Error('store down');
      },
      () => {
        calls++;
        return Promise.reject(new Error('store down'));
      },
      () => {
        calls++;
        return new Promise<void>(() => {});
      },
    ]) {
      const send = telemetry.wrapSender(
        async (_token: string) => {
          throw error;
        },
        { provider: 'webpush', tokens: ([t]) => [t], onInvalidToken },
      );
      await assert.rejects(send('t'), (thrown) => thrown === error);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls, 3);
    assert.deepEqual(
      telemetry.health().problems.map((p) => [p.kind, p.count]),
      [['onInvalidToken', 2]],
    );
  });

  it('sends untouched when the tracer provider throws on startSpan', async () => {
    const broken = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error('tracer down');
        },
        startActiveSpan: () => {
          throw new Error('tracer down');
        },
      }),
    } as unknown as TracerProvider;
    const telemetry = new PushTelemetry({ tracerProvider: broken });
    const send = telemetry.wrapSender(async () => 'sent', { provider: 'fcm' });
    assert.equal(await send(), 'sent');
    assert.equal(messages((await scrape(telemetry)).samples, 'fcm', { outcome: 'accepted' }), 1);
    assert.deepEqual(
      telemetry.health().problems.map((p) => p.kind),
      ['tracing'],
    );
  });

  it('sends untouched when a span throws from every method', async () => {
    const span = new Proxy(
      {},
      {
        get: (_t, key) =>
          key === 'isRecording'
            ? () => true
            : () => {
                throw new Error('span down');
              },
      },
    );
    const broken = { getTracer: () => ({ startSpan: () => span }) } as unknown as TracerProvider;
    const telemetry = new PushTelemetry({ tracerProvider: broken });
    const ok = telemetry.wrapSender(async () => 'sent', { provider: 'fcm' });
    const failing = telemetry.wrapSender(
      async () => {
        throw httpError(503);
      },
      { provider: 'fcm' },
    );
    assert.equal(await ok(), 'sent');
    await assert.rejects(failing(), /HTTP 503/);
    const { samples } = await scrape(telemetry);
    assert.equal(messages(samples, 'fcm', { outcome: 'accepted' }), 1);
    assert.equal(messages(samples, 'fcm', { outcome: 'failed', error_type: 'provider_unavailable' }), 1);
  });

  it('keeps serving sends when the registry cannot be scraped', async () => {
    const registry = new Registry();
    const telemetry = new PushTelemetry({ registry });
    registry.getMetricsAsJSON = () => Promise.reject(new Error('collector down'));
    const send = telemetry.wrapSender(async () => 'sent', { provider: 'fcm' });
    assert.equal(await send(), 'sent');
    const { startMetricsServer } = await import('../src/index.js');
    const server = await startMetricsServer({ telemetry, port: 0 });
    try {
      const response = await fetch(`${server.url}/metrics`);
      assert.equal(response.status, 500);
      const body = await response.text();
      assert.ok(!body.includes('collector down') && !body.includes('/work/'), body);
      assert.equal(await send(), 'sent');
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string };
      assert.equal(health.status, 'degraded');
    } finally {
      await server.close();
    }
  });

  it('records spans for a hook-broken sender all the same', async () => {
    const tracing = createTracing();
    try {
      const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
      const send = telemetry.wrapSender(
        async () => {
          throw httpError(500);
        },
        {
          provider: 'fcm',
          reason: () => {
            throw new Error('reason bug');
          },
        },
      );
      await assert.rejects(send());
      assert.equal(tracing.spans()[0]?.attributes['error.type'], 'provider_unavailable');
    } finally {
      await tracing.shutdown();
    }
  });
});
