/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { closer, listen, newStats, readBody, type FakeProvider, type FakeProviderOptions } from './fake.js';
import { delay, type Fault } from './faults.js';

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

interface FcmAnswer {
  readonly status: number;
  readonly body: string;
  readonly type: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;
const FCM_ERROR = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';
const MAX_BODY = 1024 * 1024;
// google.rpc canonical codes by HTTP status, for `{ status, reason }` faults that name only the FCM errorCode.
const CANONICAL: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** A google.rpc.Status error body as FCM HTTP v1 sends it; firebase-admin reads the FcmError detail first. */
function rpcError(
  status: number,
  canonical: string,
  message: string,
  errorCode?: string,
  violation?: string,
  headers?: Record<string, string>,
): FcmAnswer {
  const details: object[] = [];
  if (errorCode !== undefined) details.push({ '@type': FCM_ERROR, errorCode });
  if (violation !== undefined)
    details.push({ '@type': BAD_REQUEST, fieldViolations: [{ field: violation, description: message }] });
  const body = JSON.stringify({
    error: { code: status, message, status: canonical, ...(details.length > 0 && { details }) },
  });
  return { status, body, type: 'application/json; charset=UTF-8', ...(headers && { headers }) };
}

/** FCM's own answer for each generic fault, with the message texts the real service uses. */
function faultAnswer(fault: Exclude<Fault, 'hang' | 'reset'>): FcmAnswer {
  if (typeof fault === 'object') {
    // An FCM errorCode is UPPER_SNAKE or (legacy) CamelCase; anything with spaces is a raw body, as a proxy sends.
    if (!/^[A-Za-z_]+$/.test(fault.reason))
      return { status: fault.status, body: fault.reason, type: 'text/html; charset=UTF-8' };
    return rpcError(fault.status, CANONICAL[fault.status] ?? 'UNKNOWN', `Simulated ${fault.reason}`, fault.reason);
  }
  switch (fault) {
    case 'unregistered':
      return rpcError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    case 'invalid_token':
      return rpcError(
        400,
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
        'INVALID_ARGUMENT',
        'message.token',
      );
    case 'payload_invalid':
      return rpcError(
        400,
        'INVALID_ARGUMENT',
        'Request contains an invalid argument.',
        'INVALID_ARGUMENT',
        'message.data',
      );
    case 'payload_too_large':
      return rpcError(400, 'INVALID_ARGUMENT', 'Message is too big', 'INVALID_ARGUMENT', 'message');
    case 'auth':
      return rpcError(401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service', 'THIRD_PARTY_AUTH_ERROR');
    case 'config':
      return rpcError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH');
    case 'rate_limited':
      return rpcError(
        429,
        'RESOURCE_EXHAUSTED',
        "Quota exceeded for quota metric 'Send requests'.",
        'QUOTA_EXCEEDED',
        undefined,
        { 'retry-after': '60' },
      );
    case 'provider_unavailable':
      // firebase-admin retries 503 four times; Retry-After: 1 keeps that to 4 s (without it the backoff is 1+2+4 s).
      return rpcError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE', undefined, {
        'retry-after': '1',
      });
  }
}

