import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { PushTelemetry, startMetricsServer, type MetricsServer } from '../src/index.js';

/** Sends raw bytes and returns whatever the server answers before closing (malformed requests need a raw socket). */
function raw(server: MetricsServer, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.end(request);
  });
}

function assertNoInternals(body: string): void {
  assert.doesNotMatch(
    body,
    /\bat [\w.<>]+ \(|node_modules|\/work\/|\.ts:\d+|\.js:\d+/,
    `no stack or path in: ${body.slice(0, 300)}`,
  );
}

describe('/metrics server hardening', () => {
  it('binds 127.0.0.1 unless told otherwise', async () => {
    const server = await startMetricsServer({ telemetry: new PushTelemetry(), port: 0 });
    try {
      assert.equal(new URL(server.url).hostname, '127.0.0.1');
    } finally {
      await server.close();
    }
  });

  it('requires the bearer token when configured', async () => {
    const bearerToken = 'scrape-secret-0123456789';
    const server = await startMetricsServer({ telemetry: new PushTelemetry(), port: 0, auth: { bearerToken } });
    try {
      const none = await fetch(`${server.url}/metrics`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 401);
      const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${bearerToken}` } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /push_telemetry_info/);
    } finally {
      await server.close();
    }
  });

  it('requires basic auth when configured', async () => {
    const server = await startMetricsServer({
      telemetry: new PushTelemetry(),
      port: 0,
      auth: { username: 'prometheus', password: 'correct horse' },
    });
    const basic = (user: string, pass: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
    });
    try {
      const none = await fetch(`${server.url}/metrics`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      assert.equal(
        (await fetch(`${server.url}/metrics`, { headers: basic('prometheus', 'wrong password') })).status,
        401,
      );
      assert.equal(
        (await fetch(`${server.url}/metrics`, { headers: basic('prometheus', 'correct horse') })).status,
        200,
      );
    } finally {
      await server.close();
    }
  });

  it('rejects weak or malformed auth options at start', async () => {
    const telemetry = new PushTelemetry();
    await assert.rejects(
      startMetricsServer({ telemetry, auth: { bearerToken: 'short' } }),
      /options\.auth\.bearerToken must be a string of at least 16 characters/,
    );
    await assert.rejects(
      startMetricsServer({ telemetry, auth: { username: 'a:b', password: 'longenough' } }),
      /options\.auth\.username/,
    );
    await assert.rejects(
      startMetricsServer({ telemetry, auth: { username: 'a', password: 'x' } }),
      /options\.auth\.password/,
    );
    await assert.rejects(startMetricsServer({ telemetry, auth: 'token' as never }), /options\.auth must be/);
  });

  it('answers GET and HEAD only', async () => {
    const server = await startMetricsServer({ telemetry: new PushTelemetry(), port: 0 });
    try {
      for (const path of ['/metrics', '/healthz']) {
        for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
          const response = await fetch(`${server.url}${path}`, { method });
          assert.equal(response.status, 405, `${method} ${path}`);
          assert.equal(response.headers.get('allow'), 'GET, HEAD');
        }
        assert.equal((await fetch(`${server.url}${path}`, { method: 'HEAD' })).status, 200);
      }
    } finally {
      await server.close();
    }
  });

  it('survives malformed requests without leaking stack traces or paths', async () => {
    const server = await startMetricsServer({ telemetry: new PushTelemetry(), port: 0 });
    try {
      const badEncoding = await raw(server, 'GET /metrics%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(badEncoding, /^HTTP\/1\.1 (400|404)/);
      assertNoInternals(badEncoding);
      const traversal = await raw(server, 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match(traversal, /^HTTP\/1\.1 404/);
      assert.doesNotMatch(traversal, /root:/);
      assertNoInternals(traversal);
      const garbage = await raw(server, 'NOT AN HTTP REQUEST\r\n\r\n');
      assert.match(garbage, /^(HTTP\/1\.1 400|)/);
      const hugeHeader = await raw(
        server,
        `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
      );
      assert.match(hugeHeader, /^HTTP\/1\.1 431/);
      const reflected = await fetch(`${server.url}/%3Cscript%3Ealert(1)%3C/script%3E`);
      assert.equal(reflected.status, 404);
      assert.doesNotMatch(await reflected.text(), /script/);
      // Still serving after all of that.
      assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('reports a broken collector on /healthz without failing it, and hides the error text from /metrics', async () => {
    const registry = new Registry();
    new Counter({
      name: 'user_metric_total',
      help: 'a user metric whose collect breaks',
      registers: [registry],
      collect() {
        throw new Error('collector exploded at /srv/app/secret.js:12');
      },
    });
    const telemetry = new PushTelemetry({ registry });
    const server = await startMetricsServer({ telemetry, port: 0 });
    try {
      const metrics = await fetch(`${server.url}/metrics`);
      assert.equal(metrics.status, 500);
      const body = await metrics.text();
      assert.doesNotMatch(body, /exploded|secret/);
      assertNoInternals(body);
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      const text = await health.text();
      assert.doesNotMatch(text, /exploded|secret/);
      const report = JSON.parse(text) as { status: string; problems: Array<{ kind: string; count: number }> };
      assert.equal(report.status, 'degraded');
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.count]),
        [['collect', 1]],
      );
    } finally {
      await server.close();
    }
  });
});
