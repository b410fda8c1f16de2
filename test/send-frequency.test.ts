import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PushTelemetry, RECIPIENT_SENDS_BUCKETS } from '../src/index.js';
import { emptySnapshot, frequencyBytes, RecipientFrequency } from '../src/metrics/recipient-frequency.js';
import { HASHED, KeyedHash } from '../src/metrics/keyed-hash.js';
import { scrape, valueOf } from './helpers.js';
import { parseOpenMetrics, parsePrometheusText } from './openmetrics-parser.js';

const HOUR = 3_600_000;
const KEYS: ReadonlyArray<readonly [number, number]> = [
  [0x1234_5678, -0x0edc_ba99],
  [0x0bad_f00d, 0x7eed_beef],
  [-0x2152_4111, 0x0c0f_fee5],
];

function token(i: number): string {
  // FCM-shaped: an instance id, a colon, then the long registration part.
  return `c${i.toString(36).padStart(10, '0')}:APA91b${'Q'.repeat(120)}${i.toString(16).padStart(12, '0')}`;
}

function gc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('the keyed hash', () => {
  it('hashes equal tokens equal and depends on the key, whatever the length', () => {
    const a = new KeyedHash(KEYS[0]);
    const b = new KeyedHash(KEYS[1]);
    const of = (hash: KeyedHash, value: string) => {
      hash.hash(value);
      return `${HASHED.hi}:${HASHED.lo}`;
    };
    for (const value of ['', 'x', 'abcd', 'abcde', token(1), 'y'.repeat(5000)]) {
      // A longer token hashed in between must not leak into the next one's last word.
      const first = of(a, value);
      of(a, `${value}zzzzzzzz`);
      assert.equal(of(a, value), first, value.slice(0, 10));
      assert.notEqual(of(b, value), first);
    }
    assert.notEqual(of(a, 'abcd'), of(a, 'abce'));
    assert.notEqual(of(a, 'y'.repeat(5000)), of(a, `${'y'.repeat(4999)}z`));
  });
});

