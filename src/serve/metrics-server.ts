/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { listen } from './listen.js';
import type { TelemetryProblem } from '../core/problems.js';
import type { PushTelemetry } from '../core/telemetry.js';
import { describe, rejectUnknownOptions } from '../core/options.js';
import { receiptsHandler, RECEIPTS_PATH, type ReceiptsHandler } from '../delivery/receipts-handler.js';
import type { DeviceReceiptsOptions } from '../delivery/receipts-options.js';

/** Credentials a scraper must present; compared in constant time. */
export type MetricsServerAuth =
  | { readonly bearerToken: string }
  | { readonly username: string; readonly password: string };

export interface MetricsServerOptions {
  readonly telemetry: PushTelemetry;
  /** Default 9464, the port OpenTelemetry's Prometheus exporter uses; 0 picks a free one. */
  readonly port?: number;
  /** Default 127.0.0.1: /metrics is reachable from this host only until you choose otherwise. */
  readonly host?: string;
  /** Require a bearer token or basic auth on every route. Default none. */
  readonly auth?: MetricsServerAuth;
  /**
   * Serve `POST /v1/receipts` for receipts posted by devices (docs/delivery.md). Off by default. The endpoint takes no
   * `auth` (devices hold no secrets): its guards are the allow-lists, the sentAt window and the optional `secret`.
   */
  readonly receipts?: DeviceReceiptsOptions;
}

export interface MetricsServer {
  /** Base URL, e.g. http://127.0.0.1:9464 (append /metrics or /healthz). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes idle keep-alive ones; resolves when the server is closed. */
  close(): Promise<void>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Builds the Authorization header check; hashing both sides first makes the comparison length-independent. */
function authorizer(auth: MetricsServerAuth | undefined): ((header: string | undefined) => boolean) | undefined {
  if (auth === undefined) return undefined;
  if (auth === null || typeof auth !== 'object')
    throw new TypeError(`options.auth must be { bearerToken } or { username, password }, got ${describe(auth)}`);
  let expected: Buffer;
  if ('bearerToken' in auth) {
    rejectUnknownOptions(auth, ['bearerToken'], 'options.auth');
    if (typeof auth.bearerToken !== 'string' || auth.bearerToken.length < 16)
      throw new TypeError('options.auth.bearerToken must be a string of at least 16 characters');
    expected = digest(`Bearer ${auth.bearerToken}`);
  } else {
    rejectUnknownOptions(auth, ['username', 'password'], 'options.auth');
    const { username, password } = auth as { username: unknown; password: unknown };
    if (typeof username !== 'string' || username === '' || username.includes(':'))
      throw new TypeError('options.auth.username must be a non-empty string without ":"');
    if (typeof password !== 'string' || password.length < 8)
      throw new TypeError('options.auth.password must be a string of at least 8 characters');
    expected = digest(`Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
  }
  return (header) => header !== undefined && timingSafeEqual(digest(header.trim()), expected);
}

function plain(res: Response, status: number, text: string): void {
  res.status(status).type('text/plain; charset=utf-8').send(`${text}\n`);
}

/** What /healthz may show of a ProblemLog: kinds and counts only, since error texts can hold paths or secrets. */
export function publicProblems(
  problems: readonly TelemetryProblem[],
): { kind: string; count: number; lastAt: string }[] {
  return problems.map(({ kind, count, lastAt }) => ({ kind, count, lastAt: new Date(lastAt).toISOString() }));
}

/** The two things a metrics server serves; auth, method checks on /healthz, 404, error pages and timeouts are shared. */
export interface MetricsRoutes {
  /** Answers /metrics, every method included (it must send the 405 itself). */
  readonly metrics: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  /** The JSON body of GET /healthz. */
  readonly health: () => object;
  /** Answers /v1/receipts ahead of express and of `auth`, when receipts are on. */
  readonly receipts?: ReceiptsHandler;
}

function isReceiptsPath(url: string | undefined): boolean {
  return (
    url?.startsWith(RECEIPTS_PATH) === true &&
    (url.length === RECEIPTS_PATH.length || url[RECEIPTS_PATH.length] === '?')
  );
}

/**
 * The hardened express server behind startMetricsServer and startClusterMetricsServer: validates `port`, `host` and
 * `auth` (the caller has checked everything else), then builds the routes, and resolves once it listens.
 */
export async function serveMetrics(
  options: Pick<MetricsServerOptions, 'port' | 'host' | 'auth'>,
  routes: () => MetricsRoutes,
): Promise<MetricsServer> {
  const { port = 9464, host = '127.0.0.1' } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`options.port must be a whole number from 0 to 65535, got ${describe(port)}`);
  if (typeof host !== 'string' || host === '')
    throw new TypeError(`options.host must be a host name or address, got ${describe(host)}`);
  const authorized = authorizer(options.auth);
  const { metrics, health, receipts } = routes();

  // Loaded when a server starts, not with the library: a user who only wraps a sender never pays for express.
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  if (authorized !== undefined) {
    app.use((req, res, next) => {
      if (authorized(req.headers.authorization)) return next();
      res.set('www-authenticate', 'bearerToken' in (options.auth as object) ? 'Bearer' : 'Basic realm="metrics"');
      plain(res, 401, 'unauthorized');
    });
  }
  app.all('/metrics', (req, res) => void metrics(req, res));
  app.all('/healthz', (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return void res.set('allow', 'GET, HEAD').status(405).type('text/plain').send('method not allowed\n');
    res.set('cache-control', 'no-store').json(health());
  });
  app.use((_req, res) => plain(res, 404, 'not found'));
  // Express's default handler answers with a stack trace outside production; a metrics port must never show one.
  app.use((error: { status?: unknown }, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 600 ? error.status : 500;
    plain(res, status, status < 500 ? 'bad request' : 'internal error');
  });

  // Receipts skip express: devices post them at rates no scraper reaches, and express's routing would cost a large
  // share of what the endpoint can serve (docs/performance.md).
  const dispatch =
    receipts === undefined
      ? app
      : (req: IncomingMessage, res: ServerResponse) => (isReceiptsPath(req.url) ? receipts(req, res) : app(req, res));
  const { server, url, port: boundPort } = await listen(dispatch, port, host);
  // Scrapers send small requests: cap how long a slow client may hold a connection open.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return {
    url,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** An express app serving `/metrics` and `/healthz`, listening once the promise resolves. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`startMetricsServer(options): options must be an object, got ${describe(options)}`);
  rejectUnknownOptions(options, ['telemetry', 'port', 'host', 'auth', 'receipts'], 'startMetricsServer(options)');
  const { telemetry } = options;
  if (telemetry === null || typeof telemetry !== 'object' || typeof telemetry.metricsHandler !== 'function') {
    throw new TypeError(`options.telemetry must be a PushTelemetry instance, got ${describe(telemetry)}`);
  }
  return serveMetrics(options, () => ({
    metrics: telemetry.metricsHandler(),
    ...(options.receipts !== undefined && {
      receipts: receiptsHandler(telemetry, options.receipts, 'startMetricsServer(options)', 'options.receipts'),
    }),
    health: () => {
      // Telemetry trouble is reported, never turned into a failing probe: the sender itself is fine.
      const health = telemetry.health();
      const invalidTokensHeld = health.invalidTokensHeld.map((hold) => ({
        ...hold,
        since: new Date(hold.since).toISOString(),
      }));
      return { status: health.ok ? 'ok' : 'degraded', problems: publicProblems(health.problems), invalidTokensHeld };
    },
  }));
}
