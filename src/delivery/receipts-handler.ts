/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReceiptRejectReason } from '../metrics/contract.js';
import type { PushTelemetry } from '../core/telemetry.js';
import { describe } from '../core/options.js';
import { deviceReceiptMetricsFor, type DeviceReceiptMetrics, type DeviceReceiptSeries } from './receipt-metrics.js';
import { countReceipt, type ReceiptRules } from './receipt-validation.js';
import { ReceiptSignatureVerifier } from './signature.js';
import {
  checkReceiptsOptions,
  MAX_RECEIPTS_PER_REQUEST,
  type CheckedReceiptsOptions,
  type DeviceReceiptsOptions,
} from './receipts-options.js';

/** Where startMetricsServer serves the endpoint, and where the docs mount it on an express app. */
export const RECEIPTS_PATH = '/v1/receipts';

/**
 * A request as the handler reads it: a node request, or an express one whose body a parser may have read already
 * (express.json(), express.text() or express.raw() before the handler).
 */
export type ReceiptsRequest = IncomingMessage & { body?: unknown };

/**
 * Answers POST (receipts) and OPTIONS (CORS preflight) and 405 to anything else. Works as a node:http request
 * listener and as express middleware: `app.all(RECEIPTS_PATH, handler)`.
 */
export type ReceiptsHandler = (req: ReceiptsRequest, res: ServerResponse, next?: unknown) => void;

const JSON_TYPE = 'application/json; charset=utf-8';

interface Refusal {
  readonly status: number;
  readonly reason: ReceiptRejectReason;
  readonly error: string;
}

function refuse(res: ServerResponse, refusal: Refusal, closeConnection = false): void {
  const headers: Record<string, string> = { 'content-type': JSON_TYPE, 'cache-control': 'no-store' };
  if (closeConnection) headers.connection = 'close';
  res.writeHead(refusal.status, headers).end(JSON.stringify({ error: refusal.error, reason: refusal.reason }));
}

function buildRules(metrics: DeviceReceiptMetrics, checked: CheckedReceiptsOptions): ReceiptRules {
  const series = new Map<string, Map<string, DeviceReceiptSeries>>();
  for (const provider of checked.providers)
    series.set(provider, new Map(checked.apps.map((app) => [app, metrics.series(provider, app)])));
  return {
    series,
    signatures: checked.secret === undefined ? undefined : new ReceiptSignatureVerifier(checked.secret),
  };
}

function registryOf(telemetry: PushTelemetry, caller: string) {
  if (telemetry === null || typeof telemetry !== 'object' || typeof telemetry.metricsHandler !== 'function')
    throw new TypeError(`${caller}: telemetry must be a PushTelemetry instance, got ${describe(telemetry)}`);
  try {
    return telemetry.registry;
  } catch {
    throw new TypeError(
      `${caller}: device receipts are Prometheus metrics, and this PushTelemetry was created with registry: false (no registry to count them in)`,
    );
  }
}

function fail(res: ServerResponse): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(500, { 'content-type': JSON_TYPE, connection: 'close' }).end('{"error":"internal error"}');
}

/**
 * The receipts endpoint as a request handler: counts device receipts into `push_device_receipts_total` and
 * `push_delivery_latency_seconds` on the telemetry's registry, refusals into `push_device_receipts_rejected_total`.
 * Nothing from a request becomes a label unless it is an allow-listed app and provider, and no request body is ever
 * logged or echoed.
 */
export function createReceiptsHandler(telemetry: PushTelemetry, options: DeviceReceiptsOptions): ReceiptsHandler {
  return receiptsHandler(telemetry, options, 'createReceiptsHandler(telemetry, options)', 'options');
}