describe('RecipientFrequency', () => {
  it('counts every recipient exactly while the audience fits the sample', () => {
    const frequency = new RecipientFrequency(1024, 3, KEYS[0]);
    // Recipient i gets (i % 7) + 1 pushes: 1 to 7.
    for (let i = 0; i < 700; i++) for (let n = 0; n <= i % 7; n++) frequency.record(token(i), 1000 + n);
    const snapshot = frequency.snapshot(2000, emptySnapshot());
    assert.equal(frequency.level, 0);
    assert.equal(snapshot.count, 700);
    assert.equal(snapshot.sum, 100 * (1 + 2 + 3 + 4 + 5 + 6 + 7));
    // Buckets 1, 2, 3, 5, 10, 20, 50, +Inf (non-cumulative): 1 | 2 | 3 | 4,5 | 6,7 | – | – | –.
    assert.deepEqual([...snapshot.buckets], [100, 100, 100, 200, 200, 0, 0, 0]);
    assert.equal(snapshot.overCap, 400, 'more than 3 pushes: 4, 5, 6 and 7');
  });

  it('keeps the last 24 hours at one-hour resolution', () => {
    const frequency = new RecipientFrequency(256, 5, KEYS[1]);
    const at = (hours: number) => hours * HOUR + 1;
    frequency.record('early', at(0));
    frequency.record('late', at(10));
    frequency.record('late', at(20));
    const seen = (hours: number) => frequency.snapshot(at(hours), emptySnapshot());
    assert.deepEqual([seen(23).count, seen(23).sum], [2, 3]);
    assert.deepEqual([seen(24).count, seen(24).sum], [1, 2], 'the push of hour 0 leaves the window at hour 24');
    assert.deepEqual([seen(34).count, seen(34).sum], [1, 1]);
    assert.deepEqual([seen(100).count, seen(100).sum], [0, 0]);
    assert.equal(frequency.size, 0, 'recipients with nothing left in the window are dropped');
  });

  it('saturates a recipient at 255 pushes an hour instead of wrapping', () => {
    const frequency = new RecipientFrequency(256, 5, KEYS[2]);
    for (let n = 0; n < 300; n++) frequency.record('busy', 5);
    assert.equal(frequency.snapshot(6, emptySnapshot()).sum, 255);
  });

  it('walks the sample once for back-to-back snapshots, and again after any push, take-back or new hour', () => {
    const frequency = new RecipientFrequency(256, 1, KEYS[2]);
    frequency.record('a', 5);
    const first = frequency.snapshot(6, emptySnapshot());
    assert.deepEqual(frequency.snapshot(7, emptySnapshot()), first, 'nothing changed: the same counts');
    frequency.record('a', 8);
    frequency.record('b', 9);
    assert.deepEqual(
      [frequency.snapshot(10, emptySnapshot())].map(({ count, sum, overCap }) => ({ count, sum, overCap })),
      [{ count: 2, sum: 3, overCap: 1 }],
      'a push after a snapshot shows in the next one',
    );
    frequency.unrecord('b', 11);
    assert.equal(frequency.snapshot(12, emptySnapshot()).count, 1, 'and so does a take-back');
    assert.equal(frequency.snapshot(25 * 3_600_000, emptySnapshot()).count, 0, 'and the window moving on');
  });

  it('stays within its error bound over a million recipients, in the same bytes it started with', () => {
    const collect = gc();
    const capacity = 4096;
    // 5% of recipients get 8 pushes (over a cap of 5), 15% get 3, the rest 1.
    const recipients = 1_000_000;
    const sendsOf = (i: number) => (i % 20 === 0 ? 8 : i % 20 < 4 ? 3 : 1);
    const truth = { overCap: 0.05, sum: recipients * (0.05 * 8 + 0.15 * 3 + 0.8 * 1) };
    for (const key of KEYS) {
      const frequency = new RecipientFrequency(capacity, 5, key);
      assert.equal(frequency.bytes, frequencyBytes(capacity));
      assert.equal(frequency.bytes, 40 * capacity);
      collect();
      const before = process.memoryUsage();
      for (let n = 0; n < 8; n++) {
        for (let i = 0; i < recipients; i++) if (sendsOf(i) > n) frequency.record(token(i), 1000 + n);
      }
      collect();
      const after = process.memoryUsage();
      assert.equal(frequency.bytes, 40 * capacity, 'no growth');
      assert.ok(frequency.size <= capacity);
      // Nothing is kept per recipient: neither the heap nor the array buffers grew by more than V8's own noise.
      assert.ok(
        after.arrayBuffers - before.arrayBuffers < 64 * 1024,
        `array buffers +${after.arrayBuffers - before.arrayBuffers}`,
      );
      assert.ok(after.heapUsed - before.heapUsed < 2 * 1024 * 1024, `heap +${after.heapUsed - before.heapUsed}`);

      const snapshot = frequency.snapshot(2000, emptySnapshot());
      const sampled = frequency.size;
      assert.ok(sampled >= capacity / 2 - 256, `a sample of ${sampled} recipients at level ${frequency.level}`);
      // The documented bounds, at three standard errors of the sample.
      const countError = 3 * Math.sqrt(2 ** frequency.level / recipients);
      assert.ok(
        Math.abs(snapshot.count / recipients - 1) < countError,
        `recipients ${snapshot.count} vs ${recipients} (±${(countError * 100).toFixed(1)}%)`,
      );
      const share = snapshot.overCap / snapshot.count;
      const shareError = 3 * Math.sqrt((truth.overCap * (1 - truth.overCap)) / sampled);
      assert.ok(
        Math.abs(share - truth.overCap) < shareError,
        `share over cap ${share.toFixed(4)} vs ${truth.overCap} (±${shareError.toFixed(4)})`,
      );
      assert.ok(Math.abs(snapshot.sum / truth.sum - 1) < 2 * countError, `sends ${snapshot.sum} vs ${truth.sum}`);
    }
  });

  it('lowers its level again once a quiet day leaves the sample a quarter full', () => {
    const frequency = new RecipientFrequency(256, 5, KEYS[0]);
    for (let i = 0; i < 5000; i++) frequency.record(token(i), 10);
    const busy = frequency.level;
    assert.ok(busy >= 4, `level ${busy}`);
    for (let i = 0; i < 20; i++) frequency.record(`quiet-${i}`, 30 * HOUR);
    frequency.snapshot(31 * HOUR, emptySnapshot());
    assert.ok(frequency.level < busy);
  });
});

