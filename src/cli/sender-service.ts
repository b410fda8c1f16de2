import express, { type ErrorRequestHandler } from 'express';
import { listen } from '../serve/listen.js';
import type { PushTelemetry } from '../core/telemetry.js';
import { createReceiptsHandler, RECEIPTS_PATH } from '../delivery/receipts-handler.js';
import type { DeviceReceiptsOptions } from '../delivery/receipts-options.js';
import type { DemoProvider, Notification, SendOutcome } from './clients/index.js';

/**
 * The demo's sender service: what a team's notification service looks like with push-telemetry in it. `POST /send`
 * goes through the instrumented SDK client for the provider; `/metrics` and `/healthz` are push-telemetry's.
 */

export type SendFunction = (
  provider: DemoProvider,
  tokens: readonly string[],
  notification: Notification,
) => Promise<SendOutcome>;

export interface SenderServiceOptions {
  readonly telemetry: PushTelemetry;
  readonly send: SendFunction;
  readonly providers: readonly DemoProvider[];
  /** Serve the receipts endpoint, POST /v1/receipts, for these apps (the demo's fake devices post to it). */
  readonly receipts?: DeviceReceiptsOptions;
}

export interface SendRequest {
  readonly provider: DemoProvider;
  readonly tokens: readonly string[];
  readonly notification: Notification;
}

const MAX_TOKENS = 500;

class BadRequest extends Error {}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a /send body field by field; the first problem becomes the 400's error, naming the field. */
export function parseSendRequest(body: unknown, providers: readonly DemoProvider[]): SendRequest {
  if (!isObject(body))
    throw new BadRequest('body must be a JSON object: { provider, tokens, notification: { title, body, data? } }');
  const { provider, tokens, notification } = body;
  if (typeof provider !== 'string' || !(providers as readonly string[]).includes(provider)) {
    throw new BadRequest(`provider must be one of ${providers.join(', ')}`);
  }
  if (
    !Array.isArray(tokens) ||
    tokens.length === 0 ||
    !tokens.every((token) => typeof token === 'string' && token !== '')
  ) {
    throw new BadRequest('tokens must be a non-empty array of strings');
  }
  if (tokens.length > MAX_TOKENS)
    throw new BadRequest(`tokens must hold at most ${MAX_TOKENS} tokens per request, got ${tokens.length}`);
  if (!isObject(notification)) throw new BadRequest('notification must be an object: { title, body, data? }');
  const { title, body: text, data } = notification;
  if (typeof title !== 'string' || title === '') throw new BadRequest('notification.title must be a non-empty string');
  if (typeof text !== 'string') throw new BadRequest('notification.body must be a string');
  if (data !== undefined && !(isObject(data) && Object.values(data).every((value) => typeof value === 'string'))) {
    throw new BadRequest('notification.data must be an object of string values (FCM allows no other)');
  }
  return {
    provider: provider as DemoProvider,
    tokens: tokens as string[],
    notification: { title, body: text, ...(data !== undefined && { data: data as Record<string, string> }) },
  };
}

export function createSenderApp(options: SenderServiceOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const metrics = options.telemetry.metricsHandler();
  app.all('/metrics', (req, res) => void metrics(req, res));
  if (options.receipts !== undefined)
    app.all(RECEIPTS_PATH, createReceiptsHandler(options.telemetry, options.receipts));
  app.get('/healthz', (_req, res) => {
    const health = options.telemetry.health();
    res.json({ status: health.ok ? 'ok' : 'degraded', problems: health.problems });
  });
  // `type: () => true`: a curl without a content-type still means JSON here.
  app.post('/send', express.json({ limit: '64kb', type: () => true }), (req, res, next) => {
    let request: SendRequest;
    try {
      request = parseSendRequest(req.body, options.providers);
    } catch (error) {
      if (error instanceof BadRequest) return void res.status(400).json({ error: error.message });
      return next(error);
    }
    options.send(request.provider, request.tokens, request.notification).then(
      // The provider's verdict is data, not an HTTP error: the service itself did its job.
      (outcome) =>
        res.json({
          provider: request.provider,
          accepted: outcome.accepted,
          failed: outcome.failed.map(({ token, errorType, reason }) => ({
            token,
            error_type: errorType,
            ...(reason !== undefined && { reason }),
          })),
        }),
      next,
    );
  });
  app.use(
    (_req, res) => void res.status(404).json({ error: 'not found: try POST /send, GET /metrics or GET /healthz' }),
  );
  const errors: ErrorRequestHandler = (
    error: { type?: string; status?: number; message?: string },
    _req,
    res,
    _next,
  ) => {
    // body-parser's own failures carry a type and a 4xx status.
    if (error.type === 'entity.parse.failed')
      return void res.status(400).json({ error: `body must be valid JSON: ${error.message ?? ''}` });
    if (error.type === 'entity.too.large') return void res.status(413).json({ error: 'body must be at most 64 KB' });
    if (typeof error.status === 'number' && error.status >= 400 && error.status < 500)
      return void res.status(error.status).json({ error: error.message ?? 'bad request' });
    res.status(500).json({ error: `send failed: ${error.message ?? String(error)}` });
  };
  app.use(errors);
  return app;
}

export interface SenderService {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startSenderService(
  options: SenderServiceOptions & { readonly port: number; readonly host: string },
): Promise<SenderService> {
  const { server, url, port } = await listen(createSenderApp(options), options.port, options.host);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
