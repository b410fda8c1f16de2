import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closer, listen, readBody } from './fake.js';

/**
 * A fake FCM Data API (`GET /v1beta1/projects/{project}/androidApps/{appId}/deliveryData`, pages and all) with a
 * fake Google OAuth2 token endpoint beside it (`POST /token`, and `/o/oauth2/token`, the path firebase-admin's
 * service-account credential posts to). Plain HTTP on loopback: the importer accepts http only there.
 * The Data API answers only bearer tokens this fake issued, or its fixed `accessToken`; anything else is a 401.
 */

/** One row as the API sends it: google.type.Date, proto3 JSON (int64 as strings, zeros left out). */
export interface FakeDeliveryDataRow {
  readonly appId?: string;
  readonly date: { readonly year: number; readonly month: number; readonly day: number };
  readonly analyticsLabel?: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface FakeFcmDataOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default a free port. */
  readonly port?: number;
  /**
   * Service accounts whose JWT assertions the token endpoint checks the RS256 signature of: client_email → public
   * key (PEM). Without it, a well-formed assertion from any issuer gets a token (the fake has no Google keys).
   */
  readonly serviceAccounts?: Readonly<Record<string, string>>;
  /** The most rows it answers per page, whatever pageSize asks (the real API's cap is 10,000). For paging tests. */
  readonly maxPageSize?: number;
}

export interface FakeFcmData {
  readonly url: string;
  readonly port: number;
  /** The token URL to give a credential: `{url}/token`. */
  readonly tokenUrl: string;
  /** A fixed token the Data API always accepts, for tests that bring their own getAccessToken. */
  readonly accessToken: string;
  /** Rows served for a project and app id, replacing what was there. */
  setDeliveryData(project: string, appId: string, rows: readonly FakeDeliveryDataRow[]): void;
  readonly stats: { tokenRequests: number; dataRequests: number; unauthorized: number };
  close(): Promise<void>;
}

const DATA_PATH = /^\/v1beta1\/projects\/([^/]+)\/androidApps\/([^/]+)\/deliveryData$/;
const TOKEN_PATHS = new Set(['/token', '/o/oauth2/token']);
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
const MAX_BODY = 64 * 1024;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function rpcError(res: ServerResponse, code: number, status: string, message: string): void {
  json(
    res,
    code,
    { error: { code, message, status } },
    code === 401 ? { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' } : {},
  );
}

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Google's checks on a service-account assertion: RS256, an issuer, the cloud-platform scope, not expired. */
function assertionProblem(assertion: string, keys: ReadonlyMap<string, KeyObject> | undefined): string | undefined {
  const parts = assertion.split('.');
  if (parts.length !== 3) return 'Invalid JWT: malformed';
  const [head, claims] = [decodePart(parts[0] as string), decodePart(parts[1] as string)];
  if (head?.alg !== 'RS256' || claims === undefined) return 'Invalid JWT: unsupported algorithm';
  const now = Date.now() / 1000;
  if (typeof claims.iss !== 'string' || typeof claims.exp !== 'number' || claims.exp < now - 60)
    return 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe';
  if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(CLOUD_PLATFORM))
    return 'Invalid OAuth scope or ID token audience provided.';
  if (keys === undefined) return undefined;
  const key = keys.get(claims.iss);
  if (key === undefined) return 'invalid_grant: Invalid grant: account not found';
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    key,
    Buffer.from(parts[2] as string, 'base64url'),
  );
  return signed ? undefined : 'Invalid JWT Signature.';
}

export async function startFakeFcmData(options: FakeFcmDataOptions = {}): Promise<FakeFcmData> {
  const { host = '127.0.0.1', port = 0, maxPageSize = 10_000 } = options;
  const keys =
    options.serviceAccounts === undefined
      ? undefined
      : new Map(Object.entries(options.serviceAccounts).map(([email, pem]) => [email, createPublicKey(pem)]));
  const accessToken = `ya29.fake-${randomBytes(16).toString('hex')}`;
  const issued = new Map<string, number>([[accessToken, Number.POSITIVE_INFINITY]]);
  const data = new Map<string, readonly FakeDeliveryDataRow[]>();
  const stats = { tokenRequests: 0, dataRequests: 0, unauthorized: 0 };

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.tokenRequests++;
    const body = await readBody(req, MAX_BODY);
    const form = new URLSearchParams(body ?? '');
    if (form.get('grant_type') !== JWT_BEARER || form.get('assertion') === null) {
      json(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
      return;
    }
    const problem = assertionProblem(form.get('assertion') as string, keys);
    if (problem !== undefined) {
      json(res, 400, { error: 'invalid_grant', error_description: problem });
      return;
    }
    const issuedToken = `ya29.fake-${randomBytes(24).toString('hex')}`;
    issued.set(issuedToken, Date.now() + 3600_000);
    json(res, 200, { access_token: issuedToken, expires_in: 3599, token_type: 'Bearer' });
  }

  function deliveryData(req: IncomingMessage, res: ServerResponse, url: URL, route: RegExpExecArray): void {
    stats.dataRequests++;
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (bearer === undefined || !((issued.get(bearer) ?? 0) > Date.now())) {
      stats.unauthorized++;
      rpcError(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
      return;
    }
    const key = `${decodeURIComponent(route[1] as string)}/${decodeURIComponent(route[2] as string)}`;
    const rows = data.get(key);
    if (rows === undefined) {
      rpcError(res, 404, 'NOT_FOUND', 'Requested entity was not found.');
      return;
    }
    const size = Number(url.searchParams.get('pageSize') ?? 1000);
    if (!(Number.isInteger(size) && size >= 0)) {
      rpcError(res, 400, 'INVALID_ARGUMENT', 'Invalid value at page_size');
      return;
    }
    const pageSize = Math.min(size === 0 ? 1000 : size, maxPageSize);
    const pageToken = url.searchParams.get('pageToken');
    const offset = pageToken === null ? 0 : Number(Buffer.from(pageToken, 'base64url').toString('utf8'));
    if (!(Number.isInteger(offset) && offset >= 0 && offset <= rows.length)) {
      rpcError(res, 400, 'INVALID_ARGUMENT', 'Invalid page token.');
      return;
    }
    const next =
      offset + pageSize < rows.length ? Buffer.from(String(offset + pageSize)).toString('base64url') : undefined;
    json(res, 200, {
      androidDeliveryData: rows.slice(offset, offset + pageSize),
      ...(next !== undefined && { nextPageToken: next }),
    });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'POST' && TOKEN_PATHS.has(url.pathname)) {
      void token(req, res);
      return;
    }
    const route = DATA_PATH.exec(url.pathname);
    if (req.method === 'GET' && route !== null) {
      deliveryData(req, res, url, route);
      return;
    }
    rpcError(res, 404, 'NOT_FOUND', 'The requested URL was not found on this server.');
  });
  const close = closer(server);
  const bound = await listen(server, host, port);
  const url = `http://${host}:${bound}`;
  return {
    url,
    port: bound,
    tokenUrl: `${url}/token`,
    accessToken,
    stats,
    setDeliveryData(project, appId, rows) {
      data.set(
        `${project}/${appId}`,
        rows.map((row) => ({ appId, ...row })),
      );
    },
    close,
  };
}
