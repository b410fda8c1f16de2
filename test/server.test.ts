import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PushTelemetry, startMetricsServer } from '../src/index.js';

describe('startMetricsServer', () => {
  it('serves /metrics and /healthz on 127.0.0.1 and stops on close()', async () => {
    const telemetry = new PushTelemetry();
    await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })();
    const server = await startMetricsServer({ telemetry, port: 0 });
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);

    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(await metrics.text(), /^push_messages_total\{provider="fcm",outcome="accepted"\} 1$/m);

    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');

    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');

    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok', problems: [] });
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);

    await server.close();
    await assert.rejects(fetch(`${server.url}/metrics`));
  });

  it('rejects when the port is taken, with the listen error', async () => {
    const telemetry = new PushTelemetry();
    const first = await startMetricsServer({ telemetry, port: 0 });
    try {
      await assert.rejects(startMetricsServer({ telemetry, port: first.port }), { code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });

  it('closes promptly even with a keep-alive client connected', async () => {
    const telemetry = new PushTelemetry();
    const server = await startMetricsServer({ telemetry, port: 0 });
    await (await fetch(`${server.url}/metrics`, { keepalive: true })).text();
    await server.close();
  });
});

describe('the quick-start demo', () => {
  it('sends a mix of outcomes and prints the /metrics URL and exposition lines', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], { cwd: new URL('..', import.meta.url) });
    assert.match(stdout, /sent 6 of 12 notifications/);
    assert.match(stdout, /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    assert.match(stdout, /^push_messages_total\{provider="fcm",app="com\.example\.app",outcome="failed",error_type="unregistered"\} 2$/m);
    assert.match(stdout, /^prune token gone-1… \(unregistered\)$/m);
  });
});
