/**
 * Issue 7, "Tokens and payloads": sends through every adapter with a distinctive device token and payload, over the
 * simulator, with a mix of outcomes (success, unregistered, invalid_token, provider_unavailable, auth,
 * payload_too_large, hang with a short SDK timeout, reset), then searches every artifact push-telemetry emits — the
 * /metrics text (Prometheus and OpenMetrics), /healthz, every span (name, attributes, events, status, links,
 * resource, scope), everything written to the OpenTelemetry diag logger, health(), and the messages of the errors
 * push-telemetry itself throws — for the token and payload markers. The errors the SDKs throw are theirs and are
 * handed back unchanged; they are not searched.
 */
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { pino } from 'pino';
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import apn from '@parse/node-apn';
import { ApnsClient, Notification as Apns2Notification } from 'apns2';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { Agent, Pool } from 'undici';
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
  startMetricsServer,
  type ErrorType,
  type FailedMessage,
  type InvalidTokenEvent,
} from '../src/index.js';
import {
  fcmLoopbackAgent,
  startSimulator,
  webPushSubscription,
  type FaultRule,
  type Simulator,
} from '../src/simulator/index.js';
import { redactMessage, redactReason } from '../src/core/redact.js';
import { createTracing, scrape, type Sample, type Tracing } from './helpers.js';
import { notificationTo, oneSignalClient } from './onesignal-client.js';

type ExpoModule = typeof import('expo-server-sdk');

// ---------------------------------------------------------------------------------------------------------------
// Markers. Every token is longer than 40 characters: describe() quotes shorter strings in option errors on purpose.

const TOKEN_MARK = 'LEAKTOKEN7f3a9d2e';
const PAYLOAD_MARK = 'LEAKPAYLOAD9c1e4b7a';
const MARKERS = [TOKEN_MARK, PAYLOAD_MARK] as const;
const PAD = '0123456789abcdef0123456789abcdef';
const SECRET = 'leak-test-hmac-secret-0123456789';
const HASH_LENGTH = 16;

const OUTCOMES = [
  'ok',
  'unregistered',
  'invalid_token',
  'provider_unavailable',
  'auth',
  'payload_too_large',
  'hang',
  'reset',
] as const;
type Outcome = (typeof OUTCOMES)[number];
const FAULTS = OUTCOMES.filter((o): o is Exclude<Outcome, 'ok'> => o !== 'ok');

const TITLE = `Order ${PAYLOAD_MARK}-title shipped`;
const BODY = `Your parcel ${PAYLOAD_MARK}-body is on its way`;
const DATA = { secret: `${PAYLOAD_MARK}-data`, order: '42' };
const TOPIC = 'com.example.leaks';

/** Every token (or endpoint URL, or endpoint ARN) sent, for the token-hash expectations. */
const sentTokens = new Set<string>();
function remember(token: string): string {
  sentTokens.add(token);
  return token;
}
const rawToken = (adapter: string, what: string): string =>
  `${TOKEN_MARK}-${adapter}-${what.replace(/_/g, '-')}-${PAD}`;

const fcmToken = (o: string) => remember(rawToken('fcm', o));
const apnToken = (o: string) => remember(rawToken('apn', o));
const apns2Token = (o: string) => remember(rawToken('apns2', o));
const webPushId = (o: string) => rawToken('webpush', o);
const expoToken = (o: string) => remember(`ExponentPushToken[${rawToken('expo', o)}]`);
const snsArn = (o: string) => remember(`arn:aws:sns:us-east-1:000000000000:endpoint/GCM/leaks/${rawToken('sns', o)}`);
const snsBatchId = (o: string) => `${TOKEN_MARK}-batch-${o.replace(/_/g, '-')}`;
const SNS_TOPIC = `arn:aws:sns:us-east-1:000000000000:${TOKEN_MARK}-topic-${PAD}`;
const customToken = (o: string) => remember(rawToken('custom', o));
const oneSignalId = (o: string) => remember(rawToken('onesignal', o));
// OneSignal's 400 for a malformed id quotes every id of the request in its message (and the SDK's ApiException
// quotes the whole body): the leak search must find none of it.
const ONESIGNAL_BAD_FORMAT = {
  status: 400,
  reason: `Incorrect player_id format in include_player_ids (not a valid UUID): ["${rawToken('onesignal', 'bad-format')}"]`,
};

const hashOf = (token: string, length = HASH_LENGTH) =>
  createHmac('sha256', SECRET).update(token).digest('hex').slice(0, length);

function rulesFor(key: (outcome: string) => string, outcomes: readonly Exclude<Outcome, 'ok'>[] = FAULTS): FaultRule[] {
  return outcomes.map((outcome) => ({ match: key(outcome), fault: outcome }));
}

// ---------------------------------------------------------------------------------------------------------------
// The diag logger: installed before anything runs, at the most verbose level.

const diagLines: string[] = [];
const capture =
  (level: string) =>
  (message: string, ...args: unknown[]): void => {
    diagLines.push(
      `${level} ${message} ${args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 6 }))).join(' ')}`,
    );
  };
const capturingLogger: DiagLogger = {
  error: capture('error'),
  warn: capture('warn'),
  info: capture('info'),
  debug: capture('debug'),
  verbose: capture('verbose'),
};
diag.setLogger(capturingLogger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });

// ---------------------------------------------------------------------------------------------------------------
// Searching.

/** The markers (case-insensitive) found in `text`. */
function markersIn(text: string): string[] {
  const lower = text.toLowerCase();
  return MARKERS.filter((marker) => lower.includes(marker.toLowerCase()));
}

function assertClean(text: string, where: string): void {
  const found = markersIn(text);
  if (found.length === 0) return;
  const marker = found[0] as string;
  const at = text.toLowerCase().indexOf(marker.toLowerCase());
  assert.fail(`${where} contains ${found.join(' and ')}: …${text.slice(Math.max(0, at - 120), at + 80)}…`);
}

