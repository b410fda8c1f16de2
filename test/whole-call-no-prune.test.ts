/**
 * The pruning rule, end to end through the real SDKs: only per-recipient evidence may reach `onInvalidToken`. A
 * whole-call failure (wrong base URL, wrong project, revoked credentials: every request answered 404, 410, 401 or 403)
 * of a call with several recipients never prunes, and when it rejects the call its messages are not counted as
 * unregistered or invalid_token. The canonical per-recipient answers (a Web Push subscription gone, one FCM token of
 * three UNREGISTERED) still prune exactly their recipient.
 *
 * Every SDK is pointed at a loopback server (test/fixtures/whole-call-no-prune.ts) that gives every request the same
 * answer, in the shapes a proxy, a load balancer or the provider itself would use. Each call is made twice, bare and
 * instrumented, and must settle the same way. The error_type counted for each scenario is read from the registry's
 * exposition text and printed as a test diagnostic.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it, type TestContext } from 'node:test';
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import apn from '@parse/node-apn';
import { ApnsClient, type ApnsError, Notification } from 'apns2';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getMessaging, type BatchResponse, type Messaging } from 'firebase-admin/messaging';
import { Pool } from 'undici';
import webpush from 'web-push';
import {
  instrumentApns,
  instrumentApns2,
  instrumentExpo,
  instrumentFcm,
  instrumentOneSignal,
  instrumentSns,
  instrumentWebPush,
  PushTelemetry,
  type InvalidTokenEvent,
} from '../src/index.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { fcmLoopbackAgent, startFakeFcm } from '../src/simulator/fcm.js';
import { FaultPlan } from '../src/simulator/faults.js';
import { loopbackIdentity } from '../src/simulator/tls.js';
import { webPushSubscription } from '../src/simulator/webpush.js';
import { startWholeCallServer, type CannedAnswer, type WholeCallServer } from './fixtures/whole-call-no-prune.js';
import { parseExposition } from './helpers.js';
import { notificationTo, oneSignalClient } from './onesignal-client.js';

type ExpoClass = typeof import('expo-server-sdk')['Expo'];
type ExpoClient = InstanceType<ExpoClass>;
type ApnResult = apn.Responses<apn.ResponseSent, apn.ResponseFailure>;
type Apns2Entry = Notification | { error: ApnsError };
type OnInvalidToken = (event: InvalidTokenEvent) => void;

// ---------------------------------------------------------------------------------------------------------------
// Answers. Shared ones first: what a proxy, a load balancer or a mistyped host answers to everything.

const HTML_404: CannedAnswer = {
  status: 404,
  type: 'text/html; charset=UTF-8',
  body: '<!DOCTYPE html><html><title>Error 404 (Not Found)!!1</title><p>The requested URL was not found on this server.</p></html>',
};
const PLAIN_404: CannedAnswer = { status: 404, type: 'text/plain', body: 'Not Found' };
const PLAIN_410: CannedAnswer = { status: 410, type: 'text/plain', body: 'Gone' };
const EMPTY_410: CannedAnswer = { status: 410, body: '' };
const HTML_410: CannedAnswer = { status: 410, type: 'text/html', body: '<html><body><h1>410 Gone</h1></body></html>' };
const HTML_401: CannedAnswer = {
  status: 401,
  type: 'text/html',
  body: '<html><body><h1>401 Unauthorized</h1></body></html>',
};
const PLAIN_403: CannedAnswer = { status: 403, type: 'text/plain', body: 'Forbidden' };

const json = (status: number, body: unknown): CannedAnswer => ({
  status,
  type: 'application/json; charset=UTF-8',
  body: JSON.stringify(body),
});
/** A google.rpc.Status error as Google front ends send it: no FcmError detail, so nothing about any one token. */
const rpc = (code: number, status: string, message: string): CannedAnswer =>
  json(code, { error: { code, message, status } });
/** An awsQuery ErrorResponse, SNS's own error shape. */
const awsQuery = (status: number, code: string, message: string): CannedAnswer => ({
  status,
  type: 'text/xml',
  body: `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`,
});

interface Scenario {
  readonly name: string;
  readonly answer: CannedAnswer;
}

const GENERIC: readonly Scenario[] = [
  { name: '404 HTML', answer: HTML_404 },
  { name: '404 plain text', answer: PLAIN_404 },
  { name: '410 plain text', answer: PLAIN_410 },
  { name: '410 HTML', answer: HTML_410 },
  { name: '410 empty body', answer: EMPTY_410 },
  { name: '401 HTML', answer: HTML_401 },
  { name: '403 plain text', answer: PLAIN_403 },
];

