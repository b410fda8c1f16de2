import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { PushTelemetry } from '../src/index.js';
import { parseExposition, valueOf } from './helpers.js';

/** Runs `fn` with Date.now() answering as if the wall clock had been stepped by `offsetMs` (an NTP step, a VM resume). */
async function withSteppedClock<T>(offsetMs: number, fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + offsetMs;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

describe('timestamps follow the wall clock, durations the monotonic one', () => {
  const STEP = 3_600_000;

  it('stamps push_last_success_timestamp_seconds with Date.now(), not the process start plus monotonic time', async () => {
    const telemetry = new PushTelemetry();
    const send = telemetry.wrapSender(async () => 'ok', { provider: 'fcm' });
    const before = Date.now() + STEP;
    await withSteppedClock(STEP, () => send());
    const samples = parseExposition(await telemetry.registry.metrics());
    const last = (valueOf(samples, 'push_last_success_timestamp_seconds', { provider: 'fcm' }) ?? 0) * 1000;
    assert.ok(
      last >= before && last < before + 5_000,
      `last success ${last} should follow the stepped clock ${before}`,
    );
    const duration =
      valueOf(samples, 'push_request_duration_seconds_sum', {
        provider: 'fcm',
        operation: 'send',
        outcome: 'success',
      }) ?? -1;
    assert.ok(duration >= 0 && duration < 1, `duration ${duration} is untouched by the step`);
  });

  it('stamps exemplars with Date.now()', async () => {
    const telemetry = new PushTelemetry({ exemplars: true, tracerProvider: new BasicTracerProvider() });
    const send = telemetry.wrapSender(async () => 'ok', { provider: 'fcm' });
    const before = Date.now() + STEP;
    await withSteppedClock(STEP, () => send());
    const { renderRegistry } = await import('../src/metrics/exposition.js');
    const text = await renderRegistry(telemetry.registry, 'openmetrics');
    const exemplar = parseExposition(text).find((s) => s.exemplar !== undefined)?.exemplar ?? '';
    const timestamp = Number(exemplar.split(' ').at(-1)) * 1000;
    assert.ok(timestamp >= before && timestamp < before + 5_000, `exemplar at ${timestamp}, stepped clock ${before}`);
    assert.ok(trace.getTracerProvider() !== undefined);
  });
});
