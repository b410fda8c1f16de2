import { createECDH, createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { closer, listen, newStats, type FakeProvider, type FakeProviderOptions } from './fake.js';
import { delay, type Fault } from './faults.js';

/** A browser PushSubscription as web-push takes it. */
export interface FakePushSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

/**
 * A subscription on the fake whose fault key is `id`, with a real P-256 key and auth secret so web-push can encrypt
 * to it. The private half is thrown away: the fake checks the aes128gcm framing, it does not decrypt.
 */
export function webPushSubscription(fakeUrl: string, id: string): FakePushSubscription {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `${fakeUrl.replace(/\/+$/, '')}/push/${encodeURIComponent(id)}`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

// Mozilla autopush's answers (autoendpoint error.rs): status, errno, message. FCM's key mismatch is plain text.
const AUTOPUSH: Readonly<Record<string, readonly [number, number | undefined, string]>> = {
  unregistered: [410, 106, 'No such subscription'],
  invalid_token: [404, 102, 'Invalid token'],
  auth: [401, 109, 'Invalid Authentication'],
  payload_invalid: [400, 110, 'Invalid Content-Encoding'],
  payload_too_large: [413, 104, 'Data payload too large'],
  rate_limited: [429, 201, 'Too many requests'],
  provider_unavailable: [503, 201, 'Service temporarily unavailable'],
};
const FCM_KEY_MISMATCH =
  'the key in the authorization header does not correspond to the sender ID used to subscribe this user. Please ensure you are using the correct sender ID and server Key from the Firebase console.\n';
// Autopush and FCM refuse encrypted bodies over 4096 bytes.
const MAX_BODY = 4096;
const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  410: 'Gone',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

function autopushError(res: ServerResponse, status: number, errno: number | undefined, message: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 429 || status === 503) headers['retry-after'] = '120';
  if (status === 410) headers['cache-control'] = 'max-age=86400';
  const body = {
    code: status,
    errno: errno ?? null,
    error: STATUS_TEXT[status] ?? 'Error',
    message,
    more_info: 'http://autopush.readthedocs.io/en/latest/http.html#error-codes',
  };
  res.writeHead(status, headers).end(JSON.stringify(body));
}

/** `vapid t=<JWT>,k=<public key>` (RFC 8292): the JWT must be ES256-signed by k, for this origin, not expired. */
function vapidValid(header: string | undefined, origin: string): boolean {
  const match = /^vapid\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const params = new Map((match[1] as string).split(',').map((pair) => pair.trim().split('=', 2) as [string, string]));
  const [token, key] = [params.get('t'), params.get('k')];
  const parts = token?.split('.') ?? [];
  const point = Buffer.from(key ?? '', 'base64url');
  if (parts.length !== 3 || point.length !== 65 || point[0] !== 4) return false;
  try {
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    };
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (
      !verify(
        'sha256',
        signed,
        { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
        Buffer.from(parts[2] as string, 'base64url'),
      )
    )
      return false;
    const claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString()) as {
      aud?: unknown;
      exp?: unknown;
    };
    return claims.aud === origin && typeof claims.exp === 'number' && claims.exp > Date.now() / 1000;
  } catch {
    return false;
  }
}

/** aes128gcm (RFC 8188) header: salt(16) rs(4) idlen(1)=65 keyid(65), then at least one 17-byte record. */
function aes128gcmFramed(body: Buffer, encoding: string | undefined): boolean {
  return encoding === 'aes128gcm' && body.length >= 86 + 17 && body[20] === 65;
}

/** A push service (RFC 8030) speaking like Mozilla autopush: POST /push/<id>, VAPID required, 201 + Location. */
export async function startFakeWebPush(options: FakeProviderOptions): Promise<FakeProvider> {
  const stats = newStats();
  const server = createServer({ key: options.identity.key, cert: options.identity.cert });
  const close = closer(server);
  let origin = '';

  function refuse(res: ServerResponse, fault: Exclude<Fault, 'hang' | 'reset'>): void {
    stats.refused++;
    if (typeof fault === 'object') {
      // A numeric reason is an autopush errno; anything else an Apple-style {"reason"} (BadJwtToken, Unregistered…).
      if (/^\d+$/.test(fault.reason)) autopushError(res, fault.status, Number(fault.reason), `errno ${fault.reason}`);
      else
        res
          .writeHead(fault.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ reason: fault.reason }));
    } else if (fault === 'config') {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(FCM_KEY_MISMATCH);
    } else {
      const [status, errno, message] = AUTOPUSH[fault] as (typeof AUTOPUSH)[string];
      autopushError(res, status, errno, message);
    }
  }

  async function answer(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    stats.requests++;
    const match = /^\/push\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return refuse(res, { status: 404, reason: '102' });
    const id = decodeURIComponent(match[1] as string);
    const fault = options.faults.pick(id);
    await delay(options.faults.latencyMs);
    if (fault === 'hang') {
      stats.refused++;
      options.faults.hold(res, () => req.socket.destroy());
      return;
    }
    if (fault === 'reset') {
      stats.refused++;
      req.socket.destroy();
      return;
    }
    if (fault !== undefined) return refuse(res, fault);
    if (!vapidValid(req.headers.authorization, origin)) return refuse(res, 'auth');
    if (req.headers.ttl === undefined || !/^\d+$/.test(req.headers.ttl as string))
      return refuse(res, { status: 400, reason: '111' });
    if (body.length > MAX_BODY) return refuse(res, 'payload_too_large');
    if (body.length > 0 && !aes128gcmFramed(body, req.headers['content-encoding']))
      return refuse(res, 'payload_invalid');
    stats.accepted++;
    res.writeHead(201, { location: `${origin}/m/${randomUUID()}`, ttl: req.headers.ttl as string }).end();
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void answer(req, res, Buffer.concat(chunks)).catch(() => req.socket.destroy()));
  });

  const port = await listen(server, options.host, options.port);
  origin = `https://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  return { provider: 'webpush', url: origin, port, faults: options.faults, stats, close };
}