const FCM_SCENARIOS: readonly Scenario[] = [
  ...GENERIC,
  // What Google answers for credentials that are revoked or not allowed (a project that does not exist: see the surge guard below).
  {
    name: '401 google.rpc UNAUTHENTICATED',
    answer: rpc(
      401,
      'UNAUTHENTICATED',
      'Request had invalid authentication credentials. Expected OAuth 2 access token.',
    ),
  },
  {
    name: '403 google.rpc PERMISSION_DENIED',
    answer: rpc(
      403,
      'PERMISSION_DENIED',
      "Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/other' (or it may not exist).",
    ),
  },
];

const APNS_SCENARIOS: readonly Scenario[] = [
  ...GENERIC,
  // Apple's own whole-request answers: a wrong path, a bad provider token, the wrong environment.
  { name: '404 {"reason":"BadPath"}', answer: json(404, { reason: 'BadPath' }) },
  { name: '403 {"reason":"InvalidProviderToken"}', answer: json(403, { reason: 'InvalidProviderToken' }) },
  { name: '403 {"reason":"BadEnvironmentKeyIdInToken"}', answer: json(403, { reason: 'BadEnvironmentKeyIdInToken' }) },
];

const EXPO_SCENARIOS: readonly Scenario[] = [
  ...GENERIC,
  // Expo's own whole-request error shape.
  { name: '404 {"errors":[NOT_FOUND]}', answer: json(404, { errors: [{ code: 'NOT_FOUND', message: 'Not found.' }] }) },
  {
    name: '410 {"errors":[GONE]}',
    answer: json(410, { errors: [{ code: 'GONE', message: 'This API has been removed.' }] }),
  },
  {
    name: '401 {"errors":[UNAUTHORIZED]}',
    answer: json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'The bearer token is invalid.' }] }),
  },
  {
    name: '403 {"errors":[FORBIDDEN]}',
    answer: json(403, { errors: [{ code: 'FORBIDDEN', message: 'Push security is on for this project.' }] }),
  },
];