/** Everything a span exporter would send for this span, as text. */
function spanText(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    kind: span.kind,
    attributes: span.attributes,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    status: span.status,
    links: span.links.map((link) => ({ context: link.context, attributes: link.attributes })),
    resource: span.resource.attributes,
    scope: span.instrumentationScope,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The run.

let sim: Simulator;
let tracing: Tracing;
/** Every adapter sends through this one: token hashing and exemplars on, so every code path that touches a token runs. */
let telemetry: PushTelemetry;
/** The plain wrapSender sends through this one: no token hash, so spans must carry none. */
let plainTelemetry: PushTelemetry;
let mainDiag: string[] = [];
// The failure log of both instances, every record kept (no rate limit in effect): pino lines and OpenTelemetry records.
const logLines: string[] = [];
const logExporter = new InMemoryLogRecordExporter();
const failureLog = {
  logger: pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) }),
  loggerProvider: new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] }),
  logRateLimit: { burst: 10_000, intervalSeconds: 3600 },
};
const cleanups: Array<() => unknown> = [];
const invalidTokens = new Map<string, InvalidTokenEvent[]>();

function onInvalidTokenFor(adapter: string): (event: InvalidTokenEvent) => void {
  const events: InvalidTokenEvent[] = [];
  invalidTokens.set(adapter, events);
  return (event) => void events.push(event);
}

/**
 * Runs a send, sync throws included. The SDK's value or error is not inspected: the SDK's errors are its own, handed
 * back unchanged, and the adapter tests check them. (`adapter` names the call site in a debugger.)
 */
async function attempt(_adapter: string, send: () => unknown): Promise<unknown> {
  try {
    return await send();
  } catch {
    return undefined;
  }
}

// One P-256 key per run for both APNs SDKs' provider JWTs.
const apnsKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
/** The SDK timeout behind every `hang`: generous, since the first sends of six SDKs share one event loop. */
const TIMEOUT_MS = 1000;
const webPushAgent = new https.Agent({ rejectUnauthorized: false });
const expoHangAgent = new Agent({ headersTimeout: TIMEOUT_MS });

/**
 * Each adapter is prepared first — clients built and warmed up with one uninstrumented send, so module loading and
 * connection setup are over — and the instrumented sends, timeouts included, then all run at once.
 */
type Scenario = () => Promise<void>;

async function prepareFcm(): Promise<Scenario> {
  // firebase-admin retries timeouts and resets 4 times (1 + 2 + 4 s of backoff): each attempt is capped at 200 ms.
  const agent = fcmLoopbackAgent(sim.fake('fcm').url, { timeoutMs: 200 });
  cleanups.push(() => agent.destroy());
  const credential = { getAccessToken: async () => ({ access_token: 'test-access-token', expires_in: 3600 }) };
  const app = initializeApp({ projectId: 'leaks-project', credential, httpAgent: agent }, 'leaks-fcm');
  cleanups.push(() => deleteApp(app));
  const messaging = getMessaging(app);
  // send() speaks HTTP/1.1 through the agent; sendEach* do too with the legacy transport.
  messaging.enableLegacyHttpTransport();
  await messaging.send({ token: 'warm-up' });
  const fcm = instrumentFcm(messaging, telemetry, { app: 'leaks.fcm', onInvalidToken: onInvalidTokenFor('fcm') });
  const message = (token: string) => ({ token, notification: { title: TITLE, body: BODY }, data: DATA });
  return async () => {
    await Promise.all([
      ...OUTCOMES.map((o) => attempt('fcm', () => fcm.send(message(fcmToken(o))))),
      attempt('fcm', () => fcm.sendEach(OUTCOMES.map((o) => message(fcmToken(o))))),
      attempt('fcm', () =>
        fcm.sendEachForMulticast({
          tokens: ['ok', 'unregistered', 'invalid_token', 'auth'].map(fcmToken),
          notification: { title: TITLE, body: BODY },
          data: DATA,
        }),
      ),
    ]);
  };
}

function apnNote(alertBody = BODY): apn.Notification {
  const note = new apn.Notification();
  note.alert = { title: TITLE, body: alertBody };
  note.payload = { data: DATA };
  note.topic = TOPIC;
  return note;
}

async function prepareNodeApn(): Promise<Scenario> {
  const provider = new apn.Provider({
    token: { key: apnsKey, keyId: 'KEY1234567', teamId: 'TEAM123456' },
    address: '127.0.0.1',
    port: sim.fake('apns').port,
    rejectUnauthorized: false,
    connectionRetryLimit: 0,
    requestTimeout: TIMEOUT_MS,
  });
  cleanups.push(() => provider.shutdown());
  const warm = await provider.send(apnNote(), 'warm-up');
  assert.equal(warm.sent.length, 1, 'node-apn warm-up');
  const apns = instrumentApns(provider, telemetry, {
    app: 'leaks.node-apn',
    onInvalidToken: onInvalidTokenFor('node-apn'),
  });
  const channel = new apn.Notification();
  channel.alert = { title: TITLE, body: BODY };
  channel.channelId = `${TOKEN_MARK}-channel-${PAD}`;
  return async () => {
    await Promise.all([
      attempt('node-apn', () => apns.send(apnNote(), OUTCOMES.map(apnToken))),
      ...OUTCOMES.map((o) => attempt('node-apn', () => apns.send(apnNote(), apnToken(o)))),
      // A real 413: over APNs' 4 KB, which the fake enforces.
      attempt('node-apn', () => apns.send(apnNote(`${PAYLOAD_MARK} ${'x'.repeat(5000)}`), apnToken('too-big'))),
      attempt('node-apn', () => (apns.broadcast as NonNullable<typeof apns.broadcast>)([channel], TOPIC)),
    ]);
  };
}

