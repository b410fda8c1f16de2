import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http, { type ClientRequest } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import webpush from 'web-push';
import {
  instrumentApns,
  instrumentExpo,
  instrumentFcm,
  instrumentOneSignal,
  instrumentSns,
  instrumentWebPush,
  PushTelemetry,
} from '../src/index.js';
import {
  fcmLoopbackAgent,
  SIMULATED_PROVIDERS,
  startSimulator,
  webPushSubscription,
  type FakeProvider,
  type SimulatedProvider,
  type Simulator,
} from '../src/simulator/index.js';
import { scrape, valueOf } from './helpers.js';
import { notificationTo, oneSignalClient } from './onesignal-client.js';

describe('startSimulator', () => {
  it('starts every fake on loopback, on distinct free ports, and stops them', async () => {
    const simulator = await startSimulator({
      faults: { expo: { rules: [{ fault: 'unregistered', match: 'ExponentPushToken[gone*' }] } },
    });
    try {
      const fakes = SIMULATED_PROVIDERS.map((provider) => simulator.fake(provider));
      assert.deepEqual(
        fakes.map((fake) => fake.provider),
        [...SIMULATED_PROVIDERS],
      );
      assert.equal(new Set(fakes.map((fake) => fake.port)).size, 6);
      for (const fake of fakes) assert.match(fake.url, /^https?:\/\/127\.0\.0\.1:\d+$/);
      // The Expo fake is plain HTTP and its faults came from the options: one request proves both.
      const response = await fetch(`${simulator.fake('expo').url}/--/api/v2/push/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { to: 'ExponentPushToken[gone-1]', body: 'hi' },
          { to: 'ExponentPushToken[ok-1]', body: 'hi' },
        ]),
      });
      const { data } = (await response.json()) as { data: Array<{ status: string; details?: { error?: string } }> };
      assert.deepEqual(
        data.map((ticket) => ticket.details?.error ?? ticket.status),
        ['DeviceNotRegistered', 'ok'],
      );
      assert.deepEqual(simulator.fake('expo').stats, { requests: 1, accepted: 1, refused: 1 });
    } finally {
      await simulator.close();
    }
    await assert.rejects(fetch(`${simulator.fake('expo').url}/--/api/v2/push/send`, { method: 'POST', body: '[]' }));
  });

  it('starts only the providers asked for, and names a bad one', async () => {
    const simulator = await startSimulator({ providers: ['sns'] });
    try {
      assert.throws(() => simulator.fake('fcm'), /the fcm fake was not started/);
      assert.ok(simulator.fake('sns').port > 0);
    } finally {
      await simulator.close();
    }
    await assert.rejects(startSimulator({ providers: ['gcm' as never] }), /options\.providers: unknown provider "gcm"/);
    await assert.rejects(
      startSimulator({ faults: { fcm: { rules: [{ fault: 'boom' as never }] } } }),
      /faults\.rules\[0\]\.fault/,
    );
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, deadlineMs: number, probe: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A well-formed ES256 provider token as the fake APNs checks it (shape, not signature). */
const APNS_JWT = [
  { alg: 'ES256', kid: 'KEY1234567' },
  { iss: 'TEAM123456', iat: Math.floor(Date.now() / 1000) },
]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
  .concat('c2lnbmF0dXJl')
  .join('.');

/** One request the way each provider's clients send it, over a connection of its own. */
interface RawRequest {
  /** True once any response headers arrived. */
  responded(): boolean;
  /** Resolves when the request is over, with the client's error message ('' for none). */
  readonly closed: Promise<string>;
  /** The client gives up, as a timeout would. */
  abort(): void;
}

function http1(url: string, path: string, headers: Record<string, string>, body: string): RawRequest {
  const target = new URL(url);
  const options = {
    host: target.hostname,
    port: target.port,
    path,
    method: 'POST',
    headers,
    agent: false,
    rejectUnauthorized: false,
  };
  const req: ClientRequest = target.protocol === 'https:' ? https.request(options) : http.request(options);
  let responded = false;
  let error = '';
  req.on('response', () => (responded = true));
  req.on('error', (e) => (error = e.message));
  const closed = new Promise<string>((resolve) => req.on('close', () => resolve(error)));
  req.end(body);
  return { responded: () => responded, closed, abort: () => req.destroy() };
}

function http2Request(url: string, headers: http2.OutgoingHttpHeaders, body: string): RawRequest {
  const session = http2.connect(url, { rejectUnauthorized: false });
  session.on('error', () => {});
  const stream = session.request({ ':method': 'POST', ...headers });
  let responded = false;
  let error = '';
  stream.on('response', () => (responded = true));
  stream.on('error', (e) => (error = e.message));
  const closed = new Promise<string>((resolve) =>
    stream.on('close', () => {
      session.close();
      resolve(error);
    }),
  );
  stream.end(body);
  return { responded: () => responded, closed, abort: () => session.destroy() };
}

const RAW: Readonly<Record<string, (fake: FakeProvider, token: string) => RawRequest>> = {
  'fcm (HTTP/1.1)': (fake, token) =>
    http1(
      fake.url,
      '/v1/projects/p/messages:send',
      { authorization: 'Bearer t', 'content-type': 'application/json' },
      JSON.stringify({ message: { token } }),
    ),
  'fcm (HTTP/2)': (fake, token) =>
    http2Request(
      fake.url,
      { ':path': '/v1/projects/p/messages:send', authorization: 'Bearer t' },
      JSON.stringify({ message: { token } }),
    ),
  apns: (fake, token) =>
    http2Request(
      fake.url,
      { ':path': `/3/device/${token}`, authorization: `bearer ${APNS_JWT}`, 'apns-topic': 'com.example.app' },
      '{"aps":{"alert":"hi"}}',
    ),
  webpush: (fake, token) => http1(fake.url, `/push/${token}`, { ttl: '60' }, ''),
  expo: (fake, token) =>
    http1(
      fake.url,
      '/--/api/v2/push/send',
      { 'content-type': 'application/json' },
      JSON.stringify([{ to: token, body: 'hi' }]),
    ),
  sns: (fake, token) =>
    http1(
      fake.url,
      '/',
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({
        Action: 'Publish',
        TargetArn: `arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/${token}`,
        Message: 'hi',
      }).toString(),
    ),
};

describe('the hang fault: the connection is taken and never answered', { concurrency: true }, () => {
  for (const [name, request] of Object.entries(RAW)) {
    const provider = name.split(' ')[0] as SimulatedProvider;
    it(`${name}: no response headers, the request held until the client gives up, dropHanging() or close()`, async () => {
      const simulator = await startSimulator({
        providers: [provider],
        faults: { [provider]: { rules: [{ fault: 'hang' }], latencyMs: 5 } },
      });
      const fake = simulator.fake(provider);
      let closing: Promise<void> | undefined;
      try {
        // Given up by the client: the fake lets go of it too.
        const gaveUp = request(fake, 'hang-1');
        await until('the fake to hold the request', 2_000, () => fake.faults.hanging === 1);
        await sleep(300);
        assert.equal(gaveUp.responded(), false, 'no response headers');
        gaveUp.abort();
        await gaveUp.closed;
        await until('the fake to forget it', 2_000, () => fake.faults.hanging === 0);

        // Dropped by the fake, as a load balancer would: the client sees its connection or stream reset.
        const dropped = [request(fake, 'hang-2'), request(fake, 'hang-3')];
        await until('two held requests', 2_000, () => fake.faults.hanging === 2);
        assert.equal(fake.faults.dropHanging(), 2);
        for (const held of dropped) assert.match(await held.closed, /socket hang up|NGHTTP2_INTERNAL_ERROR/);
        assert.equal(fake.faults.hanging, 0);
        assert.deepEqual(fake.stats, { requests: 3, accepted: 0, refused: 3 });

        // Still held when the simulator stops: closing does not wait for it, and releases it.
        const held = request(fake, 'hang-4');
        await until('the request held', 2_000, () => fake.faults.hanging === 1);
        const started = Date.now();
        closing = simulator.close();
        await closing;
        assert.ok(Date.now() - started < 1_000, `close() took ${Date.now() - started} ms`);
        await held.closed;
        assert.equal(held.responded(), false);
      } finally {
        await (closing ?? simulator.close());
      }
    });
  }
});

/** A real SDK, instrumented, on a fake; `timeoutMs` its own request timeout, undefined for none. */
type SdkClient = { send(token: string): Promise<unknown>; close(): Promise<void> };
type SdkFactory = (fake: FakeProvider, telemetry: PushTelemetry, timeoutMs: number | undefined) => Promise<SdkClient>;

let apps = 0;

const SDKS: Readonly<Record<SimulatedProvider, SdkFactory>> = {
  async fcm(fake, telemetry, timeoutMs) {
    const { deleteApp, initializeApp } = await import('firebase-admin/app');
    const { getMessaging } = await import('firebase-admin/messaging');
    // firebase-admin has its own 15 s timeout; 0 removes it, as a sender without one would have none.
    const agent = fcmLoopbackAgent(fake.url, { timeoutMs: timeoutMs ?? 0 });
    const credential = { getAccessToken: async () => ({ access_token: 'hang-test', expires_in: 3600 }) };
    const app = initializeApp({ projectId: 'hang-test', credential, httpAgent: agent }, `hang-test-${++apps}`);
    const messaging = instrumentFcm(getMessaging(app), telemetry);
    return {
      send: (token) => messaging.send({ token, notification: { title: 'hi' } }),
      async close() {
        await deleteApp(app);
        agent.destroy();
      },
    };
  },
  async apns(fake, telemetry, timeoutMs) {
    const { default: apn } = await import('@parse/node-apn');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const raw = new apn.Provider({
      token: {
        key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        keyId: 'KEY1234567',
        teamId: 'TEAM123456',
      },
      address: '127.0.0.1',
      port: fake.port,
      rejectUnauthorized: false,
      connectionRetryLimit: 0,
      // node-apn's default is 5 s; 0 is none.
      requestTimeout: timeoutMs ?? 0,
    });
    const provider = instrumentApns(raw, telemetry);
    const note = () => Object.assign(new apn.Notification({ alert: 'hi' }), { topic: 'com.example.app' });
    return { send: (token) => provider.send(note(), token), close: async () => raw.shutdown() };
  },
  async webpush(fake, telemetry, timeoutMs) {
    const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
    const vapid = webpush.generateVAPIDKeys();
    const options = {
      agent,
      TTL: 60,
      vapidDetails: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      ...(timeoutMs !== undefined && { timeout: timeoutMs }),
    };
    const client = instrumentWebPush(webpush, telemetry);
    return {
      send: (token) => client.sendNotification(webPushSubscription(fake.url, token), 'hi', options),
      close: async () => agent.destroy(),
    };
  },
  async expo(fake, telemetry, timeoutMs) {
    // expo-server-sdk reads EXPO_BASE_URL once, at its first import: this file has one Expo fake.
    process.env.EXPO_BASE_URL = fake.url;
    const { Expo } = await import('expo-server-sdk');
    // Without a dispatcher of its own, undici waits 300 s for headers.
    const dispatcher = timeoutMs === undefined ? undefined : new Agent({ headersTimeout: timeoutMs });
    const expo = instrumentExpo(new Expo(dispatcher === undefined ? {} : { httpAgent: dispatcher }), telemetry);
    return {
      send: (token) => expo.sendPushNotificationsAsync([{ to: `ExponentPushToken[${token}]`, body: 'hi' }]),
      async close() {
        await dispatcher?.close();
      },
    };
  },
  async sns(fake, telemetry, timeoutMs) {
    const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
    const raw = new SNSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      // The SDK's default is no request timeout at all.
      ...(timeoutMs !== undefined && { requestHandler: { requestTimeout: timeoutMs, throwOnRequestTimeout: true } }),
    });
    const sns = instrumentSns(raw, telemetry);
    const arn = (token: string) => `arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/${token}`;
    return {
      send: (token) => sns.send(new PublishCommand({ TargetArn: arn(token), Message: 'hi' })),
      close: async () => raw.destroy(),
    };
  },
  async onesignal(fake, telemetry, timeoutMs) {
    // The SDK's fetch has no timeout of its own (undici waits 300 s for headers); a timeout is an httpApi of yours.
    const client = instrumentOneSignal(
      oneSignalClient(fake.url, timeoutMs === undefined ? {} : { timeoutMs }),
      telemetry,
    );
    return { send: (token) => client.createNotification(notificationTo([token])), close: async () => undefined };
  },
};

async function metricsOf(telemetry: PushTelemetry, provider: SimulatedProvider) {
  const { samples } = await scrape(telemetry);
  const messages = samples.filter((s) => s.name === 'push_messages_total' && s.labels.provider === provider);
  return {
    inFlight: valueOf(samples, 'push_requests_in_flight', { provider }) ?? 0,
    messages: messages.reduce((sum, s) => sum + s.value, 0),
    timeouts: messages.filter((s) => s.labels.error_type === 'timeout').reduce((sum, s) => sum + s.value, 0),
  };
}

describe('the hang fault with the real SDKs: calls stay in flight without a client timeout, time out with one', {
  concurrency: true,
}, () => {
  let simulator: Simulator;
  const clients: SdkClient[] = [];
  before(async () => {
    simulator = await startSimulator({
      faults: Object.fromEntries(SIMULATED_PROVIDERS.map((provider) => [provider, { rules: [{ fault: 'hang' }] }])),
    });
  });
  after(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    await simulator.close();
  });

  for (const provider of SIMULATED_PROVIDERS) {
    it(provider, { timeout: 30_000 }, async () => {
      const fake = simulator.fake(provider);
      const open = async (telemetry: PushTelemetry, timeoutMs: number | undefined) => {
        const client = await SDKS[provider](fake, telemetry, timeoutMs);
        clients.push(client);
        return client;
      };

      // No client timeout: three calls reach the fake and stay in flight, however long we look.
      const hanging = new PushTelemetry();
      const untimed = await open(hanging, undefined);
      let settled = 0;
      const calls = [1, 2, 3].map((i) =>
        untimed
          .send(`hang-${i}`)
          .then(
            () => undefined,
            () => undefined,
          )
          .finally(() => settled++),
      );
      await until('three held requests', 10_000, () => fake.faults.hanging === 3);
      await sleep(500);
      assert.deepEqual(await metricsOf(hanging, provider), { inFlight: 3, messages: 0, timeouts: 0 });
      assert.equal(settled, 0);

      // A client timeout ends its call as a timeout; the calls without one are still in flight.
      const timing = new PushTelemetry();
      const timed = await open(timing, 200);
      await timed.send('hang-timed').catch(() => undefined);
      assert.deepEqual(await metricsOf(timing, provider), { inFlight: 0, messages: 1, timeouts: 1 });
      assert.equal((await metricsOf(hanging, provider)).inFlight, 3);
      assert.equal(settled, 0);

      // The provider answers again and drops what it held: every call settles (firebase-admin retries a reset one).
      fake.faults.set({});
      fake.faults.dropHanging();
      await Promise.all(calls);
      assert.equal((await metricsOf(hanging, provider)).inFlight, 0);
      assert.equal(fake.faults.hanging, 0);
    });
  }
});
