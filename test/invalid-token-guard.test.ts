import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import {
  PushTelemetry,
  startMetricsServer,
  type FailedMessage,
  type HeldInvalidTokens,
  type InvalidTokenEvent,
} from '../src/index.js';
import { httpError, parseExposition, valueOf } from './helpers.js';

async function samples(telemetry: PushTelemetry) {
  return parseExposition(await telemetry.registry.metrics());
}

async function held(telemetry: PushTelemetry, provider: string, app?: string): Promise<number | undefined> {
  return valueOf(await samples(telemetry), 'push_invalid_tokens_held_total', {
    provider,
    ...(app !== undefined && { app }),
  });
}

/** A batch sender whose settle reports `gone` of `tokens` unregistered, the rest accepted. */
function batchSender(
  telemetry: PushTelemetry,
  options: {
    onInvalidToken: (event: InvalidTokenEvent) => void;
    onInvalidTokensHeld?: (held: HeldInvalidTokens) => void;
    app?: string;
  },
) {
  return telemetry.wrapSender(async (tokens: string[], gone: number) => ({ tokens, gone }), {
    provider: 'fcm',
    operation: 'send_each',
    ...options,
    countMessages: ([tokens]) => tokens.length,
    tokens: ([tokens]) => tokens,
    settle: ({ tokens, gone }): { accepted: number; failed: FailedMessage[] } => ({
      accepted: tokens.length - gone,
      failed: tokens.slice(0, gone).map((token) => ({ errorType: 'unregistered', reason: 'UNREGISTERED', token })),
    }),
  });
}

const tokens = (n: number, prefix = 'tok') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('whole-call failures never prune', () => {
  it('does not call onInvalidToken for a batch that fails as a whole with 404 or 410, and counts it as config', async () => {
    const telemetry = new PushTelemetry({ invalidTokenGuard: false });
    const pruned: string[] = [];
    for (const status of [404, 410]) {
      const send = telemetry.wrapSender(async (_tokens: string[]) => Promise.reject(httpError(status)), {
        provider: 'custom',
        operation: `batch_${status}`,
        tokens: ([list]) => list,
        onInvalidToken: (event) => void pruned.push(event.token),
      });
      await assert.rejects(send(['a', 'b', 'c']), new RegExp(`HTTP ${status}`));
    }
    assert.deepEqual(pruned, []);
    const all = await samples(telemetry);
    assert.equal(
      valueOf(all, 'push_messages_total', { provider: 'custom', outcome: 'failed', error_type: 'config' }),
      6,
    );
    assert.equal(
      valueOf(all, 'push_messages_total', { provider: 'custom', outcome: 'failed', error_type: 'unregistered' }),
      0,
    );
  });

  it('still prunes a single-recipient call the provider answers 404 or 410 (a Web Push subscription that is gone)', async () => {
    const telemetry = new PushTelemetry();
    const pruned: InvalidTokenEvent[] = [];
    const send = telemetry.wrapSender(async (_endpoint: string) => Promise.reject(httpError(410)), {
      provider: 'webpush',
      tokens: ([endpoint]) => [endpoint],
      onInvalidToken: (event) => void pruned.push(event),
    });
    await assert.rejects(send('https://push.example/sub-1'));
    assert.deepEqual(pruned, [
      { token: 'https://push.example/sub-1', errorType: 'unregistered', provider: 'webpush', reason: '410' },
    ]);
    assert.equal(
      valueOf(await samples(telemetry), 'push_messages_total', {
        provider: 'webpush',
        outcome: 'failed',
        error_type: 'unregistered',
      }),
      1,
    );
  });

  it('never prunes on auth or config answers, single recipient or not', async () => {
    const telemetry = new PushTelemetry();
    const pruned: string[] = [];
    for (const status of [401, 403]) {
      const send = telemetry.wrapSender(async (_t: string) => Promise.reject(httpError(status)), {
        provider: 'webpush',
        tokens: ([t]) => [t],
        onInvalidToken: (event) => void pruned.push(event.token),
      });
      await assert.rejects(send('t1'));
    }
    assert.deepEqual(pruned, []);
  });
});