async function prepareApns2(): Promise<Scenario> {
  const client = new ApnsClient({
    team: 'TEAM123456',
    keyId: 'KEY1234567',
    signingKey: apnsKey,
    defaultTopic: TOPIC,
    host: '127.0.0.1',
  });
  // apns2 always dials port 443: its undici Pool is swapped for one on the fake, with a short headers timeout.
  void client.client.close();
  const pool = new Pool(sim.fake('apns').url, {
    allowH2: true,
    connect: { rejectUnauthorized: false },
    headersTimeout: TIMEOUT_MS,
  });
  Object.defineProperty(client, 'client', { value: pool, writable: true, configurable: true, enumerable: true });
  cleanups.push(() => client.destroy());
  const note = (token: string, body = BODY) =>
    new Apns2Notification(token, { alert: { title: TITLE, body }, data: DATA });
  await client.send(note('warm-up'));
  const apns = instrumentApns2(client, telemetry, { app: 'leaks.apns2', onInvalidToken: onInvalidTokenFor('apns2') });
  return async () => {
    await Promise.all([
      ...OUTCOMES.map((o) => attempt('apns2', () => apns.send(note(apns2Token(o))))),
      attempt('apns2', () => apns.sendMany(OUTCOMES.map((o) => note(apns2Token(o))))),
      attempt('apns2', () => apns.send(note(apns2Token('too-big'), `${PAYLOAD_MARK} ${'x'.repeat(5000)}`))),
    ]);
  };
}

