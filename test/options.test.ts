import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { PushTelemetry, startMetricsServer } from '../src/index.js';

const send = async () => 'ok';

describe('bad input is a TypeError at construction time, naming the option', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['options not an object', () => new PushTelemetry('fcm' as never), /options must be an object/],
    [
      'an unknown option',
      () => new PushTelemetry({ regsitry: new Registry() } as never),
      /unknown option "regsitry"; expected one of registry, tracerProvider/,
    ],
    [
      'a registry that is not a Registry',
      () => new PushTelemetry({ registry: {} as never }),
      /options\.registry must be a prom-client Registry, got an object/,
    ],
    [
      'a tracer provider without getTracer',
      () => new PushTelemetry({ tracerProvider: {} as never }),
      /options\.tracerProvider must be an OpenTelemetry TracerProvider/,
    ],
    ['a malformed app', () => new PushTelemetry({ app: 'my app!' }), /options\.app must be an app name/],
    [
      'exemplars not a boolean',
      () => new PushTelemetry({ exemplars: 'yes' as never }),
      /options\.exemplars must be a boolean/,
    ],
    [
      'tokenHash without a secret',
      () => new PushTelemetry({ tokenHash: {} as never }),
      /options\.tokenHash\.secret must be a string or Uint8Array of at least 16 bytes/,
    ],
    [
      'tokenHash with a short secret',
      () => new PushTelemetry({ tokenHash: { secret: 'short' } }),
      /at least 16 bytes.*got 5 bytes/,
    ],
    [
      'tokenHash with a bad length',
      () => new PushTelemetry({ tokenHash: { secret: 'x'.repeat(32), length: 100 } }),
      /options\.tokenHash\.length must be a whole number of hex characters from 8 to 64/,
    ],
    [
      'tokenHash: true',
      () => new PushTelemetry({ tokenHash: true as never }),
      /options\.tokenHash must be \{ secret, length\? \} or false/,
    ],
  ];
  for (const [what, construct, message] of cases) {
    it(`new PushTelemetry with ${what}`, () =>
      assert.throws(construct, (error: unknown) => error instanceof TypeError && message.test(error.message)));
  }

  const telemetry = new PushTelemetry();
  const wrapCases: Array<[string, () => unknown, RegExp]> = [
    [
      'a non-function sender',
      () => telemetry.wrapSender('send' as never, { provider: 'fcm' }),
      /fn must be the sender function, got "send"/,
    ],
    [
      'no options',
      () => telemetry.wrapSender(send, undefined as never),
      /options must be an object with at least \{ provider \}/,
    ],
    [
      'a missing provider',
      () => telemetry.wrapSender(send, {} as never),
      /options\.provider must be a provider name .*got undefined/,
    ],
    [
      'an upper-case provider',
      () => telemetry.wrapSender(send, { provider: 'FCM' }),
      /options\.provider must be .*\[a-z\]\[a-z0-9_\]\{0,31\}.*got "FCM"/,
    ],
    ['a provider with a dash', () => telemetry.wrapSender(send, { provider: 'web-push' }), /options\.provider/],
    ['a 33-character provider', () => telemetry.wrapSender(send, { provider: 'p'.repeat(33) }), /options\.provider/],
    [
      'an operation in camelCase',
      () => telemetry.wrapSender(send, { provider: 'fcm', operation: 'sendEach' }),
      /options\.operation must be a snake_case SDK method name/,
    ],
    ['an app with a space', () => telemetry.wrapSender(send, { provider: 'fcm', app: 'a b' }), /options\.app/],
    [
      'a non-function classify',
      () => telemetry.wrapSender(send, { provider: 'fcm', classify: 'auth' as never }),
      /options\.classify must be a function, got "auth"/,
    ],
    [
      'a non-function settle',
      () => telemetry.wrapSender(send, { provider: 'fcm', settle: {} as never }),
      /options\.settle must be a function/,
    ],
    [
      'an unknown option',
      () => telemetry.wrapSender(send, { provider: 'fcm', retries: 3 } as never),
      /unknown option "retries"/,
    ],
  ];
  for (const [what, wrap, message] of wrapCases) {
    it(`wrapSender with ${what}`, () =>
      assert.throws(wrap, (error: unknown) => error instanceof TypeError && message.test(error.message)));
  }

  it('does not echo a long secret-looking value back in the message', () => {
    const token = 'x'.repeat(200);
    assert.throws(
      () => telemetry.wrapSender(send, { provider: token }),
      (error: unknown) =>
        error instanceof TypeError &&
        !error.message.includes(token) &&
        /a string of 200 characters/.test(error.message),
    );
  });

  it('startMetricsServer checks its options', async () => {
    await assert.rejects(startMetricsServer({} as never), /options\.telemetry must be a PushTelemetry instance/);
    await assert.rejects(
      startMetricsServer({ telemetry, port: 70000 }),
      /options\.port must be a whole number from 0 to 65535/,
    );
    await assert.rejects(startMetricsServer({ telemetry, prot: 1 } as never), /unknown option "prot"/);
  });

  it('accepts every contract provider and a custom one', () => {
    for (const provider of ['fcm', 'apns', 'webpush', 'expo', 'sns', 'my_sms_gateway', 'p'.repeat(32)]) {
      assert.equal(typeof telemetry.wrapSender(send, { provider }), 'function');
    }
  });
});

