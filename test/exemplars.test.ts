import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PushTelemetry } from '../src/index.js';
import { acceptsOpenMetrics, renderFamilies } from '../src/metrics/exposition.js';
import { createTracing, httpError, scrape, type Tracing } from './helpers.js';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('exemplars', () => {
  let tracing: Tracing;
  before(() => {
    tracing = createTracing();
  });
  after(() => tracing.shutdown());

  it('puts the trace and span id of the call on its duration bucket, in OpenMetrics', async () => {
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, exemplars: true });
    const send = telemetry.wrapSender(async () => 'ok', { provider: 'fcm' });
    const before = Date.now() / 1000;
    await send();
    const span = tracing.spans().at(-1);
    const { text, contentType, samples } = await scrape(telemetry, PROMETHEUS_ACCEPT);
    const now = Date.now() / 1000;
    assert.match(contentType ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    assert.ok(text.endsWith('# EOF\n'));
    const withExemplar = samples.filter((s) => s.exemplar !== undefined);
    assert.equal(withExemplar.length, 1);
    assert.equal(withExemplar[0]?.name, 'push_request_duration_seconds_bucket');
    assert.equal(withExemplar[0]?.labels.outcome, 'success');
    const exemplar = new RegExp(
      `^\\{trace_id="${span?.spanContext().traceId}",span_id="${span?.spanContext().spanId}"\\} (\\S+) (\\S+)$`,
    ).exec(withExemplar[0]?.exemplar ?? '');
    assert.ok(exemplar, `exemplar ${withExemplar[0]?.exemplar}`);
    // The value is the call's duration in seconds, within its bucket.
    const [seconds, timestamp] = [Number(exemplar[1]), Number(exemplar[2])];
    assert.ok(
      seconds >= 0 && seconds <= Number(withExemplar[0]?.labels.le),
      `exemplar value ${exemplar[1]} in bucket le=${withExemplar[0]?.labels.le}`,
    );
    // The timestamp is Unix seconds of the call: now, not milliseconds, not a monotonic clock, not ahead of the wall clock.
    assert.ok(
      Math.abs(timestamp - now) < 5,
      `exemplar timestamp ${exemplar[2]} is ${timestamp - now} s from now (${now})`,
    );
    assert.ok(
      timestamp >= before - 0.001 && timestamp <= now + 0.001,
      `exemplar timestamp ${exemplar[2]} lies between the call (${before}) and the scrape (${now})`,
    );
    // OpenMetrics names a counter family without _total and its samples with it.
    assert.match(text, /^# TYPE push_messages counter$/m);
    assert.match(text, /^push_messages_total\{provider="fcm",outcome="accepted"\} 1$/m);
  });

  it('serves the Prometheus text format to a scraper that does not ask for OpenMetrics', async () => {
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, exemplars: true });
    await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })();
    const { text, contentType } = await scrape(telemetry, 'text/plain');
    assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.ok(!text.includes('trace_id') && !text.includes('# EOF'));
    assert.match(text, /^# TYPE push_messages_total counter$/m);
  });

  it('records no exemplars when they are off, even for OpenMetrics scrapers', async () => {
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
    await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })();
    const { text, contentType } = await scrape(telemetry, PROMETHEUS_ACCEPT);
    assert.match(contentType ?? '', /^text\/plain/);
    assert.ok(!text.includes('trace_id'));
  });

  it('records no exemplar for calls nobody traced', async () => {
    const telemetry = new PushTelemetry({ exemplars: true });
    await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })();
    const { samples } = await scrape(telemetry, PROMETHEUS_ACCEPT);
    assert.equal(samples.filter((s) => s.exemplar !== undefined).length, 0);
  });
});

describe('token hash', () => {
  let tracing: Tracing;
  before(() => {
    tracing = createTracing();
  });
  after(() => tracing.shutdown());
  const secret = 'a-sixteen-byte-or-longer-secret';
  const hmac = (token: string, length = 16) =>
    createHmac('sha256', secret).update(token).digest('hex').slice(0, length);

  it('records an HMAC-SHA256 of the token, truncated, and never the token', async () => {
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, tokenHash: { secret } });
    const send = telemetry.wrapSender(
      async (token: string) => {
        if (token.startsWith('dead')) throw httpError(410);
        return 'ok';
      },
      { provider: 'apns', tokens: ([t]) => [t] },
    );
    await send('live-device-token-0001');
    await assert.rejects(send('dead-device-token-0002'));
    const [ok, failed] = tracing.spans().slice(-2);
    assert.equal(ok?.attributes['push.token.hash'], hmac('live-device-token-0001'));
    assert.equal(failed?.attributes['push.token.hash'], hmac('dead-device-token-0002'));
    assert.ok(!JSON.stringify(tracing.spans().map((s) => [s.attributes, s.events])).includes('device-token'));
  });

  it('hashes the tokens of refused batch messages on their events, with the chosen length', async () => {
    const telemetry = new PushTelemetry({
      tracerProvider: tracing.tracerProvider,
      tokenHash: { secret: Buffer.from(secret), length: 32 },
    });
    const send = telemetry.wrapSender(async (tokens: string[]) => tokens, {
      provider: 'fcm',
      operation: 'send_each',
      countMessages: ([t]) => t.length,
      settle: (tokens) => ({
        accepted: tokens.length - 1,
        failed: [{ errorType: 'unregistered', token: tokens[0] as string }],
      }),
    });
    await send(['stale-token-1', 'fresh-token-2']);
    const event = tracing
      .spans()
      .at(-1)
      ?.events.find((e) => e.name === 'push.message.failed');
    assert.equal(event?.attributes?.['push.token.hash'], hmac('stale-token-1', 32));
  });
});

describe('exposition formats', () => {
  it('parses Accept headers for OpenMetrics', () => {
    assert.equal(acceptsOpenMetrics(PROMETHEUS_ACCEPT), true);
    assert.equal(acceptsOpenMetrics('application/openmetrics-text; version=1.0.0'), true);
    assert.equal(acceptsOpenMetrics('application/openmetrics-text;q=0, text/plain'), false);
    assert.equal(acceptsOpenMetrics('text/plain;version=0.0.4'), false);
    assert.equal(acceptsOpenMetrics('*/*'), false);
    assert.equal(acceptsOpenMetrics(undefined), false);
  });

  it('escapes label values and help text', () => {
    const text = renderFamilies(
      [
        {
          name: 'x_total',
          help: 'a\\b\nc',
          type: 'counter',
          aggregator: 'sum',
          values: [{ labels: { v: 'q"\\\n' }, value: Infinity }],
        },
      ],
      'prometheus',
    );
    assert.equal(text, '# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{v="q\\"\\\\\\n"} +Inf\n');
  });
});
