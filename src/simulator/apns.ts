import { randomUUID } from 'node:crypto';
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import {
  closer,
  listen,
  newStats,
  type FakeProvider,
  type FakeProviderOptions,
  type FakeProviderStats,
} from './fake.js';
import { delay, type Fault, type FaultPlan } from './faults.js';

type Answer = { readonly status: number; readonly reason: string };

/** Apple's own answer for each generic fault: the reason a real APNs sends for that class of failure. */
const GENERIC_ANSWERS: Readonly<Record<Exclude<Fault, 'hang' | 'reset' | Answer>, Answer>> = {
  unregistered: { status: 410, reason: 'Unregistered' },
  invalid_token: { status: 400, reason: 'BadDeviceToken' },
  auth: { status: 403, reason: 'ExpiredProviderToken' },
  config: { status: 400, reason: 'DeviceTokenNotForTopic' },
  payload_invalid: { status: 400, reason: 'BadPriority' },
  payload_too_large: { status: 413, reason: 'PayloadTooLarge' },
  rate_limited: { status: 429, reason: 'TooManyRequests' },
  provider_unavailable: { status: 503, reason: 'ServiceUnavailable' },
};

// Apple's documented limits: 4 KB for a notification, 5 KB for VoIP.
const MAX_PAYLOAD = 4096;
const MAX_VOIP_PAYLOAD = 5120;
const DEVICE_PATH = /^\/3\/device\/([^/?]+)$/;
const BROADCAST_PATH = /^\/4\/broadcasts\/apps\/([^/?]+)$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A syntactically sound ES256 provider JWT with a key id. The signature is not checked: the fake has no Apple keys. */
function jwtProblem(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return 'MissingProviderToken';
  const match = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/i.exec(authorization);
  if (!match) return 'InvalidProviderToken';
  try {
    const head = JSON.parse(Buffer.from(match[1] as string, 'base64url').toString('utf8')) as {
      alg?: unknown;
      kid?: unknown;
    };
    const claims = JSON.parse(Buffer.from(match[2] as string, 'base64url').toString('utf8')) as {
      iss?: unknown;
      iat?: unknown;
    };
    const sound =
      head.alg === 'ES256' &&
      typeof head.kid === 'string' &&
      typeof claims.iss === 'string' &&
      typeof claims.iat === 'number';
    return sound ? undefined : 'InvalidProviderToken';
  } catch {
    return 'InvalidProviderToken';
  }
}

/** What APNs itself would refuse before looking at the device: path, method, credentials, topic, payload. */
function requestProblem(headers: IncomingHttpHeaders, body: Buffer): Answer | undefined {
  const path = header(headers, ':path') ?? '';
  if (!DEVICE_PATH.test(path) && !BROADCAST_PATH.test(path)) return { status: 404, reason: 'BadPath' };
  if (headers[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
  const auth = jwtProblem(header(headers, 'authorization'));
  if (auth !== undefined) return { status: 403, reason: auth };
  if (DEVICE_PATH.test(path) && header(headers, 'apns-topic') === undefined)
    return { status: 400, reason: 'MissingTopic' };
  if (body.length === 0) return { status: 400, reason: 'PayloadEmpty' };
  const limit = header(headers, 'apns-push-type') === 'voip' ? MAX_VOIP_PAYLOAD : MAX_PAYLOAD;
  if (body.length > limit) return { status: 413, reason: 'PayloadTooLarge' };
  return undefined;
}

/** The fault key: the device token, or the channel id of a broadcast. */
function target(headers: IncomingHttpHeaders): string {
  const path = header(headers, ':path') ?? '';
  const device = DEVICE_PATH.exec(path);
  if (device) return decodeURIComponent(device[1] as string);
  return header(headers, 'apns-channel-id') ?? '';
}

function answer(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  result: Answer | undefined,
  stats: FakeProviderStats,
): void {
  if (stream.destroyed || stream.closed) return;
  // APNs echoes the caller's apns-id, or makes one up, on success and failure alike.
  const ids: Record<string, string> = { 'apns-id': header(headers, 'apns-id') ?? randomUUID() };
  if (BROADCAST_PATH.test(header(headers, ':path') ?? ''))
    ids['apns-request-id'] = header(headers, 'apns-request-id') ?? randomUUID();
  if (result === undefined) {
    stats.accepted++;
    stream.respond({ ':status': 200, ...ids });
    stream.end();
    return;
  }
  stats.refused++;
  const body = result.status === 410 ? { reason: result.reason, timestamp: Date.now() } : { reason: result.reason };
  stream.respond({ ':status': result.status, 'content-type': 'application/json', ...ids });
  stream.end(JSON.stringify(body));
}

async function handle(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  faults: FaultPlan,
  stats: FakeProviderStats,
): Promise<void> {
  stats.requests++;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  await delay(faults.latencyMs);
  const problem = requestProblem(headers, Buffer.concat(chunks));
  const fault = problem === undefined ? faults.pick(target(headers)) : undefined;
  if (fault === 'hang') {
    stats.refused++;
    faults.hold(stream, () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    return;
  }
  if (fault === 'reset') {
    stats.refused++;
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  answer(stream, headers, problem ?? (typeof fault === 'string' ? GENERIC_ANSWERS[fault] : fault), stats);
}

/**
 * A fake APNs over HTTP/2 and TLS: `POST /3/device/<token>` (and `/4/broadcasts/apps/<bundle id>`) answered with
 * Apple's statuses, `apns-id` headers and `{ reason }` bodies, so node-apn and apns2 parse it as the real service.
 * Token-based auth only: a request without a well-formed provider JWT gets 403 MissingProviderToken/InvalidProviderToken.
 */
export async function startFakeApns(options: FakeProviderOptions): Promise<FakeProvider> {
  const { faults } = options;
  const stats = newStats();
  const server = http2.createSecureServer({ key: options.identity.key, cert: options.identity.cert });
  server.on('stream', (stream, headers) => {
    // A client that gives up (timeout, cancel) resets the stream; that is its business, not a server error.
    stream.on('error', () => {});
    handle(stream, headers, faults, stats).catch(() => stream.destroy());
  });
  const close = closer(server);
  const port = await listen(server, options.host, options.port);
  return { provider: 'apns', url: `https://${options.host}:${port}`, port, faults, stats, close };
}
