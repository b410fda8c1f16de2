/**
 * instrumentOneSignal with the real @onesignal/node-onesignal SDK against the simulator's OneSignal fake (and, for
 * answers the fake never gives, a loopback server with one canned answer): the code table row by row, per-recipient
 * and whole-call verdicts, segment sends, retries, transport failures and spans.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { DefaultApi, FilterExpression } from '@onesignal/node-onesignal';
import { ERROR_TYPES, PushTelemetry, type ErrorType, type InvalidTokenEvent } from '../src/index.js';
import {
  classifyOneSignalError,
  instrumentOneSignal,
  ONESIGNAL_ERROR_TYPES,
  oneSignalReason,
} from '../src/providers/onesignal.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan, type FaultRule } from '../src/simulator/faults.js';
import { startFakeOneSignal } from '../src/simulator/onesignal.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { startWholeCallServer, type WholeCallServer } from './fixtures/whole-call-no-prune.js';
import { closedPort, createTracing, scrape, valueOf, type Sample, type Tracing } from './helpers.js';
import { notificationTo, ONESIGNAL_APP_ID, oneSignalClient } from './onesignal-client.js';

const APP = 'com.example.app';
const CREATE = 'create_notification onesignal';
const NO_SUBSCRIBERS = 'All included players are not subscribed';

let fake: FakeProvider;
let canned: WholeCallServer;
let tracing: Tracing;

before(async () => {
  fake = await startFakeOneSignal({
    host: '127.0.0.1',
    port: 0,
    identity: await loopbackIdentity(),
    faults: new FaultPlan(),
  });
  canned = await startWholeCallServer();
  tracing = createTracing();
});
after(async () => {
  await fake.close();
  await canned.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.exporter.reset());

interface Setup {
  readonly telemetry: PushTelemetry;
  readonly raw: DefaultApi;
  readonly client: DefaultApi;
  readonly events: InvalidTokenEvent[];
}

function setup(rules: readonly FaultRule[], url = fake.url, timeoutMs?: number): Setup {
  fake.faults.set({ rules });
  const events: InvalidTokenEvent[] = [];
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, app: APP, invalidTokenGuard: false });
  const raw = oneSignalClient(url, timeoutMs === undefined ? {} : { timeoutMs });
  const client = instrumentOneSignal(raw, telemetry, { onInvalidToken: (event) => void events.push(event) });
  return { telemetry, raw, client, events };
}

interface Counts {
  readonly accepted: number;
  readonly failed: Partial<Record<ErrorType, number>>;
}

function messageCounts(samples: readonly Sample[]): Counts {
  const failed: Partial<Record<ErrorType, number>> = {};
  const labels = { provider: 'onesignal', app: APP };
  for (const type of ERROR_TYPES) {
    const value = valueOf(samples, 'push_messages_total', { ...labels, outcome: 'failed', error_type: type }) ?? 0;
    if (value !== 0) failed[type] = value;
  }
  return { accepted: valueOf(samples, 'push_messages_total', { ...labels, outcome: 'accepted' }) ?? 0, failed };
}

function durations(samples: readonly Sample[], operation = 'create_notification'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const outcome of ['success', 'partial', 'failure']) {
    const labels = { provider: 'onesignal', app: APP, operation, outcome };
    const count = valueOf(samples, 'push_request_duration_seconds_count', labels) ?? 0;
    if (count !== 0) out[outcome] = count;
  }
  return out;
}

function onlySpan(name = CREATE): ReadableSpan {
  const spans = tracing.spans().filter((span) => span.name === name);
  assert.equal(spans.length, 1, `one ${name} span`);
  return spans[0] as ReadableSpan;
}

const verdicts = (events: readonly InvalidTokenEvent[]): string[] =>
  events.map((e) => `${e.token} ${e.errorType} ${e.reason ?? '-'}`).sort();

describe('ONESIGNAL_ERROR_TYPES', () => {
  it('is the documented table, row by row', () => {
    assert.deepEqual(ONESIGNAL_ERROR_TYPES, {
      invalid_player_ids: 'invalid_token',
      invalid_external_user_ids: 'invalid_token',
      invalid_aliases: 'invalid_token',
      NO_SUBSCRIBERS: 'unregistered',
      INVALID_ID_FORMAT: 'invalid_token',
      INVALID_API_KEY: 'auth',
      INVALID_APP_ID: 'config',
      NO_TARGETING_SPECIFIED: 'payload_invalid',
      SERVICE_UNAVAILABLE: 'provider_unavailable',
      NOT_CREATED: 'unknown',
      '400': 'payload_invalid',
      '401': 'auth',
      '403': 'auth',
      '404': 'config',
      '410': 'config',
      '413': 'payload_too_large',
      '429': 'rate_limited',
    });
  });

  it('classifyOneSignalError and oneSignalReason never throw, whatever they are given', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    for (const value of [undefined, null, 42, 'text', hostile, { code: 'x' }, { code: 999, body: 'x' }]) {
      assert.ok(ERROR_TYPES.includes(classifyOneSignalError(value)));
      assert.doesNotThrow(() => oneSignalReason(value));
    }
  });
});

describe('instrumentOneSignal: one recipient, every answer of the fake', () => {
  // The fake's answer for each fault, and what it is counted as. `rejects`: the SDK throws an ApiException.
  const rows: ReadonlyArray<{
    fault: FaultRule['fault'];
    type: ErrorType;
    reason: string;
    rejects?: number;
    prunes?: true;
  }> = [
    { fault: 'unregistered', type: 'unregistered', reason: 'NO_SUBSCRIBERS', prunes: true },
    { fault: 'invalid_token', type: 'invalid_token', reason: 'invalid_player_ids', prunes: true },
    { fault: 'auth', type: 'auth', reason: 'INVALID_API_KEY', rejects: 403 },
    { fault: 'config', type: 'config', reason: 'INVALID_APP_ID', rejects: 400 },
    { fault: 'payload_invalid', type: 'payload_invalid', reason: '400', rejects: 400 },
    { fault: 'payload_too_large', type: 'payload_too_large', reason: '413', rejects: 413 },
    { fault: 'rate_limited', type: 'rate_limited', reason: '429', rejects: 429 },
    { fault: 'provider_unavailable', type: 'provider_unavailable', reason: 'SERVICE_UNAVAILABLE', rejects: 503 },
    {
      fault: { status: 500, reason: 'Internal Server Error' },
      type: 'provider_unavailable',
      reason: '500',
      rejects: 500,
    },
    { fault: { status: 502, reason: 'Bad Gateway' }, type: 'provider_unavailable', reason: '502', rejects: 502 },
    { fault: { status: 401, reason: 'Unauthorized' }, type: 'auth', reason: '401', rejects: 401 },
    { fault: { status: 404, reason: 'Not Found' }, type: 'config', reason: '404', rejects: 404 },
    { fault: { status: 410, reason: 'Gone' }, type: 'config', reason: '410', rejects: 410 },
    { fault: { status: 418, reason: 'Teapot' }, type: 'unknown', reason: '418', rejects: 418 },
    {
      fault: { status: 400, reason: 'Incorrect player_id format in include_player_ids (not a valid UUID): sub-1' },
      type: 'invalid_token',
      reason: 'INVALID_ID_FORMAT',
      rejects: 400,
      prunes: true,
    },
    {
      fault: {
        status: 400,
        reason: 'You must include which players, segments, or tags you wish to send this notification to.',
      },
      type: 'payload_invalid',
      reason: 'NO_TARGETING_SPECIFIED',
      rejects: 400,
    },
    { fault: { status: 200, reason: NO_SUBSCRIBERS }, type: 'unregistered', reason: 'NO_SUBSCRIBERS', prunes: true },
    { fault: { status: 200, reason: 'Something new' }, type: 'unknown', reason: 'NOT_CREATED' },
  ];
  for (const row of rows) {
    it(`${JSON.stringify(row.fault)} counts the recipient as ${row.type} (${row.reason})`, async () => {
      const { telemetry, client, events } = setup([{ match: 'sub-*', fault: row.fault }]);
      const call = client.createNotification(notificationTo(['sub-1']));
      if (row.rejects === undefined) {
        const response = await call;
        assert.equal(response.id, '', 'nothing was created');
      } else {
        await assert.rejects(call, (error: { code?: unknown }) => error.code === row.rejects);
      }
      const { samples } = await scrape(telemetry);
      assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { [row.type]: 1 } });
      assert.deepEqual(durations(samples), { failure: 1 });
      const span = onlySpan();
      assert.equal(span.attributes['error.type'], row.type);
      assert.equal(span.attributes['push.provider.reason'], row.reason);
      assert.deepEqual(verdicts(events), row.prunes ? [`sub-1 ${row.type} ${row.reason}`] : []);
    });
  }

  it('a created notification counts the recipient accepted and records its id', async () => {
    const { telemetry, client, events } = setup([]);
    const response = await client.createNotification(notificationTo(['sub-ok']));
    assert.match(response.id ?? '', /^[0-9a-f-]{36}$/);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 1, failed: {} });
    assert.deepEqual(durations(samples), { success: 1 });
    const span = onlySpan();
    assert.equal(span.attributes['messaging.message.id'], response.id);
    assert.equal(span.attributes['messaging.system'], 'onesignal');
    assert.deepEqual(events, []);
  });

  it('a request without targeting is answered NO_TARGETING_SPECIFIED by the fake itself: payload_invalid', async () => {
    const { telemetry, client } = setup([]);
    const notification = notificationTo([]);
    delete notification.include_subscription_ids;
    await assert.rejects(client.createNotification(notification), { code: 400 });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { payload_invalid: 1 } });
    assert.equal(onlySpan().attributes['push.provider.reason'], 'NO_TARGETING_SPECIFIED');
  });

  it('a missing REST API key is answered 403 "Access denied." by the fake itself: auth', async () => {
    const { telemetry } = setup([]);
    const { createConfiguration, DefaultApi, ServerConfiguration } = await import('@onesignal/node-onesignal');
    const keyless = new DefaultApi(createConfiguration({ baseServer: new ServerConfiguration(fake.url, {}) }));
    const client = instrumentOneSignal(keyless, telemetry);
    await assert.rejects(client.createNotification(notificationTo(['sub-1'])), { code: 403 });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { auth: 1 } });
    assert.equal(onlySpan().attributes['push.provider.reason'], 'INVALID_API_KEY');
  });
});

describe('instrumentOneSignal: several recipients', () => {
  it('ids listed in the errors object fail one by one and prune; the rest are accepted', async () => {
    const { telemetry, client, events } = setup([
      { match: 'gone-*', fault: 'unregistered' },
      { match: 'bad-*', fault: 'invalid_token' },
    ]);
    const response = await client.createNotification(notificationTo(['ok-1', 'gone-1', 'bad-1', 'ok-2']));
    assert.deepEqual(response.errors, { invalid_player_ids: ['gone-1', 'bad-1'] });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 2, failed: { invalid_token: 2 } });
    assert.deepEqual(durations(samples), { partial: 1 });
    assert.equal(onlySpan().attributes['messaging.batch.message_count'], 4);
    assert.deepEqual(verdicts(events), [
      'bad-1 invalid_token invalid_player_ids',
      'gone-1 invalid_token invalid_player_ids',
    ]);
    assert.deepEqual(fake.stats.accepted >= 2, true);
  });

  it('every recipient refused: "All included players are not subscribed" counts each unregistered, prunes none', async () => {
    const { telemetry, client, events } = setup([{ match: 'gone-*', fault: 'unregistered' }]);
    const response = await client.createNotification(notificationTo(['gone-1', 'gone-2', 'gone-3']));
    assert.deepEqual(response.errors, [NO_SUBSCRIBERS]);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { unregistered: 3 } });
    assert.deepEqual(durations(samples), { failure: 1 });
    assert.deepEqual(events, [], 'a whole-call answer names no recipient');
  });

  it('every recipient listed as invalid (id ""): each is counted and pruned on its own evidence', async () => {
    const { telemetry, client, events } = setup([{ match: 'bad-*', fault: 'invalid_token' }]);
    const response = await client.createNotification(notificationTo(['bad-1', 'bad-2']));
    assert.equal(response.id, '');
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { invalid_token: 2 } });
    assert.deepEqual(verdicts(events), [
      'bad-1 invalid_token invalid_player_ids',
      'bad-2 invalid_token invalid_player_ids',
    ]);
  });

  it('a whole-request failure of several recipients counts each one and never prunes', async () => {
    const { telemetry, client, events } = setup([
      {
        match: 'sub-2',
        fault: { status: 400, reason: 'Incorrect player_id format in include_player_ids (not a valid UUID): sub-2' },
      },
    ]);
    await assert.rejects(client.createNotification(notificationTo(['sub-1', 'sub-2', 'sub-3'])), { code: 400 });
    const { samples } = await scrape(telemetry);
    // The core turns a several-recipient unregistered/invalid_token rejection into config.
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { config: 3 } });
    assert.deepEqual(events, []);
  });

  it('include_aliases: refused external ids come back under invalid_aliases.external_id and prune', async () => {
    const { telemetry, client, events } = setup([{ match: 'gone-*', fault: 'unregistered' }]);
    const response = await client.createNotification(
      notificationTo({ aliases: { external_id: ['user-1', 'gone-user-2'], onesignal_id: ['os-1'] } }),
    );
    assert.deepEqual(response.errors, { invalid_aliases: { external_id: ['gone-user-2'] } });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 2, failed: { invalid_token: 1 } });
    assert.deepEqual(verdicts(events), ['gone-user-2 invalid_token invalid_aliases']);
  });

  it('channel token lists count one message per token beside the subscription ids', async () => {
    const { telemetry, client } = setup([]);
    const notification = notificationTo(['sub-1', 'sub-2']);
    notification.include_ios_tokens = ['a'.repeat(64)];
    notification.include_email_tokens = ['someone@example.com'];
    await client.createNotification(notification);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 4, failed: {} });
  });
});

describe('instrumentOneSignal: segment and filter sends are one message with no recipient token', () => {
  it('a segment send is one accepted message', async () => {
    const { telemetry, client } = setup([]);
    await client.createNotification(notificationTo({ segments: ['Subscribed Users'] }));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 1, failed: {} });
    assert.equal(onlySpan().attributes['messaging.batch.message_count'], 1);
  });

  it('a segment with no subscribers is one unregistered message, and prunes nothing', async () => {
    const { telemetry, client, events } = setup([{ match: 'Empty Segment', fault: 'unregistered' }]);
    const response = await client.createNotification(notificationTo({ segments: ['Empty Segment'] }));
    assert.deepEqual(response.errors, [NO_SUBSCRIBERS]);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { unregistered: 1 } });
    assert.deepEqual(events, []);
  });

  it('a filter send rate limited is one rate_limited message', async () => {
    const { telemetry, client } = setup([{ match: 'filters', fault: 'rate_limited' }]);
    const notification = notificationTo({ segments: [] });
    notification.filters = [{ field: 'tag', key: 'level', relation: '>', value: '10' } as FilterExpression];
    await assert.rejects(client.createNotification(notification), { code: 429 });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { rate_limited: 1 } });
  });
});

describe('instrumentOneSignal: createNotificationWithRetry', () => {
  it('a 429 with Retry-After is retried by the SDK: the call counts once, as accepted', async () => {
    // rate 0.5: the first matching request passes, the second is refused, the third passes.
    const { telemetry, client } = setup([{ match: 'sub-*', fault: 'rate_limited', rate: 0.5 }]);
    await client.createNotification(notificationTo(['sub-warm']));
    const before = fake.stats.requests;
    const result = await client.createNotificationWithRetry(notificationTo(['sub-1']));
    assert.equal(fake.stats.requests - before, 2, 'one 429, one retry');
    assert.equal(result.wasReplayed, false);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 2, failed: {} });
    assert.deepEqual(durations(samples, 'create_notification_with_retry'), { success: 1 });
  });

  it('a replayed idempotency key resolves the same answer and is counted as the caller saw it', async () => {
    const { telemetry, client, events } = setup([{ match: 'bad-*', fault: 'invalid_token' }]);
    const notification = notificationTo(['ok-1', 'bad-1']);
    notification.idempotency_key = '7c2e3ad5-8b36-4a48-a1a0-9a2a4d5f1e01';
    const first = await client.createNotificationWithRetry(notification);
    const second = await client.createNotificationWithRetry(notification);
    assert.equal(second.wasReplayed, true);
    assert.equal(second.response.id, first.response.id);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 2, failed: { invalid_token: 2 } });
    assert.deepEqual(durations(samples, 'create_notification_with_retry'), { partial: 2 });
    assert.equal(events.length, 2);
  });
});

describe('instrumentOneSignal: answers the fake never gives, from a canned loopback server', () => {
  const answer = (body: unknown) => ({ status: 200, type: 'application/json', body: JSON.stringify(body) });

  it('ids the request never named are ignored: nothing from the response becomes a token', async () => {
    canned.answer = answer({ id: 'b1', errors: { invalid_player_ids: ['sub-2', 'someone-else', 42] } });
    const { telemetry, client, events } = setup([], canned.url);
    await client.createNotification(notificationTo(['sub-1', 'sub-2']));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 1, failed: { invalid_token: 1 } });
    assert.deepEqual(verdicts(events), ['sub-2 invalid_token invalid_player_ids']);
  });

  it('an id is matched only under the key its field is refused under: an alias is not an external user id', async () => {
    canned.answer = answer({
      id: 'b2',
      errors: { invalid_external_user_ids: ['user-2'], invalid_player_ids: ['user-1'] },
    });
    const { telemetry, client, events } = setup([], canned.url);
    await client.createNotification(notificationTo({ aliases: { external_id: ['user-1', 'user-2'] } }));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 2, failed: {} });
    assert.deepEqual(events, []);
  });

  it('no id, some recipients listed: those are invalid_token, the others failed with the call (unknown)', async () => {
    canned.answer = answer({ id: '', errors: { invalid_player_ids: ['sub-1'] } });
    const { telemetry, client, events } = setup([], canned.url);
    await client.createNotification(notificationTo(['sub-1', 'sub-2', 'sub-3']));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { invalid_token: 1, unknown: 2 } });
    assert.deepEqual(verdicts(events), ['sub-1 invalid_token invalid_player_ids']);
  });

  it('no id and no errors: every recipient failed, without evidence about any of them', async () => {
    canned.answer = answer({ id: '' });
    const { telemetry, client, events } = setup([], canned.url);
    await client.createNotification(notificationTo(['sub-1', 'sub-2']));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { unknown: 2 } });
    assert.deepEqual(events, []);
  });

  it('a 404 HTML page (wrong base URL) is config, never unregistered', async () => {
    canned.answer = { status: 404, type: 'text/html', body: '<html><h1>404 Not Found</h1></html>' };
    const { telemetry, client, events } = setup([], canned.url);
    await assert.rejects(client.createNotification(notificationTo(['sub-1'])), { code: 404 });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { config: 1 } });
    assert.deepEqual(events, []);
  });
});

describe('instrumentOneSignal: transport failures', () => {
  it('a refused connection is network, with the socket code as the reason', async () => {
    const { telemetry, client } = setup([], `http://127.0.0.1:${await closedPort()}`);
    await assert.rejects(client.createNotification(notificationTo(['sub-1'])));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { network: 1 } });
    assert.equal(onlySpan().attributes['push.provider.reason'], 'ECONNREFUSED');
  });

  it('a hang ends as a timeout with a client timeout, and the fake lets go of the request', async () => {
    const { telemetry, client } = setup([{ fault: 'hang' }], fake.url, 200);
    await assert.rejects(client.createNotification(notificationTo(['sub-1'])), { name: 'TimeoutError' });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { timeout: 1 } });
    fake.faults.set({});
    fake.faults.dropHanging();
  });

  it('a reset connection is network', async () => {
    const { telemetry, client } = setup([{ fault: 'reset' }]);
    await assert.rejects(client.createNotification(notificationTo(['sub-1'])));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: { network: 1 } });
  });
});

describe('instrumentOneSignal: the client and its options', () => {
  it('names what is wrong with the client or the options', () => {
    const telemetry = new PushTelemetry();
    assert.throws(
      () => instrumentOneSignal({} as never, telemetry),
      /instrumentOneSignal: expected a OneSignal DefaultApi.*createNotification\(\)/,
    );
    assert.throws(
      () => instrumentOneSignal(oneSignalClient(fake.url), telemetry, { onInvalidTokens: () => {} } as never),
      /instrumentOneSignal: unknown option "onInvalidTokens"/,
    );
  });

  it("every other API method is the client's own, and the client itself stays uninstrumented", async () => {
    const { telemetry, raw, client } = setup([]);
    assert.equal(typeof client.getNotification, 'function');
    assert.notEqual(client.createNotification, raw.createNotification);
    await raw.createNotification(notificationTo(['sub-1']));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 0, failed: {} });
  });

  it('an older client on the v1 path (Basic auth, include_player_ids, include_external_user_ids) is read the same way', async () => {
    const { telemetry, events } = setup([{ match: 'gone-*', fault: 'unregistered' }]);
    // The 5.x SDK leaves out the v1 fields its model lacks: a client of the v1 REST shape, over real HTTP to the fake.
    const v1 = {
      async createNotification(notification: object): Promise<object> {
        const response = await fetch(`${fake.url}/api/v1/notifications`, {
          method: 'POST',
          headers: { authorization: 'Basic test-rest-api-key', 'content-type': 'application/json' },
          body: JSON.stringify(notification),
        });
        return (await response.json()) as object;
      },
    };
    const client = instrumentOneSignal(v1, telemetry, { onInvalidToken: (event) => void events.push(event) });
    const response = await client.createNotification({
      app_id: ONESIGNAL_APP_ID,
      contents: { en: 'hi' },
      include_player_ids: ['p-1', 'gone-p-2'],
      include_external_user_ids: ['gone-user-1', 'user-2'],
    });
    assert.deepEqual((response as { errors?: unknown }).errors, {
      invalid_player_ids: ['gone-p-2'],
      invalid_external_user_ids: ['gone-user-1'],
    });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(messageCounts(samples), { accepted: 2, failed: { invalid_token: 2 } });
    assert.deepEqual(verdicts(events), [
      'gone-p-2 invalid_token invalid_player_ids',
      'gone-user-1 invalid_token invalid_external_user_ids',
    ]);
  });
});

describe('the fake OneSignal API', () => {
  const post = (path: string, body: string, authorization?: string) =>
    fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization !== undefined && { authorization }) },
      body,
    });

  it('refuses what OneSignal refuses before looking at the recipients', async () => {
    fake.faults.set({});
    const valid = JSON.stringify({ app_id: ONESIGNAL_APP_ID, include_subscription_ids: ['s'] });
    const cases: ReadonlyArray<readonly [Promise<Response>, number, string]> = [
      [post('/notifications', valid), 403, 'Access denied.'],
      [post('/notifications', valid, 'Bearer x'), 403, 'Access denied.'],
      [post('/notifications', JSON.stringify({ include_subscription_ids: ['s'] }), 'Key k'), 400, 'app_id not found'],
      [post('/notifications', JSON.stringify({ app_id: ONESIGNAL_APP_ID }), 'Key k'), 400, 'You must include'],
      [post('/notifications', '{not json', 'Key k'), 400, 'The request body must be JSON'],
      [post('/players', valid, 'Key k'), 404, 'No route'],
    ];
    for (const [pending, status, text] of cases) {
      const response = await pending;
      assert.equal(response.status, status);
      const { errors } = (await response.json()) as { errors: string[] };
      assert.ok(errors[0]?.startsWith(text), `${errors[0]} starts with ${text}`);
    }
  });

  it('takes the v1 path with Basic auth, and replays an idempotency key it answered', async () => {
    fake.faults.set({});
    const body = JSON.stringify({
      app_id: ONESIGNAL_APP_ID,
      include_player_ids: ['p'],
      idempotency_key: '0d7e1a2b-5c3d-4e6f-8a9b-0c1d2e3f4a5b',
    });
    const first = await post('/api/v1/notifications', body, 'Basic k');
    const second = await post('/notifications', body, 'Key k');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await second.json(), await first.json());
  });

  it('counts recipients in its stats, one for a segment send', async () => {
    fake.faults.set({ rules: [{ match: 'gone', fault: 'unregistered' }] });
    const before = { ...fake.stats };
    const auth = 'Key k';
    await post('/notifications', JSON.stringify({ app_id: 'a', include_subscription_ids: ['a', 'b', 'gone'] }), auth);
    await post('/notifications', JSON.stringify({ app_id: 'a', included_segments: ['All'] }), auth);
    assert.equal(fake.stats.accepted - before.accepted, 3);
    assert.equal(fake.stats.refused - before.refused, 1);
  });
});