describe('registries', () => {
  it("never registers on prom-client's global registry implicitly", async () => {
    const { register } = await import('prom-client');
    new PushTelemetry().wrapSender(send, { provider: 'fcm' });
    assert.equal(register.getSingleMetric('push_messages_total'), undefined);
  });

  it('lets two instances share one registry, adding up equal series', async () => {
    const registry = new Registry();
    const a = new PushTelemetry({ registry });
    const b = new PushTelemetry({ registry, app: 'other' });
    await a.wrapSender(send, { provider: 'fcm' })();
    await b.wrapSender(send, { provider: 'fcm', app: undefined })();
    await a.wrapSender(send, { provider: 'fcm', app: 'other' })();
    const text = await registry.metrics();
    assert.match(text, /^push_messages_total\{provider="fcm",outcome="accepted"\} 1$/m);
    assert.match(text, /^push_messages_total\{provider="fcm",app="other",outcome="accepted"\} 2$/m);
    assert.equal(text.match(/^# TYPE push_messages_total counter$/gm)?.length, 1);
  });

  it('serves metrics through registry.metrics() and getMetricsAsJSON() too', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'notifier' });
    const telemetry = new PushTelemetry({ registry });
    await telemetry.wrapSender(send, { provider: 'apns' })();
    assert.match(
      await registry.metrics(),
      /^push_messages_total\{provider="apns",outcome="accepted",service="notifier"\} 1$/m,
    );
    const json = await registry.getMetricsAsJSON();
    const messages = json.find((m) => m.name === 'push_messages_total');
    assert.deepEqual(messages?.values[0], {
      labels: { provider: 'apns', outcome: 'accepted', service: 'notifier' },
      value: 1,
    });
  });

  it('refuses a registry whose metric names are taken by something else', () => {
    const registry = new Registry();
    registry.registerMetric(
      new (class {
        name = 'push_messages_total';
        help = 'x';
        get = async () => ({});
      })() as never,
    );
    assert.throws(
      () => new PushTelemetry({ registry }),
      /options\.registry already has push_messages_total registered/,
    );
  });

  it('keeps user metrics on the same registry', async () => {
    const { Counter } = await import('prom-client');
    const registry = new Registry();
    const mine = new Counter({ name: 'my_app_jobs_total', help: 'jobs', registers: [registry] });
    mine.inc(3);
    const telemetry = new PushTelemetry({ registry });
    telemetry.wrapSender(send, { provider: 'fcm' });
    const { scrape } = await import('./helpers.js');
    const { text } = await scrape(telemetry);
    assert.match(text, /^my_app_jobs_total 3$/m);
    assert.match(text, /^push_telemetry_info\{version="[^"]+"\} 1$/m);
  });
});
