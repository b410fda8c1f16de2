import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
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

    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), {
      status: 'ok',
      problems: [],
      invalidTokensHeld: [],
    });
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

  it('closes within a second with an idle keep-alive connection open, closing that connection', async () => {
    const telemetry = new PushTelemetry();
    const server = await startMetricsServer({ telemetry, port: 0 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get(`${server.url}/metrics`, { agent }, (res) => {
            let text = '';
            res
              .setEncoding('utf8')
              .on('data', (chunk: string) => (text += chunk))
              .on('end', () => resolve(text))
              .on('error', reject);
          })
          .on('error', reject);
      });
      assert.match(body, /^push_telemetry_info\{/m);
      // The response is done and its connection sits idle in the agent's pool, still open: what a scraper leaves behind.
      let idle: Socket[] = [];
      for (let i = 0; i < 100 && idle.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        idle = Object.values(agent.freeSockets)
          .flat()
          .filter((socket): socket is Socket => socket !== undefined);
      }
      assert.equal(idle.length, 1, 'one idle keep-alive connection');
      const socket = idle[0] as Socket;
      assert.ok(!socket.destroyed);
      const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

      // The server keeps idle connections for 5 s (keepAliveTimeout): a close() that waited for them would take that long.
      const started = performance.now();
      const outcome = await Promise.race([
        server.close().then(() => 'closed' as const),
        new Promise<'timeout'>((resolve) => setTimeout(resolve, 2000, 'timeout').unref()),
      ]);
      const elapsed = performance.now() - started;
      assert.equal(outcome, 'closed', 'close() still pending after 2 s');
      assert.ok(elapsed < 1000, `close() took ${Math.round(elapsed)} ms`);
      const ended = await Promise.race([
        socketClosed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(resolve, 500, false).unref()),
      ]);
      assert.ok(ended, 'the server closed the idle connection instead of leaving it open');
    } finally {
      agent.destroy();
    }
  });
});

describe('the quick-start demo', () => {
  it('sends a mix of outcomes and prints the /metrics URL and exposition lines', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], {
      cwd: new URL('..', import.meta.url),
    });
    assert.match(stdout, /sent 6 of 12 notifications/);
    assert.match(stdout, /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    assert.match(
      stdout,
      /^push_messages_total\{provider="fcm",app="com\.example\.app",outcome="failed",error_type="unregistered"\} 2$/m,
    );
    assert.match(stdout, /^prune token gone-1… \(unregistered\)$/m);
  });
});
