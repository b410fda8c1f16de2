import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { closer, listen } from './fake.js';

/**
 * A fake for where an APNs delivery metrics export is fetched from. Apple offers these metrics in the Push
 * Notifications Console and as a CSV download (Push Type, Status, Date (UTC), Count); teams drop that file where
 * their jobs can fetch it, behind a token or a password. This fake stands for that place: `GET
 * /delivery-metrics/{bundleId}.csv` answers the CSV set for the bundle id to a request with its bearer token or
 * its basic-auth user, and 401 to anything else. Plain HTTP on loopback.
 */

export interface FakeApnsMetricsExportOptions {
  readonly host?: string;
  readonly port?: number;
}

export interface FakeApnsMetricsExport {
  readonly url: string;
  readonly port: number;
  /** The URL of a bundle id's export. */
  exportUrl(bundleId: string): string;
  /** The bearer token it accepts. */
  readonly token: string;
  /** The basic-auth user it accepts. */
  readonly username: string;
  readonly password: string;
  /** Serves `csv` for the bundle id from now on. */
  setExport(bundleId: string, csv: string): void;
  readonly stats: { requests: number; unauthorized: number };
  close(): Promise<void>;
}

export interface ApnsMetricsRow {
  readonly pushType?: string;
  /** Apple's wording, e.g. `Stored – Device Offline` (with an en dash). */
  readonly status: string;
  /** `YYYY-MM-DD`. */
  readonly date: string;
  readonly count: number;
}

const EXPORT_PATH = /^\/delivery-metrics\/([A-Za-z0-9._-]{1,155})\.csv$/;

function quote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Rows as Apple's export writes them: a header, CRLF line ends, fields quoted where needed. */
export function apnsDeliveryMetricsCsv(rows: readonly ApnsMetricsRow[]): string {
  const lines = ['Push Type,Status,Date (UTC),Count'];
  for (const row of rows)
    lines.push([row.pushType ?? 'alert', row.status, row.date, String(row.count)].map(quote).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function same(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export async function startFakeApnsMetricsExport(
  options: FakeApnsMetricsExportOptions = {},
): Promise<FakeApnsMetricsExport> {
  const { host = '127.0.0.1', port = 0 } = options;
  const token = randomBytes(24).toString('base64url');
  const username = 'delivery-metrics';
  const password = randomBytes(12).toString('base64url');
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const exports = new Map<string, string>();
  const stats = { requests: 0, unauthorized: 0 };

  const server = createServer((req, res) => {
    stats.requests++;
    const authorization = String(req.headers.authorization ?? '');
    if (!(same(authorization, `Bearer ${token}`) || same(authorization, basic))) {
      stats.unauthorized++;
      text(res, 401, 'Unauthorized', { 'www-authenticate': 'Bearer, Basic realm="delivery-metrics"' });
      return;
    }
    const route = req.method === 'GET' ? EXPORT_PATH.exec(new URL(req.url ?? '/', 'http://fake').pathname) : null;
    const csv = route === null ? undefined : exports.get(route[1] as string);
    if (csv === undefined) {
      text(res, 404, 'Not Found');
      return;
    }
    text(res, 200, csv, { 'content-type': 'text/csv; charset=utf-8' });
  });
  const close = closer(server);
  const bound = await listen(server, host, port);
  const url = `http://${host}:${bound}`;
  return {
    url,
    port: bound,
    exportUrl: (bundleId) => `${url}/delivery-metrics/${encodeURIComponent(bundleId)}.csv`,
    token,
    username,
    password,
    setExport(bundleId, csv) {
      exports.set(bundleId, csv);
    },
    stats,
    close,
  };
}