describe('sendFrequency on a PushTelemetry', () => {
  it('serves push_recipient_daily_sends and the share over the cap, counting only recipients the provider took', async () => {
    const telemetry = new PushTelemetry({ sendFrequency: { cap: 2 }, app: 'shop' });
    const send = telemetry.wrapSender(
      async (tokens: string[]) => ({
        ok: tokens.filter((t) => !t.startsWith('gone')).length,
        gone: tokens.filter((t) => t.startsWith('gone')),
      }),
      {
        provider: 'fcm',
        operation: 'send_each',
        tokens: ([tokens]) => tokens,
        settle: (result) => ({
          accepted: result.ok,
          failed: result.gone.map((t) => ({ errorType: 'unregistered' as const, token: t })),
        }),
      },
    );
    const topic = telemetry.wrapSender(async () => 'ok', { provider: 'fcm', operation: 'send_to_topic' });
    await send(['secret-a', 'secret-b', 'secret-c', 'gone-1']);
    await send(['secret-a', 'secret-b']);
    await send(['secret-a', 'gone-1']);
    await topic();
    const { samples, text } = await scrape(telemetry);
    const labels = { provider: 'fcm', app: 'shop' };
    const bucket = (le: string) => valueOf(samples, 'push_recipient_daily_sends_bucket', { ...labels, le });
    // secret-a 3, secret-b 2, secret-c 1; gone-1 was refused both times.
    assert.deepEqual([...RECIPIENT_SENDS_BUCKETS.map(String), '+Inf'].map(bucket), [1, 2, 3, 3, 3, 3, 3, 3]);
    assert.equal(valueOf(samples, 'push_recipient_daily_sends_count', labels), 3);
    assert.equal(valueOf(samples, 'push_recipient_daily_sends_sum', labels), 6);
    assert.equal(valueOf(samples, 'push_recipients_over_send_cap_ratio', labels), 1 / 3);
    assert.ok(!text.includes('secret-'), 'no token reaches the exposition');
    assert.ok(telemetry.health().ok);
  });

  it('passes the strict OpenMetrics and Prometheus text parsers, histogram invariants included', async () => {
    const telemetry = new PushTelemetry({ sendFrequency: { cap: 1 }, exemplars: true, groups: ['marketing'] });
    const send = telemetry.wrapSender(async (_t: string) => 'ok', {
      provider: 'fcm',
      tokens: ([t]) => [t],
      group: 'marketing',
    });
    for (const t of ['a', 'a', 'b', 'c', 'c', 'c']) await send(t);
    const open = await scrape(telemetry, 'application/openmetrics-text; version=1.0.0');
    const families = parseOpenMetrics(open.text);
    const daily = families.find((f) => f.name === 'push_recipient_daily_sends');
    assert.equal(daily?.type, 'histogram');
    assert.ok(families.some((f) => f.name === 'push_recipients_over_send_cap_ratio'));
    const plain = await scrape(telemetry);
    assert.ok(parsePrometheusText(plain.text).some((f) => f.name === 'push_recipient_daily_sends'));
    assert.equal(valueOf(plain.samples, 'push_recipients_over_send_cap_ratio', { provider: 'fcm' }), 2 / 3);
  });

  it('serves nothing of it when off, and nothing over the cap before the first push', async () => {
    const off = await scrape(new PushTelemetry());
    assert.ok(!off.samples.some((s) => s.name.startsWith('push_recipient')));
    const on = new PushTelemetry({ sendFrequency: true });
    on.wrapSender(async () => 'ok', { provider: 'apns', tokens: () => ['t'] });
    const { samples } = await scrape(on);
    assert.equal(valueOf(samples, 'push_recipient_daily_sends_count', { provider: 'apns' }), 0);
    assert.equal(valueOf(samples, 'push_recipients_over_send_cap_ratio', { provider: 'apns' }), undefined);
  });

  it('rejects bad options at construction, and instances on one registry that disagree', () => {
    const bad: Array<[unknown, RegExp]> = [
      [5, /options\.sendFrequency must be \{ cap\?, sampleSize\? \}/],
      [{ cap: 0 }, /options\.sendFrequency\.cap must be a whole number/],
      [{ cap: 2.5 }, /cap must be/],
      [{ sampleSize: 10 }, /options\.sendFrequency\.sampleSize must be a whole number of recipients from 256/],
      [{ window: '1d' }, /unknown option "window"/],
    ];
    for (const [sendFrequency, message] of bad)
      assert.throws(() => new PushTelemetry({ sendFrequency: sendFrequency as never }), { name: 'TypeError', message });
    // OTLP-only: the hash on every message would feed nothing.
    assert.throws(
      () => new PushTelemetry({ sendFrequency: { cap: 5 }, registry: false, meterProvider: new MeterProvider() }),
      { name: 'TypeError', message: /options\.sendFrequency needs the Prometheus metrics/ },
    );
    const first = new PushTelemetry({ sendFrequency: { cap: 5 } });
    first.wrapSender(async () => 1, { provider: 'fcm' });
    const second = new PushTelemetry({ registry: first.registry, sendFrequency: { cap: 9 } });
    assert.throws(() => second.wrapSender(async () => 1, { provider: 'fcm' }), /must use the same sendFrequency/);
  });
});
