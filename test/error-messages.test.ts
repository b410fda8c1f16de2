import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { diag, DiagLogLevel, SpanStatusCode } from '@opentelemetry/api';
import { PushTelemetry } from '../src/index.js';
import { createTracing } from './helpers.js';

const TOKEN = 'fcm-token-1234567890abcdef';
const PAYLOAD = '{"title":"Your order 4711 has shipped","secret":"s3cr3t"}';

class ProviderError extends Error {
  override name = 'ProviderError';
  readonly code = 'messaging/invalid-argument';
}

/** A sender that echoes its token and payload in the error, as custom senders and some SDKs do. */
const echoing = async (_payload: string): Promise<never> =>
  Promise.reject(new ProviderError(`rejected ${TOKEN} ${PAYLOAD}`));

describe('error messages on spans', () => {
  const tracing = createTracing();
  after(() => tracing.shutdown());

  it('records only the error class, error.type and the reason code by default, even without a tokens option', async () => {
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
    const send = telemetry.wrapSender(echoing, { provider: 'custom', operation: 'default_messages' });
    await assert.rejects(send(PAYLOAD), ProviderError);
    const span = tracing.spans().find((s) => s.name === 'default_messages custom');
    assert.equal(span?.status.code, SpanStatusCode.ERROR);
    assert.equal(span?.status.message, 'ProviderError: unknown (messaging/invalid-argument)');
    const exception = span?.events.find((e) => e.name === 'exception')?.attributes;
    assert.equal(exception?.['exception.type'], 'ProviderError');
    assert.equal(exception?.['exception.message'], 'ProviderError: unknown (messaging/invalid-argument)');
    const recorded = JSON.stringify({ attributes: span?.attributes, events: span?.events, status: span?.status });
    assert.doesNotMatch(recorded, /fcm-token|s3cr3t|shipped/);
  });

  it('records the raw message with recordErrorMessages: true, known tokens still cut out', async () => {
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, recordErrorMessages: true });
    const send = telemetry.wrapSender(async (_token: string) => echoing(PAYLOAD), {
      provider: 'custom',
      operation: 'raw_messages',
      tokens: ([token]) => [token],
    });
    await assert.rejects(send(TOKEN), ProviderError);
    const span = tracing.spans().find((s) => s.name === 'raw_messages custom');
    assert.equal(span?.status.message, `rejected <token> ${PAYLOAD}`);
    assert.equal(
      span?.events.find((e) => e.name === 'exception')?.attributes?.['exception.message'],
      `rejected <token> ${PAYLOAD}`,
    );
  });

  it('rejects a recordErrorMessages that is not a boolean', () => {
    assert.throws(
      () => new PushTelemetry({ recordErrorMessages: 'yes' as never }),
      /options\.recordErrorMessages must be a boolean/,
    );
  });
});

describe('error messages in the problem log and diag', () => {
  it('keeps only the class and code of a failing hook by default, and its message when asked', () => {
    const lines: string[] = [];
    diag.setLogger(
      {
        error: (...args: unknown[]) => void lines.push(args.join(' ')),
        warn: () => {},
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      DiagLogLevel.ERROR,
    );
    try {
      const failing = () => {
        throw Object.assign(new Error(`store rejected ${TOKEN} for ${PAYLOAD}`), { code: 'E_STORE' });
      };
      for (const recordErrorMessages of [false, true]) {
        const telemetry = new PushTelemetry({ recordErrorMessages });
        const send = telemetry.wrapSender(() => 'ok', { provider: 'fcm', settle: failing });
        assert.equal(send(), 'ok');
        const [problem] = telemetry.health().problems;
        if (recordErrorMessages) assert.match(problem?.lastError ?? '', /^Error \[E_STORE\]: store rejected/);
        else assert.equal(problem?.lastError, 'Error [E_STORE]');
      }
      assert.doesNotMatch(lines[0] ?? '', /store rejected/);
      assert.match(lines[1] ?? '', /store rejected/);
    } finally {
      diag.disable();
    }
  });

  it("cuts the call's tokens out of the message of a classify, reason or status hook that throws on a failed call", async () => {
    const telemetry = new PushTelemetry({
      recordErrorMessages: true,
      logger: { error: () => {}, warn: () => {}, info: () => {} },
    });
    const throwing = (hook: string) => () => {
      throw new Error(`${hook} choked on ${TOKEN}`);
    };
    const send = telemetry.wrapSender(
      async (_token: string) => {
        throw new ProviderError(`rejected ${TOKEN}`);
      },
      {
        provider: 'custom',
        tokens: ([token]) => [token],
        classify: throwing('classify'),
        reason: throwing('reason'),
        status: throwing('status'),
      },
    );
    await assert.rejects(send(TOKEN), ProviderError);
    const problems = telemetry.health().problems;
    assert.deepEqual(problems.map((p) => p.kind).sort(), ['classify', 'reason', 'status']);
    for (const problem of problems) {
      assert.match(problem.lastError, new RegExp(`^Error: ${problem.kind} choked on <token>$`));
      assert.ok(!problem.lastError.includes(TOKEN), problem.lastError);
    }
  });
});
