import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PushTelemetry } from '../src/index.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { createClients, DEMO_PROVIDERS, type DemoClients } from '../src/cli/clients/index.js';
import { DEMO_ENDPOINT_PREFIX } from '../src/cli/clients/sns.js';
import { startSenderService, type SenderService } from '../src/cli/sender-service.js';
import { parseExposition, valueOf } from './helpers.js';

/** The demo's sender service: POST /send through the real, instrumented SDK clients on the simulator. */

let simulator: Simulator;
let clients: DemoClients;
let service: SenderService;
const telemetry = new PushTelemetry();
const pruned: string[] = [];

before(async () => {
  simulator = await startSimulator();
  clients = await createClients(simulator, {
    telemetry,
    timeoutMs: 2_000,
    onInvalidToken: (provider, token) => void pruned.push(`${provider}:${token}`),
  });
  service = await startSenderService({
    telemetry,
    send: clients.send,
    providers: DEMO_PROVIDERS,
    port: 0,
    host: '127.0.0.1',
  });
});
after(async () => {
  await service.close();
  await clients.close();
  await simulator.close();
});

async function post(body: unknown, init: RequestInit = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${service.url}/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const notification = { title: 'Your order shipped', body: 'Order #1001 is on its way', data: { order: '1001' } };
const TOKENS: Readonly<Record<(typeof DEMO_PROVIDERS)[number], readonly [string, string]>> = {
  fcm: ['fcm-ok-1', 'fcm-gone-1'],
  apns: ['a'.repeat(64), 'b'.repeat(64)],
  webpush: ['sub-ok-1', 'sub-gone-1'],
  expo: ['ExponentPushToken[ok1]', 'ExponentPushToken[gone1]'],
  sns: ['device-ok-1', 'device-gone-1'],
};

describe('POST /send', () => {
  for (const provider of DEMO_PROVIDERS) {
    it(`${provider}: sends through the real SDK; the provider's verdict per token comes back classified`, async () => {
      const [ok, gone] = TOKENS[provider];
      // SNS faults key on the endpoint ARN the service builds from the token.
      simulator.fake(provider).faults.set({
        rules: [{ match: provider === 'sns' ? `${DEMO_ENDPOINT_PREFIX}${gone}` : gone, fault: 'unregistered' }],
      });
      const { status, json } = await post({ provider, tokens: [ok, gone], notification });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.provider, provider);
      assert.equal(json.accepted, 1);
      const failed = json.failed as Array<Record<string, unknown>>;
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.token, gone);
      assert.equal(failed[0]?.error_type, 'unregistered');
      assert.equal(typeof failed[0]?.reason, 'string');
      assert.ok(pruned.includes(`${provider}:${gone}`), `onInvalidToken got the demo's own token for ${provider}`);
    });
  }

  it('a provider outage is a 200 whose tokens failed as provider_unavailable, not a service error', async () => {
    simulator.fake('apns').faults.set({ rules: [{ fault: 'provider_unavailable' }] });
    const { status, json } = await post({ provider: 'apns', tokens: ['c'.repeat(64)], notification });
    simulator.fake('apns').faults.set({});
    assert.equal(status, 200);
    assert.deepEqual(json, {
      provider: 'apns',
      accepted: 0,
      failed: [{ token: 'c'.repeat(64), error_type: 'provider_unavailable', reason: 'ServiceUnavailable' }],
    });
  });

  it('counts what it sent on its own /metrics, and answers /healthz', async () => {
    const samples = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
    for (const provider of DEMO_PROVIDERS) {
      assert.ok(
        (valueOf(samples, 'push_messages_total', { provider, app: 'com.example.pushdemo', outcome: 'accepted' }) ??
          0) >= 1,
        provider,
      );
      assert.ok(
        (valueOf(samples, 'push_messages_total', {
          provider,
          app: 'com.example.pushdemo',
          outcome: 'failed',
          error_type: 'unregistered',
        }) ?? 0) >= 1,
        provider,
      );
    }
    const health = await fetch(`${service.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
  });

  it('takes JSON without a content-type (a bare curl -d)', async () => {
    const { status, json } = await post(JSON.stringify({ provider: 'fcm', tokens: ['fcm-plain'], notification }), {
      headers: {},
    });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.accepted, 1);
  });
});

/** Every message the service has counted, whatever its outcome. */
async function messagesCounted(): Promise<number> {
  const samples = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
  return samples.filter((s) => s.name === 'push_messages_total').reduce((sum, s) => sum + s.value, 0);
}

describe('POST /send with a bad body: 400 and a JSON error naming the field', () => {
  let countedBefore = 0;
  before(async () => {
    countedBefore = await messagesCounted();
  });

  const CASES: ReadonlyArray<readonly [string, unknown, RegExp]> = [
    ['not JSON', '{"provider": fcm', /^body must be valid JSON/],
    ['a JSON array', '[]', /^body must be a JSON object/],
    ['no provider', { tokens: ['t'], notification }, /^provider must be one of fcm, apns, webpush, expo, sns$/],
    ['an unknown provider', { provider: 'gcm', tokens: ['t'], notification }, /^provider must be one of/],
    ['no tokens', { provider: 'fcm', notification }, /^tokens must be a non-empty array of strings$/],
    [
      'tokens as a string',
      { provider: 'fcm', tokens: 't1', notification },
      /^tokens must be a non-empty array of strings$/,
    ],
    [
      'an empty tokens array',
      { provider: 'fcm', tokens: [], notification },
      /^tokens must be a non-empty array of strings$/,
    ],
    [
      'a number among the tokens',
      { provider: 'fcm', tokens: ['t1', 2], notification },
      /^tokens must be a non-empty array of strings$/,
    ],
    [
      'an empty token',
      { provider: 'fcm', tokens: [''], notification },
      /^tokens must be a non-empty array of strings$/,
    ],
    [
      '501 tokens',
      { provider: 'fcm', tokens: Array.from({ length: 501 }, (_, i) => `t${i}`), notification },
      /^tokens must hold at most 500 tokens/,
    ],
    ['no notification', { provider: 'fcm', tokens: ['t'] }, /^notification must be an object/],
    [
      'no title',
      { provider: 'fcm', tokens: ['t'], notification: { body: 'b' } },
      /^notification\.title must be a non-empty string$/,
    ],
    [
      'a numeric body',
      { provider: 'fcm', tokens: ['t'], notification: { title: 't', body: 5 } },
      /^notification\.body must be a string$/,
    ],
    [
      'non-string data',
      { provider: 'fcm', tokens: ['t'], notification: { title: 't', body: 'b', data: { n: 1 } } },
      /^notification\.data must be an object of string values/,
    ],
  ];
  for (const [name, body, message] of CASES) {
    it(name, async () => {
      const { status, json } = await post(body);
      assert.equal(status, 400, JSON.stringify(json));
      assert.deepEqual(Object.keys(json), ['error']);
      assert.match(json.error as string, message);
    });
  }

  it('a body over 64 KB is a 413 with a JSON error', async () => {
    const { status, json } = await post({
      provider: 'fcm',
      tokens: ['t'],
      notification: { title: 't', body: 'x'.repeat(70_000) },
    });
    assert.equal(status, 413);
    assert.match(json.error as string, /at most 64 KB/);
  });

  it('unknown routes and methods get a JSON 404', async () => {
    const response = await fetch(`${service.url}/send`);
    assert.equal(response.status, 404);
    assert.match(((await response.json()) as { error: string }).error, /POST \/send/);
  });

  it('sent nothing for any of them', async () => {
    assert.equal(await messagesCounted(), countedBefore);
  });
});
