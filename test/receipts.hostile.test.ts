import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import fc from 'fast-check';
import {
  createReceiptStamp,
  DEVICE_RECEIPT_EVENTS,
  KNOWN_PROVIDERS,
  PushTelemetry,
  RECEIPT_MAX_AGE_MS,
  RECEIPT_MAX_AHEAD_MS,
  RECEIPT_REJECT_REASONS,
  RECEIPTS_PATH,
  startMetricsServer,
  type MetricsServer,
} from '../src/index.js';
import { parseExposition, valueOf, type Sample } from './helpers.js';

/**
 * The receipts endpoint faces the internet: whatever arrives, the only series it may make are those of allow-listed
 * apps and known providers, and nothing from a request reaches a label, a log or an answer.
 */

const APPS = ['com.example.app', 'com.example.other'];
const SECRET = 'hostile-test-secret-0123456789abcdef';
/** A string planted in hostile bodies: it must never come back out anywhere. */
const MARKER = 'fcm-token-LEAK-CANARY-7f3a9c';

// One keep-alive agent: thousands of posts would otherwise open thousands of sockets.
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

function request(
  server: MetricsServer,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: http.OutgoingHttpHeaders = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode as number, headers: res.headers, text: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const post = (server: MetricsServer, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) =>
  request(server, 'POST', RECEIPTS_PATH, body, { 'content-type': 'application/json', ...headers });

async function scrape(server: MetricsServer): Promise<{ text: string; samples: Sample[] }> {
  const answer = await request(server, 'GET', '/metrics');
  assert.equal(answer.status, 200);
  return { text: answer.text, samples: parseExposition(answer.text) };
}

const DEVICE_SERIES = /^push_(device_receipts_total|delivery_latency_seconds_\w+)\{/;

/** Every device receipt and latency series line, as label text. */
function deviceSeries(samples: readonly Sample[]): string[] {
  return samples
    .filter((s) => DEVICE_SERIES.test(`${s.name}{`))
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();
}

function rejected(samples: readonly Sample[]): Record<string, number> {
  return Object.fromEntries(
    RECEIPT_REJECT_REASONS.map((reason) => [
      reason,
      valueOf(samples, 'push_device_receipts_rejected_total', { reason }) as number,
    ]),
  );
}

function assertAllowedLabels(samples: readonly Sample[]): void {
  for (const s of samples) {
    if (!DEVICE_SERIES.test(`${s.name}{`)) continue;
    assert.ok(KNOWN_PROVIDERS.includes(s.labels.provider as never), `provider ${s.labels.provider}`);
    assert.ok(APPS.includes(s.labels.app as string), `app ${s.labels.app}`);
    if (s.name === 'push_device_receipts_total')
      assert.ok(DEVICE_RECEIPT_EVENTS.includes(s.labels.event as never), `event ${s.labels.event}`);
  }
}

/** Records everything written through console and the OpenTelemetry diag logger while the tests run. */
function captureLogs(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const originals = methods.map((method) => console[method]);
  for (const method of methods) console[method] = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  const record = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  diag.setLogger({ error: record, warn: record, info: record, debug: record, verbose: record }, DiagLogLevel.ALL);
  lines.length = 0; // the API's own note that a logger was registered
  return {
    lines,
    restore() {
      methods.forEach((method, index) => {
        console[method] = originals[index] as (typeof console)[typeof method];
      });
      diag.disable();
    },
  };
}

describe('hostile receipts', () => {
  let server: MetricsServer;
  let telemetry: PushTelemetry;
  let logs: ReturnType<typeof captureLogs>;
  /** The series that legitimate receipts made before the hostile ones came. */
  let baseline: string[];

  before(async () => {
    logs = captureLogs();
    telemetry = new PushTelemetry();
    server = await startMetricsServer({ telemetry, port: 0, receipts: { apps: APPS, secret: SECRET } });
    // One good receipt per allowed app on two providers, so the series a hostile receipt could grow exist already.
    for (const app of APPS)
      for (const provider of ['fcm', 'webpush']) {
        const stamp = createReceiptStamp(provider, { app, secret: SECRET });
        assert.equal((await post(server, JSON.stringify({ ...stamp, event: 'delivered' }))).status, 204);
      }
    baseline = deviceSeries((await scrape(server)).samples);
    // Every allowed app × known provider × event from the start; the latency histograms of the two providers used.
    assert.equal(baseline.length, 2 * 6 * 3 + 2 * 2 * (19 + 2));
  });

  after(async () => {
    logs.restore();
    await server.close();
    agent.destroy();
  });

  it('fast-check: arbitrary JSON bodies never add a series and never answer 5xx', async () => {
    const hostileReceipt = fc.record(
      {
        provider: fc.oneof(fc.constantFrom(...KNOWN_PROVIDERS, 'FCM', 'fcm ', '__proto__', 'constructor'), fc.string()),
        app: fc.oneof(fc.constantFrom(...APPS, 'toString', '__proto__', `${MARKER}`), fc.string(), fc.integer()),
        event: fc.oneof(fc.constantFrom(...DEVICE_RECEIPT_EVENTS, 'hasOwnProperty', MARKER), fc.string()),
        sentAt: fc.oneof(
          fc.constant(Date.now()),
          fc.integer(),
          fc.double(),
          fc.string(),
          fc.constant(Number.MAX_SAFE_INTEGER),
        ),
        sig: fc.oneof(fc.string(), fc.base64String(), fc.constant(MARKER), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      hostileReceipt,
      fc.array(hostileReceipt, { minLength: 0, maxLength: 120 }),
      fc.jsonValue(),
      fc.array(fc.jsonValue(), { maxLength: 5 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const answer = await post(server, JSON.stringify(value));
        assert.ok([400, 413, 422].includes(answer.status), `status ${answer.status}`);
        assert.ok(!answer.text.includes(MARKER), 'the answer echoes the request');
      }),
      { numRuns: 400 },
    );
    const { text, samples } = await scrape(server);
    assert.deepEqual(deviceSeries(samples), baseline);
    assertAllowedLabels(samples);
    assert.ok(!text.includes(MARKER));
  });

  it('fast-check: arbitrary bytes are a 400 (malformed) or 413, never a series', async () => {
    const before = rejected((await scrape(server)).samples);
    let refusedWhole = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        const answer = await post(server, Buffer.from(bytes));
        assert.ok([400, 413, 422].includes(answer.status), `status ${answer.status}`);
        if (answer.status === 400) assert.equal(JSON.parse(answer.text).reason, 'malformed');
        if (answer.status !== 422) refusedWhole++;
      }),
      { numRuns: 300 },
    );
    const { samples } = await scrape(server);
    assert.deepEqual(deviceSeries(samples), baseline);
    const after = rejected(samples);
    assert.ok((after.malformed as number) - (before.malformed as number) <= 300);
    assert.ok((after.malformed as number) - (before.malformed as number) >= refusedWhole);
  });

  it('a flood of 5,000 distinct apps and 2,000 distinct providers adds no series', async () => {
    const before = rejected((await scrape(server)).samples);
    const now = Date.now();
    const batches: object[][] = [];
    for (let i = 0; i < 5000; i += 100)
      batches.push(
        Array.from({ length: 100 }, (_, j) => ({ provider: 'fcm', app: `app.${i + j}`, event: 'opened', sentAt: now })),
      );
    for (let i = 0; i < 2000; i += 100)
      batches.push(
        Array.from({ length: 100 }, (_, j) => ({ provider: `p${i + j}`, app: APPS[0], event: 'opened', sentAt: now })),
      );
    for (let i = 0; i < batches.length; i += 8)
      await Promise.all(
        batches
          .slice(i, i + 8)
          .map(async (batch) => assert.equal((await post(server, JSON.stringify(batch))).status, 422)),
      );
    const { samples } = await scrape(server);
    assert.deepEqual(deviceSeries(samples), baseline);
    const after = rejected(samples);
    assert.equal((after.unknown_app as number) - (before.unknown_app as number), 5000);
    assert.equal((after.unknown_provider as number) - (before.unknown_provider as number), 2000);
    // The reason label has its fixed values and no other.
    assert.deepEqual(
      samples.filter((s) => s.name === 'push_device_receipts_rejected_total').map((s) => s.labels.reason),
      [...RECEIPT_REJECT_REASONS],
    );
  });

  it('names from Object.prototype are unknown values, not lookups', async () => {
    const now = Date.now();
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const answer = await post(
      server,
      JSON.stringify(
        names.flatMap((name) => [
          { provider: name, app: APPS[0], event: 'opened', sentAt: now },
          { provider: 'fcm', app: name, event: 'opened', sentAt: now },
          { provider: 'fcm', app: APPS[0], event: name, sentAt: now },
        ]),
      ),
    );
    assert.equal(answer.status, 422);
    const reasons = (JSON.parse(answer.text) as { rejected: { reason: string }[] }).rejected.map((r) => r.reason);
    assert.deepEqual(
      reasons,
      names.flatMap(() => ['unknown_provider', 'unknown_app', 'unknown_event']),
    );
  });

  it('refuses a body over the cap: by Content-Length before reading it, or as it streams in', async () => {
    const before = rejected((await scrape(server)).samples);
    const big = JSON.stringify({ padding: 'x'.repeat(40_000) });
    const declared = await post(server, big);
    assert.equal(declared.status, 413);
    assert.equal(declared.headers.connection, 'close');
    assert.equal(JSON.parse(declared.text).reason, 'too_large');

    // Chunked, no Content-Length: the cap applies to what has arrived.
    const streamed = await new Promise<Answer>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: RECEIPTS_PATH, agent: false },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode as number, headers: res.headers, text }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      const write = () => {
        while (sent < 200_000) {
          sent += 4096;
          if (!req.write('x'.repeat(4096))) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
    assert.equal(streamed.status, 413);
    const tooMany = Array.from({ length: 101 }, () => ({}));
    const overCount = await post(server, JSON.stringify(tooMany));
    assert.equal(overCount.status, 413);
    assert.match(JSON.parse(overCount.text).error, /more than 100 receipts/);
    const after = rejected((await scrape(server)).samples);
    assert.equal((after.too_large as number) - (before.too_large as number), 3);
  });

  it('malformed JSON is a clear 400 that does not echo the body', async () => {
    const answer = await post(server, `{"provider":"fcm","app":"${MARKER}",`);
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(answer.text), { error: 'body is not valid JSON', reason: 'malformed' });
    const empty = await post(server, '');
    assert.equal(empty.status, 400);
    const emptyArray = await post(server, '[]');
    assert.deepEqual(JSON.parse(emptyArray.text), { error: 'empty array of receipts', reason: 'malformed' });
    for (const value of ['null', '42', '"fcm"', 'true', '{}', '{"provider":1}']) {
      const scalar = await post(server, value);
      assert.equal(scalar.status, 422, value);
      assert.equal(JSON.parse(scalar.text).rejected[0].reason, 'malformed');
    }
  });

  it('sentAt outside [now − 7 d, now + 5 min] is refused as stale or future; inside, counted', async () => {
    const at = (sentAt: number, event = 'opened') => ({
      ...createReceiptStamp('fcm', { app: APPS[0] as string, secret: SECRET, sentAt }),
      event,
    });
    const now = Date.now();
    const answer = await post(
      server,
      JSON.stringify([
        at(now - RECEIPT_MAX_AGE_MS - 60_000),
        at(now + RECEIPT_MAX_AHEAD_MS + 60_000),
        at(now - RECEIPT_MAX_AGE_MS + 60_000),
        at(now + RECEIPT_MAX_AHEAD_MS - 60_000),
        at(0),
        { ...at(0), sentAt: -1 },
        { ...at(now), sentAt: now + 0.5 },
        { ...at(now), sentAt: String(now) },
      ]),
    );
    assert.equal(answer.status, 422);
    const body = JSON.parse(answer.text) as { accepted: number; rejected: { index: number; reason: string }[] };
    assert.equal(body.accepted, 2);
    assert.deepEqual(body.rejected, [
      { index: 0, reason: 'stale' },
      { index: 1, reason: 'future' },
      { index: 4, reason: 'stale' },
      { index: 5, reason: 'stale' },
      { index: 6, reason: 'malformed' },
      { index: 7, reason: 'malformed' },
    ]);
  });

  it('fast-check: forged signatures never count', async () => {
    const { samples: beforeSamples } = await scrape(server);
    const opened = () =>
      valueOf(beforeSamples, 'push_device_receipts_total', {
        provider: 'fcm',
        app: APPS[0] as string,
        event: 'opened',
      });
    const openedBefore = opened() ?? 0;
    const genuine = createReceiptStamp('fcm', { app: APPS[0] as string, secret: SECRET });
    const forged = fc.oneof(
      fc.string({ minLength: 43, maxLength: 43 }),
      fc
        .base64String({ minLength: 44, maxLength: 44 })
        .map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').slice(0, 43)),
      fc.string(),
      // The genuine signature with one character changed.
      fc.nat({ max: 42 }).map((i) => {
        const sig = genuine.sig as string;
        return `${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`;
      }),
      // A real signature of another app or time.
      fc.constant(createReceiptStamp('fcm', { app: APPS[1] as string, secret: SECRET, sentAt: genuine.sentAt }).sig),
      fc.constant(
        createReceiptStamp('fcm', { app: APPS[0] as string, secret: SECRET, sentAt: genuine.sentAt + 1 }).sig,
      ),
      fc.constant(
        createReceiptStamp('fcm', { app: APPS[0] as string, secret: `${SECRET}x`, sentAt: genuine.sentAt }).sig,
      ),
    );
    await fc.assert(
      fc.asyncProperty(forged, async (sig) => {
        fc.pre(sig !== genuine.sig);
        const answer = await post(server, JSON.stringify({ ...genuine, sig, event: 'opened' }));
        assert.equal(answer.status, 422);
        assert.equal(JSON.parse(answer.text).rejected[0].reason, 'bad_signature');
      }),
      { numRuns: 300 },
    );
    const { samples } = await scrape(server);
    const openedAfter = valueOf(samples, 'push_device_receipts_total', {
      provider: 'fcm',
      app: APPS[0] as string,
      event: 'opened',
    });
    assert.equal(openedAfter ?? 0, openedBefore);
    assert.equal((await post(server, JSON.stringify({ ...genuine, event: 'opened' }))).status, 204);
  });

  it('wrote nothing to any log while refusing all of the above', () => {
    assert.deepEqual(logs.lines, []);
    assert.deepEqual(telemetry.health().problems, []);
  });
});