const SNS_SCENARIOS: readonly Scenario[] = [
  ...GENERIC,
  // SNS's own awsQuery errors for a wrong endpoint, a revoked key and a wrong secret.
  { name: '404 awsQuery NotFound', answer: awsQuery(404, 'NotFound', 'Resource not found') },
  {
    name: '404 awsQuery UnknownOperationException',
    answer: awsQuery(404, 'UnknownOperationException', 'Unknown operation'),
  },
  {
    name: '403 awsQuery InvalidClientTokenId',
    answer: awsQuery(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'),
  },
  {
    name: '403 awsQuery SignatureDoesNotMatch',
    answer: awsQuery(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    ),
  },
];

/** OneSignal's own whole-request answers, as ApiExceptions, and its 200 that created nothing. */
const ONESIGNAL_SCENARIOS: readonly Scenario[] = [
  ...GENERIC,
  {
    name: '403 {"errors":["Access denied. …"]}',
    answer: json(403, {
      errors: [
        "Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys).",
      ],
    }),
  },
  { name: '404 {"errors":["Not Found"]}', answer: json(404, { errors: ['Not Found'] }) },
  {
    name: '400 {"errors":["Incorrect player_id format … (not a valid UUID): …"]}',
    answer: json(400, {
      errors: ['Incorrect player_id format in include_player_ids (not a valid UUID): ["sub-a", "sub-b", "sub-c"]'],
    }),
  },
  {
    name: '200 {"id":"","errors":["All included players are not subscribed"]}',
    answer: json(200, { id: '', errors: ['All included players are not subscribed'] }),
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Running one call bare and instrumented, and reading what the instrumented one recorded.

/** How a call settled, reduced to what the SDK said (values that differ run to run, like ids, are left out). */
type Outcome = { readonly resolved: unknown } | { readonly rejected: unknown };

function errorSummary(error: unknown): Record<string, unknown> {
  if (error === null || typeof error !== 'object') return { thrown: String(error) };
  const e = error as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    statusCode?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  return {
    name: e.name,
    code: e.code,
    statusCode: e.statusCode,
    fault: e.$fault,
    httpStatusCode: e.$metadata?.httpStatusCode,
    message: typeof e.message === 'string' ? e.message.slice(0, 300) : undefined,
  };
}

async function outcomeOf<T>(call: () => Promise<T>, summary: (value: T) => unknown): Promise<Outcome> {
  try {
    return { resolved: summary(await call()) };
  } catch (error) {
    return { rejected: errorSummary(error) };
  }
}

interface Recorded {
  readonly raw: Outcome;
  readonly wrapped: Outcome;
  readonly rawRequests: number;
  readonly wrappedRequests: number;
  readonly events: readonly InvalidTokenEvent[];
  readonly accepted: number;
  /** push_messages_total{outcome="failed"} by error_type, non-zero series only. */
  readonly failed: Readonly<Record<string, number>>;
  readonly held: number;
}

/** The messages the instrumented call counted, from the registry's own exposition text. */
async function messageCounts(
  telemetry: PushTelemetry,
  provider: string,
): Promise<{ accepted: number; failed: Record<string, number> }> {
  const samples = parseExposition(await telemetry.registry.metrics());
  let accepted = 0;
  const failed: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== 'push_messages_total' || s.labels.provider !== provider || s.value === 0) continue;
    if (s.labels.outcome === 'accepted') accepted += s.value;
    else {
      const type = s.labels.error_type ?? '';
      failed[type] = (failed[type] ?? 0) + s.value;
    }
  }
  return { accepted, failed };
}

/**
 * Makes the call once on the bare client and once on an instrumented view of it (fresh telemetry, surge guard off
 * unless `guard`), both against `server` answering `answer`.
 */
async function record<C>(options: {
  readonly server: WholeCallServer;
  readonly answer: CannedAnswer;
  readonly provider: string;
  readonly bare: C;
  readonly instrument: (bare: C, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) => C;
  readonly call: (client: C) => Promise<Outcome>;
  readonly guard?: boolean;
}): Promise<Recorded & { readonly telemetry: PushTelemetry }> {
  const { server, answer, provider, bare, instrument, call } = options;
  server.answer = answer;
  const start = server.requests;
  const raw = await call(bare);
  const middle = server.requests;
  const telemetry = new PushTelemetry(options.guard === true ? {} : { invalidTokenGuard: false });
  const events: InvalidTokenEvent[] = [];
  const wrapped = await call(instrument(bare, telemetry, (event) => void events.push(event)));
  // onInvalidToken is called synchronously in the settle handler, before the caller's await returns; one more turn
  // of the event loop anyway, so a verdict that arrived late would still be seen here.
  await new Promise((resolve) => setImmediate(resolve));
  const { accepted, failed } = await messageCounts(telemetry, provider);
  const held = telemetry.heldInvalidTokens().reduce((sum, hold) => sum + hold.count, 0);
  return {
    raw,
    wrapped,
    rawRequests: middle - start,
    wrappedRequests: server.requests - middle,
    events,
    accepted,
    failed,
    held,
    telemetry,
  };
}

const PRUNING_TYPES = new Set(['unregistered', 'invalid_token']);

function describeOutcome(outcome: Outcome): string {
  if ('rejected' in outcome) {
    const e = outcome.rejected as Record<string, unknown>;
    return `rejected ${String(e.name)}${e.code === undefined ? '' : ` ${String(e.code)}`}`;
  }
  return 'resolved';
}

/**
 * The whole-call rule for one multi-recipient (or endpoint) call: settles as the bare SDK did, makes the same
 * requests, never reaches onInvalidToken, holds nothing, refuses every recipient; and a call that rejected as a whole
 * is not counted as unregistered or invalid_token.
 */
function assertNoPrune(t: TestContext, run: Recorded, recipients: number): void {
  t.diagnostic(
    `${describeOutcome(run.wrapped)}; counted failed ${JSON.stringify(run.failed)}; onInvalidToken ×${run.events.length}` +
      (run.events.length > 0
        ? ` (${run.events.map((e) => `${e.token} ${e.errorType} ${e.reason ?? '-'}`).join(', ')})`
        : ''),
  );
  assert.deepEqual(run.wrapped, run.raw, 'the instrumented call settles exactly as the bare SDK call');
  assert.equal(run.wrappedRequests, run.rawRequests, 'the instrumented call makes the requests the bare call made');
  assert.ok(run.rawRequests >= 1, 'the SDK reached the loopback server');
  assert.equal(run.accepted, 0, 'nothing was accepted');
  assert.equal(
    Object.values(run.failed).reduce((a, b) => a + b, 0),
    recipients,
    'every recipient counted as failed once',
  );
  if ('rejected' in run.wrapped && recipients > 1) {
    for (const type of Object.keys(run.failed))
      assert.ok(!PRUNING_TYPES.has(type), `a rejected ${recipients}-recipient call counted as ${type}`);
  }
  assert.equal(run.held, 0, 'nothing held (the guard is off)');
  assert.deepEqual(
    run.events.map((e) => `${e.token} ${e.errorType} ${e.reason ?? '-'}`),
    [],
    'onInvalidToken must not be called on whole-call evidence',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Set-up: one whole-call server per provider, one bare client per SDK.

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const apnsKey = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const TOPIC = 'com.example.app';
const FCM_PROJECT = 'demo-project';
const fcmCredential = { getAccessToken: async () => ({ access_token: 'test-access-token', expires_in: 3600 }) };
const vapid = webpush.generateVAPIDKeys();
const webPushAgent = new https.Agent({ rejectUnauthorized: false });
const webPushOptions = {
  agent: webPushAgent,
  TTL: 60,
  vapidDetails: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
};

type ServerName = 'fcm' | 'apns' | 'webpush' | 'expo' | 'sns' | 'onesignal';
const servers = {} as Record<ServerName, WholeCallServer>;
let fcmFake: FakeProvider;
let Expo: ExpoClass;
const apps: App[] = [];
const apnProviders: apn.Provider[] = [];
const apns2Clients: ApnsClient[] = [];
const snsClients: SNSClient[] = [];

before(async () => {
  const identity = await loopbackIdentity();
  servers.fcm = await startWholeCallServer(identity);
  servers.apns = await startWholeCallServer(identity);
  servers.webpush = await startWholeCallServer(identity);
  servers.expo = await startWholeCallServer();
  servers.sns = await startWholeCallServer();
  servers.onesignal = await startWholeCallServer();
  fcmFake = await startFakeFcm({ host: '127.0.0.1', port: 0, identity, faults: new FaultPlan() });
  // expo-server-sdk reads EXPO_BASE_URL once, when its module is first evaluated: set it, then import.
  process.env.EXPO_BASE_URL = servers.expo.url;
  ({ Expo } = await import('expo-server-sdk'));
});
after(async () => {
  await Promise.all(apps.map((app) => deleteApp(app)));
  for (const provider of apnProviders) provider.shutdown();
  await Promise.all(apns2Clients.map((client) => client.destroy()));
  for (const client of snsClients) client.destroy();
  webPushAgent.destroy();
  await Promise.all([...Object.values(servers).map((server) => server.close()), fcmFake.close()]);
});

/** A real Messaging whose HTTP/1.1 requests (legacy transport, so sendEach* too) go to `url`. */
function newMessaging(url: string): Messaging {
  const app = initializeApp(
    { projectId: FCM_PROJECT, credential: fcmCredential, httpAgent: fcmLoopbackAgent(url, { timeoutMs: 2_000 }) },
    `whole-call-${apps.length}`,
  );
  apps.push(app);
  const messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  return messaging;
}

function newApnProvider(): apn.Provider {
  const provider = new apn.Provider({
    token: { key: apnsKey, keyId: 'KEY1234567', teamId: 'TEAM123456' },
    address: '127.0.0.1',
    port: servers.apns.port,
    rejectUnauthorized: false,
    connectionRetryLimit: 0,
    requestTimeout: 2_000,
  });
  apnProviders.push(provider);
  return provider;
}

/** apns2 always dials <host>:443; its undici Pool is swapped for one on the loopback server, as in apns2.adapter.test.ts. */
function newApns2Client(): ApnsClient {
  const client = new ApnsClient({
    team: 'TEAM123456',
    keyId: 'KEY1234567',
    signingKey: apnsKey,
    defaultTopic: TOPIC,
    host: '127.0.0.1',
  });
  void client.client.close();
  const pool = new Pool(servers.apns.url, {
    allowH2: true,
    connect: { rejectUnauthorized: false },
    headersTimeout: 2_000,
  });
  Object.defineProperty(client, 'client', { value: pool, writable: true, configurable: true, enumerable: true });
  apns2Clients.push(client);
  return client;
}

function newSnsClient(): SNSClient {
  const client = new SNSClient({
    endpoint: servers.sns.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'revoked', secretAccessKey: 'revoked' },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  snsClients.push(client);
  return client;
}

// ---------------------------------------------------------------------------------------------------------------
// SDK result summaries (what "settles as the bare SDK would" compares).

const fcmBatch = (result: BatchResponse) => ({
  successCount: result.successCount,
  failureCount: result.failureCount,
  codes: result.responses.map((r) => (r.success ? 'ok' : (r.error?.code ?? 'no code'))),
});
const apnResult = (result: ApnResult) => ({
  sent: result.sent.map((s) => s.device),
  failed: result.failed.map((f) => ({
    device: f.device,
    status: f.status,
    reason: f.response?.reason,
    error: f.error?.message,
  })),
});
const apns2Results = (results: readonly Apns2Entry[]) =>
  results.map((entry) =>
    'error' in entry
      ? { status: entry.error.statusCode, reason: entry.error.reason, token: entry.error.notification.deviceToken }
      : { sent: entry.deviceToken },
  );
const expoTickets = (tickets: readonly unknown[]) => tickets;
const snsOutput = (output: { MessageId?: string; Successful?: unknown[]; Failed?: unknown[] }) => ({
  hasMessageId: output.MessageId !== undefined,
  successful: output.Successful?.length,
  failed: output.Failed,
});

const FCM_TOKENS = ['fcm-token-a', 'fcm-token-b', 'fcm-token-c'];
const APNS_TOKENS = ['a1a1a1a1', 'b2b2b2b2', 'c3c3c3c3'];
const EXPO_TOKENS = ['ExponentPushToken[aaaa]', 'ExponentPushToken[bbbb]', 'ExponentPushToken[cccc]'];
const SNS_ENDPOINT = 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/0b7a2b63-0000-4000-8000-000000000001';
const SNS_TOPIC = 'arn:aws:sns:us-east-1:000000000000:alerts';

// ---------------------------------------------------------------------------------------------------------------

describe('FCM (firebase-admin, legacy HTTP/1.1 transport): every request answered the same way', () => {
  let bare: Messaging;
  before(() => {
    bare = newMessaging(servers.fcm.url);
  });
  const instrument = (client: Messaging, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentFcm(client, telemetry, { onInvalidToken });
  const methods = {
    sendEachForMulticast: (client: Messaging) =>
      outcomeOf(() => client.sendEachForMulticast({ tokens: FCM_TOKENS, data: { kind: 'multicast' } }), fcmBatch),
    sendEach: (client: Messaging) =>
      outcomeOf(() => client.sendEach(FCM_TOKENS.map((token) => ({ token, notification: { title: 'hi' } }))), fcmBatch),
  } as const;
  for (const [method, call] of Object.entries(methods)) {
    for (const scenario of FCM_SCENARIOS) {
      it(`instrumentFcm ${method}: ${scenario.name}`, async (t) => {
        const run = await record({
          server: servers.fcm,
          answer: scenario.answer,
          provider: 'fcm',
          bare,
          instrument,
          call,
        });
        assertNoPrune(t, run, FCM_TOKENS.length);
        assert.equal(run.rawRequests, FCM_TOKENS.length, 'one request per token (none retried)');
      });
    }
  }
});

describe('APNs (@parse/node-apn): send(note, [t1, t2, t3]), every request answered the same way', () => {
  let bare: apn.Provider;
  before(() => {
    bare = newApnProvider();
  });
  const instrument = (client: apn.Provider, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentApns(client, telemetry, { app: TOPIC, onInvalidToken });
  const call = (client: apn.Provider) =>
    outcomeOf(() => {
      const note = new apn.Notification({ alert: 'Your order shipped' });
      note.topic = TOPIC;
      return client.send(note, APNS_TOKENS);
    }, apnResult);
  for (const scenario of APNS_SCENARIOS) {
    it(`instrumentApns send: ${scenario.name}`, async (t) => {
      const run = await record({
        server: servers.apns,
        answer: scenario.answer,
        provider: 'apns',
        bare,
        instrument,
        call,
      });
      assertNoPrune(t, run, APNS_TOKENS.length);
    });
  }
});

describe('APNs (apns2): sendMany of three notifications, every request answered the same way', () => {
  let bare: ApnsClient;
  before(() => {
    bare = newApns2Client();
  });
  const instrument = (client: ApnsClient, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentApns2(client, telemetry, { app: TOPIC, onInvalidToken });
  const call = (client: ApnsClient) =>
    outcomeOf(
      () => client.sendMany(APNS_TOKENS.map((token) => new Notification(token, { alert: 'Your order shipped' }))),
      apns2Results,
    );
  for (const scenario of APNS_SCENARIOS) {
    it(`instrumentApns2 sendMany: ${scenario.name}`, async (t) => {
      const run = await record({
        server: servers.apns,
        answer: scenario.answer,
        provider: 'apns',
        bare,
        instrument,
        call,
      });
      assertNoPrune(t, run, APNS_TOKENS.length);
    });
  }
});

describe('Expo (expo-server-sdk): sendPushNotificationsAsync of three messages, the request answered', () => {
  let bare: ExpoClient;
  before(() => {
    bare = new Expo({ retryMinTimeout: 1 });
  });
  const instrument = (client: ExpoClient, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentExpo(client, telemetry, { onInvalidToken });
  const call = (client: ExpoClient) =>
    outcomeOf(() => client.sendPushNotificationsAsync(EXPO_TOKENS.map((to) => ({ to, body: 'hi' }))), expoTickets);
  for (const scenario of EXPO_SCENARIOS) {
    it(`instrumentExpo sendPushNotificationsAsync: ${scenario.name}`, async (t) => {
      const run = await record({
        server: servers.expo,
        answer: scenario.answer,
        provider: 'expo',
        bare,
        instrument,
        call,
      });
      assertNoPrune(t, run, EXPO_TOKENS.length);
      assert.ok('rejected' in run.wrapped, 'the SDK rejects a whole-request error');
    });
  }

  it('one message with `to: [a, b, c]` is three recipients too', async (t) => {
    const callTo = (client: ExpoClient) =>
      outcomeOf(() => client.sendPushNotificationsAsync([{ to: EXPO_TOKENS, body: 'hi' }]), expoTickets);
    const run = await record({
      server: servers.expo,
      answer: PLAIN_404,
      provider: 'expo',
      bare,
      instrument,
      call: callTo,
    });
    assertNoPrune(t, run, EXPO_TOKENS.length);
  });
});

describe('SNS (@aws-sdk/client-sns): Publish to an endpoint and PublishBatch, the request answered', () => {
  let bare: SNSClient;
  before(() => {
    bare = newSnsClient();
  });
  const instrument = (client: SNSClient, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentSns(client, telemetry, { onInvalidToken });
  const publish = (client: SNSClient) =>
    outcomeOf(() => client.send(new PublishCommand({ TargetArn: SNS_ENDPOINT, Message: 'hi' })), snsOutput);
  const batch = (client: SNSClient) =>
    outcomeOf(
      () =>
        client.send(
          new PublishBatchCommand({
            TopicArn: SNS_TOPIC,
            PublishBatchRequestEntries: ['a', 'b', 'c'].map((id) => ({ Id: id, Message: `hi ${id}` })),
          }),
        ),
      snsOutput,
    );
  for (const scenario of SNS_SCENARIOS) {
    // An SNS endpoint publish has one recipient, but an HTTP 404/410/401/403 for the request is SNS (or whatever
    // answers at the configured endpoint) refusing the call, not saying the device is gone: SNS says that with
    // EndpointDisabled, a 400.
    it(`instrumentSns publish (TargetArn): ${scenario.name}`, async (t) => {
      const run = await record({
        server: servers.sns,
        answer: scenario.answer,
        provider: 'sns',
        bare,
        instrument,
        call: publish,
      });
      assertNoPrune(t, run, 1);
      assert.ok('rejected' in run.wrapped, 'the SDK rejects');
    });
    it(`instrumentSns publish_batch: ${scenario.name}`, async (t) => {
      const run = await record({
        server: servers.sns,
        answer: scenario.answer,
        provider: 'sns',
        bare,
        instrument,
        call: batch,
      });
      assertNoPrune(t, run, 3);
      assert.ok('rejected' in run.wrapped, 'the SDK rejects');
    });
  }
});

describe('OneSignal (@onesignal/node-onesignal): createNotification to three recipients, the request answered', () => {
  type OneSignalClient = ReturnType<typeof oneSignalClient>;
  type Response = { id?: string; errors?: unknown };
  const ONESIGNAL_IDS = ['sub-a', 'sub-b', 'sub-c'];
  let bare: OneSignalClient;
  before(() => {
    bare = oneSignalClient(servers.onesignal.url, { timeoutMs: 2_000 });
  });
  const instrument = (client: OneSignalClient, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentOneSignal(client, telemetry, { onInvalidToken });
  const summary = (response: Response) => ({ id: response.id, errors: response.errors });
  const targets = {
    'include_subscription_ids of three': { ids: ONESIGNAL_IDS, recipients: 3 },
    'include_aliases.external_id of three': { ids: { aliases: { external_id: ONESIGNAL_IDS } }, recipients: 3 },
    'a segment (no recipient listed)': { ids: { segments: ['Subscribed Users'] }, recipients: 1 },
  } as const;
  for (const [target, { ids, recipients }] of Object.entries(targets)) {
    for (const scenario of ONESIGNAL_SCENARIOS) {
      it(`instrumentOneSignal createNotification, ${target}: ${scenario.name}`, async (t) => {
        const run = await record({
          server: servers.onesignal,
          answer: scenario.answer,
          provider: 'onesignal',
          bare,
          instrument,
          call: (client) => outcomeOf(() => client.createNotification(notificationTo(ids)), summary),
        });
        assertNoPrune(t, run, recipients);
        assert.equal('rejected' in run.wrapped, scenario.answer.status !== 200, 'the SDK rejects what is not a 200');
      });
    }
  }
});

describe('Web Push (web-push): one subscription per call', () => {
  const instrument = (client: typeof webpush, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentWebPush(client, telemetry, { onInvalidToken });
  const autopush = (status: number, errno: number, error: string, message: string): CannedAnswer =>
    json(status, { code: status, errno, error, message });

  const revoked: readonly Scenario[] = [
    { name: '401 HTML', answer: HTML_401 },
    { name: '403 plain text', answer: PLAIN_403 },
    { name: '401 autopush errno 109', answer: autopush(401, 109, 'Unauthorized', 'Invalid Authentication') },
    { name: '403 Apple {"reason":"BadJwtToken"}', answer: json(403, { reason: 'BadJwtToken' }) },
  ];
  for (const scenario of revoked) {
    it(`instrumentWebPush sendNotification: revoked VAPID credentials, ${scenario.name} → no prune`, async (t) => {
      const subscription = webPushSubscription(servers.webpush.url, 'revoked-key');
      const call = (client: typeof webpush) =>
        outcomeOf(
          () => client.sendNotification(subscription, 'hi', webPushOptions),
          (r) => r.statusCode,
        );
      const run = await record({
        server: servers.webpush,
        answer: scenario.answer,
        provider: 'webpush',
        bare: webpush,
        instrument,
        call,
      });
      assertNoPrune(t, run, 1);
      assert.deepEqual(run.failed, { auth: 1 });
    });
  }

  // The canonical per-recipient case: a push service's 404/410 for a subscription is that subscription gone.
  const gone: readonly Scenario[] = [
    { name: '410 autopush errno 106', answer: autopush(410, 106, 'Gone', 'No such subscription') },
    { name: '410 plain text', answer: PLAIN_410 },
    { name: '404 plain text', answer: PLAIN_404 },
  ];
  for (const scenario of gone) {
    it(`instrumentWebPush sendNotification: a subscription answered ${scenario.name} → onInvalidToken once with its endpoint`, async (t) => {
      const subscription = webPushSubscription(servers.webpush.url, `gone-${scenario.answer.status}`);
      const call = (client: typeof webpush) =>
        outcomeOf(
          () => client.sendNotification(subscription, 'hi', webPushOptions),
          (r) => r.statusCode,
        );
      // With the surge guard on (the default): one verdict out of one call is nowhere near a surge.
      const run = await record({
        server: servers.webpush,
        answer: scenario.answer,
        provider: 'webpush',
        bare: webpush,
        instrument,
        call,
        guard: true,
      });
      t.diagnostic(
        `${describeOutcome(run.wrapped)}; counted failed ${JSON.stringify(run.failed)}; onInvalidToken ×${run.events.length}`,
      );
      assert.deepEqual(run.wrapped, run.raw);
      assert.deepEqual(run.failed, { unregistered: 1 });
      assert.equal(run.held, 0);
      assert.deepEqual(
        run.events.map((e) => [e.token, e.errorType, e.provider]),
        [[subscription.endpoint, 'unregistered', 'webpush']],
      );
    });
  }
});

describe('FCM per-recipient evidence still prunes', () => {
  let bare: Messaging;
  before(() => {
    bare = newMessaging(fcmFake.url);
  });
  const instrument = (client: Messaging, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
    instrumentFcm(client, telemetry, { onInvalidToken });
  const tokens = ['ok-token-1', 'gone-token', 'ok-token-2'];
  const methods = {
    sendEachForMulticast: (client: Messaging) =>
      outcomeOf(() => client.sendEachForMulticast({ tokens, data: { kind: 'multicast' } }), fcmBatch),
    sendEach: (client: Messaging) => outcomeOf(() => client.sendEach(tokens.map((token) => ({ token }))), fcmBatch),
  } as const;
  for (const [method, call] of Object.entries(methods)) {
    it(`${method}: UNREGISTERED for one token of three → onInvalidToken for exactly that token`, async (t) => {
      fcmFake.faults.set({ rules: [{ match: 'gone-token', fault: 'unregistered' }] });
      const telemetry = new PushTelemetry();
      const events: InvalidTokenEvent[] = [];
      const result = await call(instrument(bare, telemetry, (event) => void events.push(event)));
      const { accepted, failed } = await messageCounts(telemetry, 'fcm');
      t.diagnostic(`counted accepted ${accepted}, failed ${JSON.stringify(failed)}; onInvalidToken ×${events.length}`);
      assert.deepEqual(result, {
        resolved: {
          successCount: 2,
          failureCount: 1,
          codes: ['ok', 'messaging/registration-token-not-registered', 'ok'],
        },
      });
      assert.equal(accepted, 2);
      assert.deepEqual(failed, { unregistered: 1 });
      assert.deepEqual(
        events.map((e) => [e.token, e.errorType, e.reason]),
        [['gone-token', 'unregistered', 'messaging/registration-token-not-registered']],
      );
      assert.deepEqual(telemetry.heldInvalidTokens(), []);
    });
  }
});

describe('the surge guard, with whole-call evidence out of the way', () => {
  it('apns2 sendMany of 25 devices all answered 410 Unregistered → held, not pruned (guard on)', async (t) => {
    const tokens = Array.from({ length: 25 }, (_, i) => `dead${String(i).padStart(4, '0')}`);
    const client = newApns2Client();
    const instrument = (c: ApnsClient, telemetry: PushTelemetry, onInvalidToken: OnInvalidToken) =>
      instrumentApns2(c, telemetry, { app: TOPIC, onInvalidToken });
    const call = (c: ApnsClient) =>
      outcomeOf(() => c.sendMany(tokens.map((token) => new Notification(token, { alert: 'hi' }))), apns2Results);
    const run = await record({
      server: servers.apns,
      answer: json(410, { reason: 'Unregistered', timestamp: 1 }),
      provider: 'apns',
      bare: client,
      instrument,
      call,
      guard: true,
    });
    t.diagnostic(
      `counted failed ${JSON.stringify(run.failed)}; onInvalidToken ×${run.events.length}; held ${run.held}`,
    );
    assert.deepEqual(run.wrapped, run.raw);
    assert.deepEqual(run.failed, { unregistered: 25 });
    assert.deepEqual(run.events, [], 'a mass verdict is held, not passed on');
    const holds = run.telemetry.heldInvalidTokens();
    assert.equal(holds.length, 1);
    assert.equal(holds[0]?.trigger, 'batch');
    assert.equal(holds[0]?.count, 25);
    assert.deepEqual(holds[0]?.events.map((e) => e.token).sort(), [...tokens].sort());
    holds[0]?.discard();
  });
});

describe('a project that does not exist (FCM): per-message answers no SDK can tell from uninstalls', () => {
  // firebase-admin maps Google's 404 NOT_FOUND without an FcmError detail, which is what a wrong project id gets, to
  // messaging/registration-token-not-registered per message, with the very text of a real UNREGISTERED answer. No
  // adapter can tell the two apart, so the surge guard's window is the backstop: it holds from the 100th verdict.
  it('sendEachForMulticast of 3 tokens, 40 times: the first 99 verdicts pass, every later one is held', async () => {
    servers.fcm.answer = rpc(404, 'NOT_FOUND', 'Requested entity was not found.');
    const telemetry = new PushTelemetry();
    const events: InvalidTokenEvent[] = [];
    const fcm = instrumentFcm(newMessaging(servers.fcm.url), telemetry, {
      onInvalidToken: (event) => void events.push(event),
    });
    for (let call = 0; call < 40; call++) {
      const tokens = [0, 1, 2].map((i) => `wrong-project-${call}-${i}`);
      const result = await fcm.sendEachForMulticast({ tokens, data: { kind: 'multicast' } });
      assert.equal(result.failureCount, 3);
    }
    assert.equal(events.length, 99, 'pruned before the window reached 100 verdicts');
    const [hold] = telemetry.heldInvalidTokens();
    assert.equal(hold?.trigger, 'window');
    assert.equal(hold?.count, 21);
    const metrics = await telemetry.registry.metrics();
    assert.match(metrics, /push_invalid_tokens_held_total\{provider="fcm"\} 21/);
    hold?.discard();
  });
});