/** createReceiptsHandler, with errors naming the telemetry and the options as the caller knows them. */
export function receiptsHandler(
  telemetry: PushTelemetry,
  options: DeviceReceiptsOptions,
  caller: string,
  where: string,
): ReceiptsHandler {
  const registry = registryOf(telemetry, caller);
  const checked = checkReceiptsOptions(options, where);
  const metrics = deviceReceiptMetricsFor(registry);
  const rules = buildRules(metrics, checked);
  const { origins, maxBodyBytes } = checked;
  const tooLarge: Refusal = { status: 413, reason: 'too_large', error: `body over ${maxBodyBytes} bytes` };

  const tooMany: Refusal = {
    status: 413,
    reason: 'too_large',
    error: `more than ${MAX_RECEIPTS_PER_REQUEST} receipts in one request`,
  };

  function reject(res: ServerResponse, refusal: Refusal, closeConnection = false): void {
    metrics.reject(refusal.reason);
    refuse(res, refusal, closeConnection);
  }

  /** Counts a parsed body: one receipt or an array of 1 to 100. */
  function receive(body: unknown, res: ServerResponse): void {
    const now = Date.now();
    if (!Array.isArray(body)) {
      const reason = countReceipt(body, rules, now);
      if (reason === undefined) return void res.writeHead(204).end();
      metrics.reject(reason);
      return void refuseReceipts(res, 0, [{ index: 0, reason }]);
    }
    if (body.length === 0)
      return void reject(res, { status: 400, reason: 'malformed', error: 'empty array of receipts' });
    if (body.length > MAX_RECEIPTS_PER_REQUEST) return void reject(res, tooMany);
    let refused: { index: number; reason: ReceiptRejectReason }[] | undefined;
    for (let index = 0; index < body.length; index++) {
      const reason = countReceipt(body[index], rules, now);
      if (reason === undefined) continue;
      metrics.reject(reason);
      (refused ??= []).push({ index, reason });
    }
    if (refused === undefined) return void res.writeHead(204).end();
    refuseReceipts(res, body.length - refused.length, refused);
  }

  function parse(text: string, res: ServerResponse): void {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return void reject(res, { status: 400, reason: 'malformed', error: 'body is not valid JSON' });
    }
    receive(body, res);
  }

  function read(req: ReceiptsRequest, res: ServerResponse): void {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      // Unread: the connection closes after the answer instead of draining a body nobody wants.
      req.pause();
      return void reject(res, tooLarge, true);
    }
    let first: Buffer | undefined;
    let rest: Buffer[] | undefined;
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        done = true;
        req.pause();
        return void reject(res, tooLarge, true);
      }
      if (first === undefined) first = chunk;
      else (rest ??= [first]).push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const whole = rest === undefined ? first : Buffer.concat(rest, size);
      try {
        parse(whole === undefined ? '' : whole.toString('utf8'), res);
      } catch {
        fail(res);
      }
    });
    req.on('error', () => {
      done = true;
    });
  }

  /** A body an express parser already read, when there is one. */
  function parsed(req: ReceiptsRequest, res: ServerResponse): boolean {
    if (!req.readableEnded || req.body === undefined) return false;
    const { body } = req;
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      if (Buffer.byteLength(body) > maxBodyBytes) reject(res, tooLarge);
      else parse(body.toString(), res);
    } else receive(body, res);
    return true;
  }

  function allowOrigin(req: ReceiptsRequest, res: ServerResponse): boolean {
    if (origins === undefined) return false;
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    if (origins === '*') res.setHeader('access-control-allow-origin', '*');
    else {
      res.setHeader('vary', 'origin');
      if (!origins.has(origin)) return false;
      res.setHeader('access-control-allow-origin', origin);
    }
    return true;
  }

  function handle(req: ReceiptsRequest, res: ServerResponse): void {
    const allowed = allowOrigin(req, res);
    const method = req.method;
    if (method === 'POST') {
      if (!parsed(req, res)) read(req, res);
      return;
    }
    if (method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('access-control-allow-methods', 'POST');
        res.setHeader('access-control-allow-headers', 'content-type');
        res.setHeader('access-control-max-age', '86400');
      }
      return void res.writeHead(204, { allow: 'POST, OPTIONS' }).end();
    }
    res.writeHead(405, { allow: 'POST, OPTIONS', 'content-type': JSON_TYPE });
    res.end(JSON.stringify({ error: 'receipts are POSTed' }));
  }

  // A request listener that throws takes the process down: no request may do that.
  return (req, res) => {
    try {
      handle(req, res);
    } catch {
      fail(res);
    }
  };
}

function refuseReceipts(
  res: ServerResponse,
  accepted: number,
  rejected: readonly { index: number; reason: ReceiptRejectReason }[],
): void {
  res.writeHead(422, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: 'receipts refused', accepted, rejected }));
}