describe('the surge guard', () => {
  it('holds the verdicts of one call of 20+ recipients that says more than half are gone, and counts them', async () => {
    const warnings: string[] = [];
    diag.setLogger(
      {
        error: () => {},
        warn: (...args: unknown[]) => void warnings.push(args.join(' ')),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      DiagLogLevel.WARN,
    );
    try {
      const telemetry = new PushTelemetry({ app: 'com.example' });
      const pruned: string[] = [];
      const holds: HeldInvalidTokens[] = [];
      const send = batchSender(telemetry, {
        onInvalidToken: (e) => void pruned.push(e.token),
        onInvalidTokensHeld: (h) => void holds.push(h),
      });

      await send(tokens(20), 11);
      assert.deepEqual(pruned, [], 'held, not pruned');
      assert.equal(holds.length, 1);
      const [hold] = holds as [HeldInvalidTokens];
      assert.equal(hold.provider, 'fcm');
      assert.equal(hold.app, 'com.example');
      assert.equal(hold.trigger, 'batch');
      assert.equal(hold.count, 11);
      assert.deepEqual(
        hold.events.map((e) => e.token),
        tokens(11),
      );
      assert.equal(await held(telemetry, 'fcm', 'com.example'), 11);

      // A second surge while the hold is open joins it: one callback, one diag line per hold.
      await send(tokens(40, 'more'), 30);
      assert.equal(holds.length, 1);
      assert.equal(hold.count, 41);
      assert.equal(warnings.filter((w) => w.includes('holding fcm (com.example)')).length, 1);
      assert.equal(await held(telemetry, 'fcm', 'com.example'), 41);

      const health = telemetry.health();
      assert.equal(health.ok, true, 'a hold is not a telemetry failure');
      assert.deepEqual(
        health.invalidTokensHeld.map(({ provider, app, trigger, count }) => ({ provider, app, trigger, count })),
        [{ provider: 'fcm', app: 'com.example', trigger: 'batch', count: 41 }],
      );
      assert.deepEqual(telemetry.heldInvalidTokens(), [hold]);

      // A person confirms: every held verdict reaches onInvalidToken, once.
      assert.equal(hold.release(), 41);
      assert.equal(pruned.length, 41);
      assert.equal(hold.release(), 0);
      assert.equal(hold.settled, true);
      assert.deepEqual(telemetry.heldInvalidTokens(), []);
      assert.deepEqual(telemetry.health().invalidTokensHeld, []);

      // The next surge opens a new hold.
      await send(tokens(25, 'third'), 25);
      assert.equal(holds.length, 2);
      holds[1]?.discard();
      assert.equal(pruned.length, 41, 'discarded verdicts never prune');
      assert.equal(await held(telemetry, 'fcm', 'com.example'), 66);
    } finally {
      diag.disable();
    }
  });

  it('passes verdicts of exactly half, and of calls under 20 recipients, straight on', async () => {
    const telemetry = new PushTelemetry();
    const pruned: string[] = [];
    const send = batchSender(telemetry, { onInvalidToken: (e) => void pruned.push(e.token) });
    await send(tokens(20, 'half'), 10);
    await send(tokens(19, 'small'), 19);
    assert.equal(pruned.length, 29);
    assert.equal(await held(telemetry, 'fcm'), 0);
    assert.deepEqual(telemetry.heldInvalidTokens(), []);
  });

  it('holds once a 60 s window has 100 verdicts that are more than half its recipients', async () => {
    const telemetry = new PushTelemetry();
    const pruned: string[] = [];
    const holds: HeldInvalidTokens[] = [];
    const send = telemetry.wrapSender(async (_token: string) => Promise.reject(httpError(410)), {
      provider: 'webpush',
      tokens: ([token]) => [token],
      onInvalidToken: (e) => void pruned.push(e.token),
      onInvalidTokensHeld: (h) => void holds.push(h),
    });
    for (const token of tokens(99)) await assert.rejects(send(token));
    assert.equal(pruned.length, 99, 'below the window minimum, each single-recipient verdict prunes');
    await assert.rejects(send('the-100th'));
    assert.equal(pruned.length, 99);
    assert.equal(holds[0]?.trigger, 'window');
    assert.deepEqual(
      holds[0]?.events.map((e) => e.token),
      ['the-100th'],
    );
    assert.equal(await held(telemetry, 'webpush'), 1);
  });

  it('counts every recipient of the window, so real churn among steady traffic is never held', async () => {
    const telemetry = new PushTelemetry();
    const pruned: string[] = [];
    const send = batchSender(telemetry, { onInvalidToken: (e) => void pruned.push(e.token) });
    // 150 verdicts among 400 recipients: 37.5%, and no single call of 20+ over half.
    for (let i = 0; i < 10; i++) await send(tokens(40, `b${i}`), 15);
    assert.equal(pruned.length, 150);
    assert.equal(await held(telemetry, 'fcm'), 0);
  });

  it('forgets verdicts once they leave the window', async () => {
    const telemetry = new PushTelemetry({ invalidTokenGuard: { windowSeconds: 0.3, windowMinVerdicts: 5 } });
    const pruned: string[] = [];
    const send = batchSender(telemetry, { onInvalidToken: (e) => void pruned.push(e.token) });
    await send(tokens(4, 'a'), 4);
    await sleep(400);
    await send(tokens(4, 'b'), 4);
    assert.equal(pruned.length, 8, 'four old verdicts and four new never make five in one window');
    await send(tokens(1, 'c'), 1);
    assert.equal(pruned.length, 8, 'the fifth in the window is held');
    assert.equal(telemetry.heldInvalidTokens()[0]?.count, 1);
  });

  it('holds mass verdicts from receipts too', async () => {
    const holds: HeldInvalidTokens[] = [];
    const telemetry = new PushTelemetry({ onInvalidTokensHeld: (h) => void holds.push(h) });
    const pruned: string[] = [];
    telemetry.recordReceipts({
      provider: 'expo',
      delivered: 5,
      failed: tokens(25).map((token) => ({ errorType: 'unregistered', reason: 'DeviceNotRegistered', token })),
      onInvalidToken: (e) => void pruned.push(e.token),
    });
    assert.deepEqual(pruned, []);
    assert.equal(holds[0]?.count, 25);
    assert.equal(await held(telemetry, 'expo'), 25);
  });

  it('can be turned off, and takes its thresholds as options', async () => {
    const off = new PushTelemetry({ invalidTokenGuard: false });
    const pruned: string[] = [];
    await batchSender(off, { onInvalidToken: (e) => void pruned.push(e.token) })(tokens(50), 50);
    assert.equal(pruned.length, 50);

    const strict = new PushTelemetry({ invalidTokenGuard: { batchMinRecipients: 4, batchShare: 0.25 } });
    const strictPruned: string[] = [];
    await batchSender(strict, { onInvalidToken: (e) => void strictPruned.push(e.token) })(tokens(4), 2);
    assert.deepEqual(strictPruned, []);
    assert.equal(strict.heldInvalidTokens()[0]?.count, 2);
  });

  it('rejects bad thresholds with a TypeError naming the option', () => {
    assert.throws(
      () => new PushTelemetry({ invalidTokenGuard: { batchMinRecipients: 0 } }),
      /invalidTokenGuard\.batchMinRecipients/,
    );
    assert.throws(() => new PushTelemetry({ invalidTokenGuard: { batchShare: 1.5 } }), /invalidTokenGuard\.batchShare/);
    assert.throws(
      () => new PushTelemetry({ invalidTokenGuard: { windowSeconds: -1 } }),
      /invalidTokenGuard\.windowSeconds/,
    );
    assert.throws(
      () => new PushTelemetry({ invalidTokenGuard: { windowMinVerdict: 3 } as never }),
      /unknown option "windowMinVerdict"/,
    );
    assert.throws(() => new PushTelemetry({ invalidTokenGuard: true as never }), /options\.invalidTokenGuard must be/);
    assert.throws(
      () => new PushTelemetry({ onInvalidTokensHeld: 'x' as never }),
      /options\.onInvalidTokensHeld must be a function/,
    );
  });

  it('never lets a throwing onInvalidTokensHeld reach the send', async () => {
    const telemetry = new PushTelemetry({
      onInvalidTokensHeld: () => {
        throw new Error('pager down');
      },
    });
    const send = batchSender(telemetry, { onInvalidToken: () => {} });
    const result = await send(tokens(20), 20);
    assert.equal(result.gone, 20);
    assert.deepEqual(
      telemetry.health().problems.map((p) => p.kind),
      ['onInvalidTokensHeld'],
    );
    assert.equal(telemetry.heldInvalidTokens()[0]?.count, 20);
  });

  it('shows open holds on /healthz without a token', async () => {
    const telemetry = new PushTelemetry();
    await batchSender(telemetry, { onInvalidToken: () => {} })(tokens(30, 'secret-token'), 30);
    const server = await startMetricsServer({ telemetry, port: 0 });
    try {
      const text = await (await fetch(`${server.url}/healthz`)).text();
      assert.doesNotMatch(text, /secret-token/);
      const body = JSON.parse(text) as {
        status: string;
        invalidTokensHeld: { provider: string; trigger: string; count: number; since: string }[];
      };
      assert.equal(body.status, 'ok');
      assert.deepEqual(
        body.invalidTokensHeld.map(({ provider, trigger, count }) => ({ provider, trigger, count })),
        [{ provider: 'fcm', trigger: 'batch', count: 30 }],
      );
      assert.ok(Math.abs(Date.parse(body.invalidTokensHeld[0]?.since ?? '') - Date.now()) < 60_000);
    } finally {
      await server.close();
    }
  });
});
