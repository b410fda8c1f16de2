import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MeterProvider,
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { OTEL_METRIC_NAMES, PushTelemetry } from '../src/index.js';
import { httpError, scrape, valueOf, type Sample } from './helpers.js';

interface Push {
  readonly token: string;
  readonly kind?: string;
  readonly fail?: number;
}

const GROUPS = ['transactional', 'marketing', 'reminder'];

function sum(samples: readonly Sample[], name: string, where: (labels: Readonly<Record<string, string>>) => boolean) {
  return samples.filter((s) => s.name === name && where(s.labels)).reduce((total, s) => total + s.value, 0);
}

describe('the group label', () => {
  it('counts each call under the group its hook names, undeclared values and a throwing hook as other', async () => {
    const telemetry = new PushTelemetry({ groups: GROUPS });
    const send = telemetry.wrapSender(
      async (push: Push) => {
        if (push.fail !== undefined) throw httpError(push.fail);
        return 'id';
      },
      {
        provider: 'fcm',
        tokens: ([push]) => [push.token],
        group: ([push]) => {
          if (push.kind === 'boom') throw new Error(`hook failed for ${push.token}`);
          return push.kind;
        },
      },
    );
    await send({ token: 't1', kind: 'marketing' });
    await send({ token: 't2', kind: 'marketing' });
    await assert.rejects(send({ token: 't3', kind: 'marketing', fail: 404 }));
    await send({ token: 't4', kind: 'transactional' });
    await send({ token: 't5', kind: 'campaign-x-user-42' });
    await send({ token: 't6' });
    await send({ token: 't7', kind: 'boom' });
    const { samples, text } = await scrape(telemetry);
    const messages = (group: string, outcome: string, error_type?: string) =>
      valueOf(samples, 'push_messages_total', {
        provider: 'fcm',
        group,
        outcome,
        ...(error_type !== undefined && { error_type }),
      });
    assert.equal(messages('marketing', 'accepted'), 2);
    assert.equal(messages('marketing', 'failed', 'unregistered'), 1);
    assert.equal(messages('transactional', 'accepted'), 1);
    assert.equal(messages('reminder', 'accepted'), 0, 'every declared group has its series from the start');
    assert.equal(messages('other', 'accepted'), 3);
    // The duration histogram carries the group; no other metric does.
    const count = (group: string, outcome: string) =>
      valueOf(samples, 'push_request_duration_seconds_count', { provider: 'fcm', operation: 'send', group, outcome });
    assert.equal(count('marketing', 'success'), 2);
    assert.equal(count('marketing', 'failure'), 1);
    assert.equal(count('other', 'success'), 3);
    for (const sample of samples) {
      if (!/^push_(messages_total|request_duration_seconds)/.test(sample.name))
        assert.equal(sample.labels.group, undefined, sample.name);
    }
    assert.ok(!text.includes('campaign-x-user-42'), 'an undeclared value never becomes a label');
    const groups = new Set(samples.map((s) => s.labels.group).filter((g) => g !== undefined));
    assert.deepEqual([...groups].sort(), ['marketing', 'other', 'reminder', 'transactional']);
    const { problems } = telemetry.health();
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.kind, 'group');
    assert.ok(!JSON.stringify(problems).includes('t7'), 'the problem log never names the call token');
  });

  it('takes a fixed group per sender, through wrapSender and an adapter option alike', async () => {
    const telemetry = new PushTelemetry({ groups: GROUPS, app: 'shop' });
    const marketing = telemetry.wrapSender(async () => 'ok', {
      provider: 'sns',
      operation: 'publish',
      group: 'marketing',
    });
    const plain = telemetry.wrapSender(async () => 'ok', { provider: 'sns', operation: 'publish' });
    await marketing();
    await marketing();
    await plain();
    const { samples } = await scrape(telemetry);
    const accepted = (labels: Record<string, string>) =>
      valueOf(samples, 'push_messages_total', { provider: 'sns', app: 'shop', outcome: 'accepted', ...labels });
    assert.equal(accepted({ group: 'marketing' }), 2);
    // A sender wrapped without a group keeps today's series, without the label.
    assert.equal(accepted({}), 1);
    assert.equal(
      valueOf(samples, 'push_requests_in_flight', { provider: 'sns', app: 'shop' }),
      0,
      'one in-flight series per (provider, app)',
    );
  });

  it('changes nothing when no groups are declared', async () => {
    const telemetry = new PushTelemetry();
    const send = telemetry.wrapSender(async () => 'ok', { provider: 'fcm' });
    await send();
    const { samples } = await scrape(telemetry);
    assert.ok(samples.every((s) => s.labels.group === undefined));
    assert.equal(valueOf(samples, 'push_messages_total', { provider: 'fcm', outcome: 'accepted' }), 1);
  });

  it('rejects bad groups and group options at construction, naming the option', () => {
    const bad: Array<[unknown, RegExp]> = [
      ['marketing', /options\.groups must be an array/],
      [[], /options\.groups must be an array of 1 to 20/],
      [Array.from({ length: 21 }, (_, i) => `g${i}`), /1 to 20 group names/],
      [['Marketing'], /options\.groups\[0\] must be a group name/],
      [['ok', 'a-b'], /options\.groups\[1\]/],
      [['other'], /"other" is implied/],
      [['a', 'a'], /"a" is declared twice/],
    ];
    for (const [groups, message] of bad)
      assert.throws(() => new PushTelemetry({ groups: groups as string[] }), { name: 'TypeError', message });
    const none = new PushTelemetry();
    assert.throws(() => none.wrapSender(async () => 1, { provider: 'fcm', group: 'marketing' }), /declared first/);
    const some = new PushTelemetry({ groups: GROUPS });
    assert.throws(
      () => some.wrapSender(async () => 1, { provider: 'fcm', group: 'promo' }),
      /one of the declared groups/,
    );
    assert.throws(
      () => some.wrapSender(async () => 1, { provider: 'fcm', group: 7 as unknown as string }),
      /a group name or a function/,
    );
  });

  it('reports the group on the OpenTelemetry twins as push.group', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const telemetry = new PushTelemetry({ groups: GROUPS, meterProvider });
    const send = telemetry.wrapSender(async (_kind: string) => 'ok', { provider: 'fcm', group: ([kind]) => kind });
    await send('marketing');
    await send('marketing');
    await send('transactional');
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics));
    const sent = metrics.find((m) => m.descriptor.name === OTEL_METRIC_NAMES.sentMessages);
    const accepted = (group: string) =>
      sent?.dataPoints
        .filter((p) => p.attributes['push.group'] === group && p.attributes['push.outcome'] === 'accepted')
        .reduce((total, p) => total + (p.value as number), 0);
    assert.equal(accepted('marketing'), 2);
    assert.equal(accepted('transactional'), 1);
    const duration = metrics.find((m) => m.descriptor.name === OTEL_METRIC_NAMES.duration);
    const marketingCalls = duration?.dataPoints
      .filter((p) => p.attributes['push.group'] === 'marketing')
      .reduce((total, p) => total + (p.value as { count: number }).count, 0);
    assert.equal(marketingCalls, 2);
    await meterProvider.shutdown();
  });
});

describe('the group label on an adapter', () => {
  it('passes the adapter option through to every instrumented method', async () => {
    const { instrumentWebPush } = await import('../src/index.js');
    const telemetry = new PushTelemetry({ groups: GROUPS });
    const client = {
      sendNotification: async (_subscription: { endpoint: string }, _payload: string) => ({ statusCode: 201 }),
    };
    const view = instrumentWebPush(client, telemetry, {
      group: (args) => (args[1] === 'sale' ? 'marketing' : 'transactional'),
    });
    await view.sendNotification({ endpoint: 'https://push.example/a' }, 'sale');
    await view.sendNotification({ endpoint: 'https://push.example/b' }, 'receipt');
    const { samples } = await scrape(telemetry);
    const accepted = (group: string) =>
      sum(samples, 'push_messages_total', (l) => l.group === group && l.outcome === 'accepted');
    assert.equal(accepted('marketing'), 1);
    assert.equal(accepted('transactional'), 1);
    assert.throws(() => instrumentWebPush(client, telemetry, { group: 'promo' }), /one of the declared groups/);
  });
});