async function prepareWebPush(): Promise<Scenario> {
  const vapid = webpush.generateVAPIDKeys();
  const options = {
    agent: webPushAgent,
    vapidDetails: { subject: 'mailto:ops@example.com', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
    TTL: 60,
    timeout: TIMEOUT_MS,
  };
  const url = sim.fake('webpush').url;
  const payload = JSON.stringify({ title: TITLE, body: BODY, data: DATA });
  await webpush.sendNotification(webPushSubscription(url, 'warm-up'), payload, options);
  const client = instrumentWebPush(webpush, telemetry, {
    app: 'leaks.webpush',
    onInvalidToken: onInvalidTokenFor('webpush'),
  });
  const subscription = (o: string) => {
    const found = webPushSubscription(url, webPushId(o));
    remember(found.endpoint);
    return found;
  };
  return async () => {
    await Promise.all([
      ...OUTCOMES.map((o) => attempt('webpush', () => client.sendNotification(subscription(o), payload, options))),
      // A real 413: an encrypted body over the 4096 bytes push services take.
      attempt('webpush', () =>
        client.sendNotification(subscription('too-big'), `${PAYLOAD_MARK} ${'x'.repeat(5000)}`, options),
      ),
    ]);
  };
}

let Expo: ExpoModule['Expo'];

async function prepareExpo(): Promise<Scenario> {
  const raw = new Expo({ retryMinTimeout: 1 });
  const rawHang = new Expo({ retryMinTimeout: 1, httpAgent: expoHangAgent });
  const message = (to: string | string[]) => ({ to, title: TITLE, body: BODY, data: DATA });
  await Promise.all([
    raw.sendPushNotificationsAsync([message('ExponentPushToken[warm-up]')]),
    rawHang.sendPushNotificationsAsync([message('ExponentPushToken[warm-up]')]),
  ]);
  const onInvalidToken = onInvalidTokenFor('expo');
  const expo = instrumentExpo(raw, telemetry, { app: 'leaks.expo', onInvalidToken });
  const expoHang = instrumentExpo(rawHang, telemetry, { app: 'leaks.expo', onInvalidToken });
  const ticketLevel = ['ok', 'unregistered', 'invalid_token', 'auth', 'payload_too_large', 'receipt-gone'] as const;
  return async () => {
    const [batch] = await Promise.all([
      attempt('expo', () => expo.sendPushNotificationsAsync([message(ticketLevel.map(expoToken))])),
      // One recipient per call: a call whose every message failed records its single reason on the span itself.
      ...['unregistered', 'invalid_token', 'auth', 'payload_too_large'].map((o) =>
        attempt('expo', () => expo.sendPushNotificationsAsync([message(expoToken(o))])),
      ),
      // Whole-request failures: every token of the call is cut out of the SDK's message on the span.
      attempt('expo', () =>
        expo.sendPushNotificationsAsync([message([expoToken('ok'), expoToken('provider_unavailable')])]),
      ),
      attempt('expo', () => expo.sendPushNotificationsAsync([message(expoToken('reset'))])),
      attempt('expo', () => expoHang.sendPushNotificationsAsync([message([expoToken('ok'), expoToken('hang')])])),
    ]);
    const ids =
      (batch as Array<{ status: string; id?: string }> | undefined)?.flatMap((ticket) =>
        ticket.id === undefined ? [] : [ticket.id],
      ) ?? [];
    assert.ok(ids.length >= 2, 'the batch produced ok tickets to ask receipts for');
    await attempt('expo', () => expo.getPushNotificationReceiptsAsync(ids));
    // A receipts call that fails as a whole; the fake picks faults for getReceipts by receipt id. Same rules otherwise.
    sim.fake('expo').faults.set({ rules: [...expoFakeRules, { match: 'receipt-reset', fault: 'reset' }] });
    await attempt('expo', () => expo.getPushNotificationReceiptsAsync(['receipt-reset']));
  };
}

async function prepareSns(): Promise<Scenario> {
  const client = new SNSClient({
    endpoint: sim.fake('sns').url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    // requestTimeout alone only logs a warning in @smithy/node-http-handler 4.x; it must be told to throw.
    requestHandler: { requestTimeout: TIMEOUT_MS, throwOnRequestTimeout: true },
  });
  cleanups.push(() => client.destroy());
  const message = JSON.stringify({ title: TITLE, body: BODY, data: DATA });
  await client.send(
    new PublishCommand({
      TargetArn: 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/leaks/warm-up',
      Message: message,
    }),
  );
  await client.send(
    new PublishBatchCommand({
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:warm-up',
      PublishBatchRequestEntries: [{ Id: 'warm-up', Message: message }],
    }),
  );
  const sns = instrumentSns(client, telemetry, { app: 'leaks.sns', onInvalidToken: onInvalidTokenFor('sns') });
  const entries = (os: readonly string[]) => os.map((o) => ({ Id: snsBatchId(o), Message: message }));
  const batch = (os: readonly string[]) =>
    attempt('sns', () =>
      sns.send(new PublishBatchCommand({ TopicArn: SNS_TOPIC, PublishBatchRequestEntries: entries(os) })),
    );
  return async () => {
    await Promise.all([
      ...OUTCOMES.map((o) =>
        attempt('sns', () => sns.send(new PublishCommand({ TargetArn: snsArn(o), Message: message }))),
      ),
      // A real "Message too long": over SNS's 256 KiB.
      attempt('sns', () =>
        sns.send(
          new PublishCommand({ TargetArn: snsArn('too-big'), Message: `${PAYLOAD_MARK} ${'x'.repeat(262_144)}` }),
        ),
      ),
      batch(['ok', 'unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large']),
      batch(['unregistered']),
      batch(['ok', 'reset']),
      batch(['ok', 'hang']),
    ]);
  };
}

async function prepareOneSignal(): Promise<Scenario> {
  const url = sim.fake('onesignal').url;
  await oneSignalClient(url).createNotification(notificationTo(['warm-up']));
  const options = { app: 'leaks.onesignal', onInvalidToken: onInvalidTokenFor('onesignal') };
  const client = instrumentOneSignal(oneSignalClient(url), telemetry, options);
  // The SDK has no timeout of its own: `hang` needs the client with one.
  const timed = instrumentOneSignal(oneSignalClient(url, { timeoutMs: TIMEOUT_MS }), telemetry, options);
  const notification = (ids: readonly string[]) => {
    const n = notificationTo(ids);
    n.headings = { en: TITLE };
    n.contents = { en: BODY };
    n.data = DATA;
    return n;
  };
  // One request at a time: the other adapters' timeouts are what this run's concurrency is about.
  return async () => {
    await attempt('onesignal', () =>
      client.createNotification(notification(['ok', 'unregistered', 'invalid_token'].map(oneSignalId))),
    );
    await attempt('onesignal', () => client.createNotification(notification([oneSignalId('bad-format')])));
    await attempt('onesignal', () =>
      client.createNotificationWithRetry(notification([oneSignalId('ok'), oneSignalId('invalid_token')])),
    );
    for (const o of OUTCOMES)
      await attempt('onesignal', () => timed.createNotification(notification([oneSignalId(o)])));
  };
}

interface Ticket {
  readonly status: 'ok' | 'error';
  readonly id?: string;
  readonly message?: string;
  readonly details?: { readonly error?: string };
}

/**
 * A hand-written sender on the fake Expo service's HTTP API, of the kind wrapSender exists for. Like some SDKs it
 * quotes the recipients in its error messages, and its settle passes the provider's ticket message (which quotes the
 * token) as the reason: the span must still never show a token.
 */
async function pushOverHttp(
  tokens: readonly string[],
  note: { title: string; body: string; data: object },
): Promise<Ticket[]> {
  const head = `push request for ${tokens.length} recipient(s) failed`;
  let response: Response;
  try {
    response = await fetch(`${sim.fake('expo').url}/--/api/v2/push/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tokens.map((to) => ({ to, ...note }))),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new Error(`${head} (${(error as Error).message}) for ${tokens.join(', ')}`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw Object.assign(new Error(`${head} with HTTP ${response.status} for ${tokens.join(', ')}`), {
      statusCode: response.status,
    });
  }
  return ((await response.json()) as { data: Ticket[] }).data;
}

function ticketType(ticket: Ticket): ErrorType {
  if (/not a valid/.test(ticket.message ?? '')) return 'invalid_token';
  const types: Record<string, ErrorType> = {
    DeviceNotRegistered: 'unregistered',
    InvalidCredentials: 'auth',
    MessageTooBig: 'payload_too_large',
  };
  return types[ticket.details?.error ?? ''] ?? 'unknown';
}

async function preparePlain(): Promise<Scenario> {
  const note = { title: TITLE, body: BODY, data: DATA };
  await pushOverHttp(['warm-up'], note);
  const send = plainTelemetry.wrapSender(pushOverHttp, {
    provider: 'custom',
    app: 'leaks.plain',
    tokens: ([tokens]) => tokens,
    // A reason hook a user might well write: the error's own message.
    reason: (error) => (error instanceof Error ? error.message : undefined),
    settle: (tickets, [tokens]) => {
      let accepted = 0;
      const failed: FailedMessage[] = [];
      tickets.forEach((ticket, i) => {
        if (ticket.status === 'ok') accepted++;
        else
          failed.push({
            errorType: ticketType(ticket),
            ...(ticket.message !== undefined && { reason: ticket.message }),
            ...(tokens[i] !== undefined && { token: tokens[i] }),
          });
      });
      return { accepted, failed };
    },
    onInvalidToken: onInvalidTokenFor('plain'),
  });
  const ticketLevel = ['ok', 'unregistered', 'invalid_token', 'auth', 'payload_too_large'];
  // Thirty recipients whose whole request fails: the error lists them all, far past the recorded message length.
  const many = Array.from({ length: 30 }, (_, i) => customToken(`many-${i}`));
  return async () => {
    await Promise.all([
      attempt('plain', () => send(ticketLevel.map(customToken), note)),
      ...['unregistered', 'invalid_token', 'auth', 'payload_too_large'].map((o) =>
        attempt('plain', () => send([customToken(o)], note)),
      ),
      attempt('plain', () => send([customToken('ok'), customToken('provider_unavailable')], note)),
      attempt('plain', () => send([customToken('hang')], note)),
      attempt('plain', () => send([customToken('ok'), customToken('reset')], note)),
      attempt('plain', () => send(many, note)),
    ]);
  };
}

let expoFakeRules: FaultRule[] = [];

before(async () => {
  expoFakeRules = [
    ...rulesFor(expoToken),
    { match: expoToken('receipt-gone'), fault: { status: 200, reason: 'DeviceNotRegistered' } },
    ...rulesFor(customToken),
    { match: customToken('many-0'), fault: 'provider_unavailable' },
  ];
  sim = await startSimulator({
    faults: {
      fcm: { rules: rulesFor(fcmToken) },
      apns: {
        rules: [
          ...rulesFor(apnToken),
          ...rulesFor(apns2Token),
          { match: `${TOKEN_MARK}-channel-${PAD}`, fault: 'unregistered' },
        ],
      },
      webpush: { rules: rulesFor(webPushId) },
      expo: { rules: expoFakeRules },
      sns: { rules: [...rulesFor(snsArn), ...rulesFor(snsBatchId)] },
      onesignal: {
        rules: [...rulesFor(oneSignalId), { match: oneSignalId('bad-format'), fault: ONESIGNAL_BAD_FORMAT }],
      },
    },
  });
  // expo-server-sdk reads EXPO_BASE_URL once, when first imported.
  process.env.EXPO_BASE_URL = sim.fake('expo').url;
  ({ Expo } = await import('expo-server-sdk'));
  tracing = createTracing();
  telemetry = new PushTelemetry({
    tracerProvider: tracing.tracerProvider,
    tokenHash: { secret: SECRET },
    exemplars: true,
    ...failureLog,
  });
  plainTelemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider, ...failureLog });
  const scenarios: Scenario[] = [];
  for (const prepare of [
    prepareFcm,
    prepareNodeApn,
    prepareApns2,
    prepareWebPush,
    prepareExpo,
    prepareSns,
    prepareOneSignal,
    preparePlain,
  ])
    scenarios.push(await prepare());
  await Promise.all(scenarios.map((run) => run()));
  mainDiag = diagLines.slice();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // Closing one client must not keep the others open.
    }
  }
  webPushAgent.destroy();
  await expoHangAgent.close();
  await sim?.close();
  await tracing?.shutdown();
  delete process.env.EXPO_BASE_URL;
  diag.disable();
});

// ---------------------------------------------------------------------------------------------------------------

const ADAPTERS: ReadonlyArray<{
  name: string;
  provider: string;
  app: string;
  types: readonly ErrorType[];
  operations: readonly string[];
}> = [
  {
    name: 'fcm',
    provider: 'fcm',
    app: 'leaks.fcm',
    types: ['unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large', 'timeout', 'network'],
    operations: ['send', 'send_each', 'send_each_for_multicast'],
  },
  {
    name: 'node-apn',
    provider: 'apns',
    app: 'leaks.node-apn',
    types: ['unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large', 'timeout', 'network'],
    operations: ['send', 'broadcast'],
  },
  {
    name: 'apns2',
    provider: 'apns',
    app: 'leaks.apns2',
    types: ['unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large', 'timeout', 'network'],
    operations: ['send', 'send_many'],
  },
  {
    name: 'webpush',
    provider: 'webpush',
    app: 'leaks.webpush',
    types: ['unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large', 'timeout', 'network'],
    operations: ['send_notification'],
  },
  {
    name: 'expo',
    provider: 'expo',
    app: 'leaks.expo',
    types: ['unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large', 'timeout', 'network'],
    operations: ['send_push_notifications', 'get_push_notification_receipts'],
  },
  // SNS has no invalid-token answer: a bad endpoint ARN is InvalidParameter, payload_invalid.
  {
    name: 'sns',
    provider: 'sns',
    app: 'leaks.sns',
    types: [
      'unregistered',
      'payload_invalid',
      'provider_unavailable',
      'auth',
      'payload_too_large',
      'timeout',
      'network',
    ],
    operations: ['publish', 'publish_batch'],
  },
  {
    name: 'onesignal',
    provider: 'onesignal',
    app: 'leaks.onesignal',
    types: ['unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large', 'timeout', 'network'],
    operations: ['create_notification', 'create_notification_with_retry'],
  },
  {
    name: 'plain',
    provider: 'custom',
    app: 'leaks.plain',
    types: ['unregistered', 'invalid_token', 'provider_unavailable', 'auth', 'payload_too_large', 'timeout', 'network'],
    operations: ['send'],
  },
];

function failedTypes(samples: readonly Sample[], provider: string, app: string): Set<string> {
  return new Set(
    samples
      .filter(
        (s) =>
          s.name === 'push_messages_total' &&
          s.labels.provider === provider &&
          s.labels.app === app &&
          s.labels.outcome === 'failed' &&
          s.value > 0,
      )
      .map((s) => s.labels.error_type as string),
  );
}

function accepted(samples: readonly Sample[], provider: string, app: string): number {
  return (
    samples.find(
      (s) =>
        s.name === 'push_messages_total' &&
        s.labels.provider === provider &&
        s.labels.app === app &&
        s.labels.outcome === 'accepted',
    )?.value ?? 0
  );
}

describe('the run itself (without it the searches below prove nothing)', () => {
  for (const adapter of ADAPTERS) {
    it(`${adapter.name}: the sends succeeded and failed as scripted, and the raw tokens did reach push-telemetry`, async () => {
      const { samples } = await scrape(adapter.provider === 'custom' ? plainTelemetry : telemetry);
      assert.ok(accepted(samples, adapter.provider, adapter.app) > 0, 'some messages accepted');
      const types = failedTypes(samples, adapter.provider, adapter.app);
      for (const type of adapter.types) assert.ok(types.has(type), `${type} among ${[...types].join(', ')}`);
      const spans = tracing.spans().filter((span) => span.attributes['push.app'] === adapter.app);
      assert.deepEqual(
        [...new Set(spans.map((span) => span.name))].sort(),
        adapter.operations.map((op) => `${op} ${adapter.provider}`).sort(),
      );
      // Positive control: onInvalidToken got the raw tokens, so they were in push-telemetry's hands.
      const events = invalidTokens.get(adapter.name) ?? [];
      assert.ok(events.length > 0, 'onInvalidToken was called');
      for (const event of events) assert.ok(event.token.includes(TOKEN_MARK), event.token);
    });
  }

  it('expo: the receipts call counted the failed receipt', async () => {
    const { samples } = await scrape(telemetry);
    const gone = samples.find(
      (s) =>
        s.name === 'push_receipts_total' && s.labels.app === 'leaks.expo' && s.labels.error_type === 'unregistered',
    );
    assert.equal(gone?.value, 1);
    assert.ok(
      (invalidTokens.get('expo') ?? []).some((event) => event.token === expoToken('receipt-gone')),
      'the token remembered from its ticket',
    );
  });
});

describe('no token or payload in any artifact', () => {
  it('/metrics, Prometheus text format', async () => {
    for (const t of [telemetry, plainTelemetry]) {
      const { text } = await scrape(t);
      assert.match(text, /push_messages_total/);
      assertClean(text, '/metrics');
    }
  });

  it('/metrics, OpenMetrics with exemplars', async () => {
    const { text, contentType } = await scrape(telemetry, 'application/openmetrics-text; version=1.0.0');
    assert.match(contentType ?? '', /openmetrics/);
    assert.match(text, /trace_id=/, 'exemplars are on');
    assertClean(text, '/metrics (OpenMetrics)');
  });

  it('/healthz and health()', async () => {
    for (const t of [telemetry, plainTelemetry]) {
      assertClean(JSON.stringify(t.health()), 'health()');
      const server = await startMetricsServer({ telemetry: t, port: 0 });
      try {
        const response = await fetch(`${server.url}/healthz`);
        assertClean(await response.text(), '/healthz');
      } finally {
        await server.close();
      }
    }
  });

  it('every span: name, attributes, events, status, links, resource and scope', () => {
    const spans = tracing.spans();
    assert.ok(spans.length >= 60, `${spans.length} spans`);
    assert.ok(
      spans.some((span) => span.events.some((event) => event.name === 'exception')),
      'some exception events',
    );
    assert.ok(
      spans.some((span) => span.events.some((event) => event.name === 'push.message.failed')),
      'some failure events',
    );
    assert.ok(
      spans.some((span) => typeof span.status.message === 'string' && span.status.message.includes('<token>')),
      'some messages had a token cut out',
    );
    for (const span of spans)
      assertClean(spanText(span), `span "${span.name}" (${String(span.attributes['push.app'])})`);
  });

  it('everything written to the diag logger', () => {
    for (const line of mainDiag) assertClean(line, 'diag');
  });

  it('every failure log record, pino line and OpenTelemetry record', () => {
    const records = logExporter.getFinishedLogRecords();
    assert.ok(logLines.length >= 30, `${logLines.length} pino lines`);
    assert.equal(records.length, logLines.length, 'one OpenTelemetry record per pino line');
    assert.ok(
      logLines.some((line) => line.includes('"reason"')),
      'some provider reasons',
    );
    for (const line of logLines) assertClean(line, 'pino failure log');
    for (const record of records) assertClean(JSON.stringify([record.body, record.attributes]), 'OTel failure log');
  });
});

describe('redaction at the length bounds', () => {
  const tokens = Array.from({ length: 30 }, (_, i) => rawToken('bound', `t${i}`));

  it('a message listing more tokens than fit is cut where no token straddles the cut', () => {
    const message = `push request failed for ${tokens.join(', ')}`;
    assert.ok(message.length > 1024);
    const text = redactMessage(message, tokens);
    assert.match(text, /^push request failed for <token>, <token>/);
    assertClean(text, 'redactMessage');
    // Every cut point, and a token repeated back to back (the cut then moves more than once).
    for (let pad = 0; pad < 120; pad++)
      assertClean(redactMessage(`${'x'.repeat(pad)}${tokens.join('')}`, tokens), `redactMessage at pad ${pad}`);
    assertClean(redactMessage(`${(tokens[0] as string).repeat(40)}`, tokens), 'a repeated token');
  });

  it('a reason is redacted before it is bounded to 128 characters', () => {
    for (let pad = 60; pad < 140; pad++) {
      const reason = redactReason(`${'r'.repeat(pad)} ${tokens[0] as string}`, tokens);
      assert.ok(reason.length <= 128);
      assertClean(reason, `redactReason at pad ${pad}`);
    }
  });

  it('stays bounded and fast on a huge message with many tokens', () => {
    const many = Array.from({ length: 500 }, (_, i) => rawToken('huge', `t${i}`));
    const started = performance.now();
    const text = redactMessage(`${'y'.repeat(10_000_000)}${many.join(',')}`, many);
    assert.ok(performance.now() - started < 1000);
    assert.ok(text.length <= 257);
  });
});

describe('the opt-in token hash', () => {
  const expected = () => new Map([...sentTokens].map((token) => [hashOf(token), token]));

  it('is HMAC-SHA256(secret, token) truncated, on spans and failure events, and never the token', () => {
    const hashes = expected();
    let onSpans = 0;
    let onEvents = 0;
    for (const span of tracing.spans()) {
      const values: unknown[] = [span.attributes['push.token.hash']];
      if (values[0] !== undefined) onSpans++;
      for (const event of span.events) {
        const value = event.attributes?.['push.token.hash'];
        if (value !== undefined) {
          values.push(value);
          onEvents++;
        }
      }
      for (const value of values.filter((v) => v !== undefined)) {
        assert.match(String(value), /^[0-9a-f]{16}$/);
        assert.ok(hashes.has(String(value)), `${String(value)} on "${span.name}" is the HMAC of a token sent`);
      }
    }
    assert.ok(onSpans >= 20 && onEvents >= 10, `${onSpans} spans and ${onEvents} events carry a hash`);
  });

  it('names the one recipient of each single-recipient span, for every adapter', () => {
    const cases: ReadonlyArray<[app: string, name: string, token: string]> = [
      ['leaks.fcm', 'send fcm', fcmToken('unregistered')],
      ['leaks.node-apn', 'send apns', apnToken('unregistered')],
      ['leaks.apns2', 'send apns', apns2Token('unregistered')],
      [
        'leaks.webpush',
        'send_notification webpush',
        webPushSubscription(sim.fake('webpush').url, webPushId('unregistered')).endpoint,
      ],
      ['leaks.expo', 'send_push_notifications expo', expoToken('unregistered')],
      ['leaks.sns', 'publish sns', snsArn('unregistered')],
    ];
    for (const [app, name, token] of cases) {
      const spans = tracing
        .spans()
        .filter(
          (span) =>
            span.attributes['push.app'] === app &&
            span.name === name &&
            span.attributes['error.type'] === 'unregistered',
        );
      const hashes = spans.map((span) => span.attributes['push.token.hash']);
      assert.ok(hashes.includes(hashOf(token)), `${app} ${name}: ${hashes.join(', ')}`);
    }
  });

  it('is absent when the option is off', () => {
    const spans = tracing.spans().filter((span) => span.attributes['push.app'] === 'leaks.plain');
    assert.ok(spans.length > 0);
    for (const span of spans) {
      assert.equal(span.attributes['push.token.hash'], undefined);
      for (const event of span.events) assert.equal(event.attributes?.['push.token.hash'], undefined);
    }
  });

  it('honours length, and accepts a Uint8Array secret of 16 bytes', async () => {
    const local = createTracing();
    try {
      const token = customToken('length');
      const key = new Uint8Array(16).fill(7);
      const t32 = new PushTelemetry({
        tracerProvider: local.tracerProvider,
        tokenHash: { secret: SECRET, length: 32 },
      });
      const t8 = new PushTelemetry({ tracerProvider: local.tracerProvider, tokenHash: { secret: key, length: 8 } });
      for (const t of [t32, t8])
        await t.wrapSender(async (_token: string) => 'id', { provider: 'custom', tokens: ([tk]) => [tk] })(token);
      const hashes = local.spans().map((span) => span.attributes['push.token.hash']);
      assert.deepEqual(hashes, [hashOf(token, 32), createHmac('sha256', key).update(token).digest('hex').slice(0, 8)]);
    } finally {
      await local.shutdown();
    }
  });

  it('requires a secret of at least 16 bytes when on', () => {
    const bad: unknown[] = [
      {},
      { secret: undefined },
      { secret: '' },
      { secret: 'fifteen-bytes!!' },
      { secret: new Uint8Array(15) },
      { secret: 12345678901234568 },
      { length: 16 },
      null,
      'on',
      true,
    ];
    for (const tokenHash of bad) {
      assert.throws(() => new PushTelemetry({ tokenHash } as never), TypeError, inspect(tokenHash));
    }
    assert.throws(() => new PushTelemetry({ tokenHash: { secret: SECRET, length: 4 } }), TypeError);
    assert.throws(() => new PushTelemetry({ tokenHash: { secret: SECRET, length: 65 } }), TypeError);
    // Off is off.
    assert.doesNotThrow(() => new PushTelemetry({ tokenHash: false }));
  });
});

describe('errors push-telemetry itself throws never echo a token', () => {
  // Shaped like an FCM registration token (with a colon), so it is no valid app label either.
  const TOKEN = `${TOKEN_MARK}:APA91b-option-value-${PAD}${PAD}`;
  const sender = async () => 'id';
  const messagingLike = {
    send: async () => 'id',
    sendEach: async () => ({ responses: [] }),
    sendEachForMulticast: async () => ({ responses: [] }),
  };
  const clients: ReadonlyArray<
    readonly [string, (client: unknown, t: PushTelemetry, options?: unknown) => unknown, object]
  > = [
    ['instrumentFcm', instrumentFcm as never, messagingLike],
    ['instrumentApns', instrumentApns as never, { send: async () => ({ sent: [], failed: [] }) }],
    ['instrumentApns2', instrumentApns2 as never, { send: async () => ({}), sendMany: async () => [] }],
    ['instrumentWebPush', instrumentWebPush as never, { sendNotification: async () => ({}) }],
    [
      'instrumentExpo',
      instrumentExpo as never,
      { sendPushNotificationsAsync: async () => [], getPushNotificationReceiptsAsync: async () => ({}) },
    ],
    ['instrumentSns', instrumentSns as never, { send: async () => ({}) }],
  ];

  function assertTypeErrorWithoutToken(call: () => unknown, what: string): void {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof TypeError, `${what} throws a TypeError`);
    assertClean(`${thrown.message} ${String(thrown.stack)}`, `${what}: "${thrown.message}"`);
  }

  it('options of PushTelemetry, wrapSender and recordReceipts given the token as a value', () => {
    const t = new PushTelemetry();
    const calls: ReadonlyArray<readonly [string, () => unknown]> = [
      ['new PushTelemetry(token)', () => new PushTelemetry(TOKEN as never)],
      ['app', () => new PushTelemetry({ app: TOKEN })],
      ['registry', () => new PushTelemetry({ registry: TOKEN as never })],
      ['tracerProvider', () => new PushTelemetry({ tracerProvider: TOKEN as never })],
      ['exemplars', () => new PushTelemetry({ exemplars: TOKEN as never })],
      ['tokenHash', () => new PushTelemetry({ tokenHash: TOKEN as never })],
      ['tokenHash.secret (a number)', () => new PushTelemetry({ tokenHash: { secret: 42 as never } })],
      ['tokenHash.length', () => new PushTelemetry({ tokenHash: { secret: SECRET, length: TOKEN as never } })],
      ['wrapSender(token)', () => t.wrapSender(TOKEN as never, { provider: 'custom' })],
      ['wrapSender options', () => t.wrapSender(sender, TOKEN as never)],
      ['provider', () => t.wrapSender(sender, { provider: TOKEN })],
      ['operation', () => t.wrapSender(sender, { provider: 'custom', operation: TOKEN })],
      ['wrapSender app', () => t.wrapSender(sender, { provider: 'custom', app: TOKEN })],
      ['tokens hook', () => t.wrapSender(sender, { provider: 'custom', tokens: TOKEN as never })],
      ['settle hook', () => t.wrapSender(sender, { provider: 'custom', settle: TOKEN as never })],
      ['onInvalidToken hook', () => t.wrapSender(sender, { provider: 'custom', onInvalidToken: TOKEN as never })],
      ['recordReceipts(token)', () => t.recordReceipts(TOKEN as never)],
      ['recordReceipts provider', () => t.recordReceipts({ provider: TOKEN, delivered: 1 })],
      ['recordReceipts app', () => t.recordReceipts({ provider: 'expo', app: TOKEN, delivered: 1 })],
      ['recordReceipts delivered', () => t.recordReceipts({ provider: 'expo', delivered: TOKEN as never })],
      ['recordReceipts failed', () => t.recordReceipts({ provider: 'expo', delivered: 0, failed: TOKEN as never })],
    ];
    for (const [what, call] of calls) assertTypeErrorWithoutToken(call, what);
  });

  it('startMetricsServer given the token as telemetry, host or credentials', async () => {
    const t = new PushTelemetry();
    const calls: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
      ['telemetry', () => startMetricsServer({ telemetry: TOKEN as never })],
      ['port', () => startMetricsServer({ telemetry: t, port: TOKEN as never })],
      ['auth', () => startMetricsServer({ telemetry: t, port: 0, auth: TOKEN as never })],
      [
        'auth.username',
        () => startMetricsServer({ telemetry: t, port: 0, auth: { username: `${TOKEN}:x`, password: 'password-1' } }),
      ],
    ];
    for (const [what, call] of calls) {
      const error = await call().then(
        (server) => assert.fail(`${what}: started ${inspect(server)}`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TypeError, `${what} rejects with a TypeError`);
      assertClean(`${error.message} ${String(error.stack)}`, `startMetricsServer ${what}: "${error.message}"`);
    }
  });

  it('every adapter given the token as client, options or app', () => {
    const t = new PushTelemetry();
    for (const [name, instrument, client] of clients) {
      assertTypeErrorWithoutToken(() => instrument(TOKEN, t), `${name}(token)`);
      assertTypeErrorWithoutToken(() => instrument(client, t, TOKEN), `${name} options`);
      assertTypeErrorWithoutToken(() => instrument(client, t, { app: TOKEN }), `${name} app`);
      assertTypeErrorWithoutToken(() => instrument(client, t, { onInvalidToken: TOKEN }), `${name} onInvalidToken`);
    }
  });

  it('every adapter given a map keyed by tokens as its options', () => {
    const t = new PushTelemetry();
    for (const [name, instrument, client] of clients) {
      assertTypeErrorWithoutToken(
        () => instrument(client, t, { [TOKEN]: { endpoint: TOKEN } }),
        `${name} options keyed by a token`,
      );
    }
  });

  it('PushTelemetry, wrapSender and recordReceipts given a map keyed by tokens as options', () => {
    const t = new PushTelemetry();
    assertTypeErrorWithoutToken(
      () => new PushTelemetry({ [TOKEN]: 1 } as never),
      'new PushTelemetry options keyed by a token',
    );
    assertTypeErrorWithoutToken(
      () => t.wrapSender(sender, { provider: 'custom', [TOKEN]: 1 } as never),
      'wrapSender options keyed by a token',
    );
    assertTypeErrorWithoutToken(
      () => t.recordReceipts({ provider: 'expo', delivered: 1, [TOKEN]: 1 } as never),
      'recordReceipts options keyed by a token',
    );
  });
});

describe('user hooks that fail', () => {
  it('a failing hook is reported through diag and health() (the capture works)', async () => {
    const from = diagLines.length;
    const t = new PushTelemetry();
    const send = t.wrapSender(async (_token: string) => 'id', {
      provider: 'custom',
      tokens: ([token]) => [token],
      settle: () => ({ accepted: 'many' }) as never,
    });
    await send(customToken('settle'));
    const logged = diagLines.slice(from);
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0] as string, /settle failed/);
    assert.equal(t.health().problems.length, 1);
    for (const line of logged) assertClean(line, 'diag');
    assertClean(JSON.stringify(t.health()), 'health()');
  });

  it('an onInvalidToken whose error quotes the token does not put it in diag or health()', async () => {
    const from = diagLines.length;
    const t = new PushTelemetry();
    const send = t.wrapSender(
      async (token: string) => Promise.reject(Object.assign(new Error('gone'), { statusCode: 410, token })),
      {
        provider: 'custom',
        tokens: ([token]) => [token],
        onInvalidToken: (event) => {
          throw new Error(`token store: cannot delete ${event.token}`);
        },
      },
    );
    await send(customToken('store')).catch(() => {});
    for (const line of diagLines.slice(from)) assertClean(line, 'diag');
    assertClean(JSON.stringify(t.health()), 'health()');
  });
});
