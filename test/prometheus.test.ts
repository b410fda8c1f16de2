import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PushTelemetry, startMetricsServer } from '../src/index.js';
import { startPrometheus } from './prometheus.js';

describe('a real Prometheus scraping /metrics', () => {
  it('ingests every contract metric from an instrumented sender', async (t) => {
    const telemetry = new PushTelemetry({ app: 'com.example' });
    const send = telemetry.wrapSender(
      async (ok: boolean) => {
        if (!ok) throw Object.assign(new Error('gone'), { statusCode: 410 });
        return 'id';
      },
      { provider: 'fcm' },
    );
    await send(true);
    await send(false).catch(() => undefined);
    const server = await startMetricsServer({ telemetry, port: 0 });
    t.after(() => server.close());
    const prometheus = await startPrometheus({ targets: [new URL(server.url).host] });
    t.after(() => prometheus.close());

    let result: Awaited<ReturnType<typeof prometheus.query>> = [];
    for (let i = 0; i < 100 && result.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      result = await prometheus.query(
        'push_messages_total{job="push-sender",outcome="failed",error_type="unregistered"}',
      );
    }
    assert.equal(result.length, 1);
    assert.equal(result[0]?.value[1], '1');
    assert.equal(result[0]?.metric.app, 'com.example');
    const up = await prometheus.query('up{job="push-sender"}');
    assert.equal(up[0]?.value[1], '1');
    const buckets = await prometheus.query('sum(push_request_duration_seconds_bucket{le="+Inf"})');
    assert.equal(buckets[0]?.value[1], '2');
    assert.equal((await prometheus.query('push_telemetry_info')).length, 1);
  });
});