/** The recipient a send request names: its token or installation ID, else its topic or condition (faults match on that). */
function recipientOf(body: unknown): string | undefined {
  const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
  if (typeof message !== 'object' || message === null) return undefined;
  const { token, fid, topic, condition } = message as Record<string, unknown>;
  const recipient = [token, fid, topic, condition].find((value) => typeof value === 'string' && value !== '');
  return recipient as string | undefined;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reset(req: Request): void {
  // HTTP/2 drops only this stream (other messages share the session); HTTP/1.1 drops the connection.
  if ('stream' in req) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else req.socket.destroy();
}

function answer(res: Response, { status, body, type, headers = {} }: FcmAnswer): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/**
 * A fake FCM HTTP v1 endpoint: `POST /v1/projects/{project}/messages:send` over TLS, HTTP/2 (what `sendEach*` speak)
 * and HTTP/1.1 (what `send` and the legacy transport speak). Faults match the message's token (or fid), else its
 * topic or condition. `{ status, reason }` answers a google.rpc error whose FcmError errorCode is `reason`; a reason with
 * spaces or punctuation (`Bad Gateway`) is sent as a raw text body instead, as a load balancer would.
 */
export async function startFakeFcm(options: FakeProviderOptions): Promise<FakeProvider> {
  const { faults, identity } = options;
  const stats = newStats();
  let nextId = 0;
  const server = http2.createSecureServer({ allowHTTP1: true, key: identity.key, cert: identity.cert });

  server.on('request', async (req: Request, res: Response) => {
    stats.requests++;
    const text = await readBody(req, MAX_BODY);
    const route = SEND_PATH.exec(req.url ?? '');
    if (req.method !== 'POST' || route === null) {
      answer(res, {
        status: 404,
        body: '<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>',
        type: 'text/html; charset=UTF-8',
      });
      return;
    }
    if (!/^Bearer \S+/.test(String(req.headers.authorization ?? ''))) {
      answer(res, rpcError(401, 'UNAUTHENTICATED', 'Request is missing required authentication credential.'));
      return;
    }
    const body = text === undefined ? undefined : parse(text);
    const recipient = recipientOf(body);
    if (recipient === undefined) {
      stats.refused++;
      answer(
        res,
        rpcError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', 'INVALID_ARGUMENT', 'message'),
      );
      return;
    }
    const fault = faults.pick(recipient);
    if (fault === 'hang') {
      stats.refused++;
      faults.hold(res, () => reset(req));
      return;
    }
    await delay(faults.latencyMs);
    if (fault === 'reset') {
      stats.refused++;
      reset(req);
      return;
    }
    if (fault !== undefined) {
      stats.refused++;
      answer(res, faultAnswer(fault));
      return;
    }
    stats.accepted++;
    const reply = JSON.stringify({
      name: `projects/${route[1] as string}/messages/0:${Date.now()}%${(++nextId).toString(16).padStart(8, '0')}`,
    });
    answer(res, { status: 200, body: reply, type: 'application/json; charset=UTF-8' });
  });

  const close = closer(server);
  const port = await listen(server, options.host, options.port);
  return { provider: 'fcm', url: `https://${options.host}:${port}`, port, faults, stats, close };
}

export interface FcmLoopbackAgentOptions {
  /**
   * Replaces firebase-admin's fixed 15 s request timeout (per attempt): shorter, so a `hang` fault becomes
   * `app/network-timeout` quickly (the SDK still retries a timeout 4 times, 1 + 2 + 4 s apart, before it gives up);
   * or 0 for none, so a call to a hung FCM stays in flight as it does in a sender without a timeout.
   */
  readonly timeoutMs?: number;
}

/**
 * An https.Agent for `initializeApp({ httpAgent })` that sends firebase-admin's HTTP/1.1 requests (`send`, and
 * `sendEach*` after `messaging.enableLegacyHttpTransport()`) for fcm.googleapis.com to the fake at `url` instead,
 * trusting its self-signed certificate. firebase-admin's HTTP/2 transport ignores agents and cannot be redirected.
 */
export function fcmLoopbackAgent(url: string, options: FcmLoopbackAgentOptions = {}): https.Agent {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || 443);
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs >= 0)) {
    throw new TypeError(
      `fcmLoopbackAgent: timeoutMs must be a whole number >= 0 (0 for none), got ${String(timeoutMs)}`,
    );
  }

  class FcmLoopbackAgent extends https.Agent {
    // Returning the socket synchronously is how https.Agent's own createConnection works; no callback needed.
    override createConnection(connectOptions: tls.ConnectionOptions): Duplex {
      const socket = tls.connect({ ...connectOptions, host, port, rejectUnauthorized: false });
      if (timeoutMs !== undefined) {
        // firebase-admin's own timeout is the only one set on these sockets (the agent sets none); clearing stays clearing.
        const setTimeout = socket.setTimeout.bind(socket);
        socket.setTimeout = (ms: number, onTimeout?: () => void) => setTimeout(ms > 0 ? timeoutMs : ms, onTimeout);
      }
      return socket;
    }
  }
  return new FcmLoopbackAgent({ keepAlive: true, maxSockets: 64 });
}
