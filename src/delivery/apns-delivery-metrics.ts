import { readFile } from 'node:fs/promises';
import { describe, rejectUnknownOptions } from '../core/options.js';
import { APNS_DELIVERY_OUTCOMES, APP_PATTERN } from '../metrics/contract.js';
import { parseCsv } from './csv-records.js';
import {
  dateIn,
  DeliveryReportError,
  isIsoDate,
  type DeliveryReport,
  type DeliveryReportSource,
} from './delivery-report.js';
import { checkEndpoint, getReport, MAX_REPORT_BYTES } from './report-request.js';

/** How to reach an export served over HTTP(S): a bearer token (or a function answering one), or basic auth. */
export type ApnsExportAuth =
  | { readonly bearer: string | (() => Promise<string> | string) }
  | { readonly username: string; readonly password: string };

export interface ApnsDeliveryMetricsOptions {
  /** The `app` label: the bundle id (the export is per app), as your APNs sender labels it. */
  readonly app: string;
  /** The export as downloaded: a CSV file path, read again on every poll. */
  readonly file?: string;
  /** Or the CSV text itself. */
  readonly text?: string;
  /** Or a URL serving the CSV (where your own job drops the export), with `auth`. */
  readonly url?: string;
  readonly auth?: ApnsExportAuth;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
}

/** Every "Received by APNs" message ends in one of these (or is still stored); what Apple adds later is `other`. */
const STATUSES: Readonly<Record<string, (typeof APNS_DELIVERY_OUTCOMES)[number] | 'received'>> = {
  'received by apns': 'received',
  'delivered to device': 'delivered',
  'delivered from storage': 'delivered_from_storage',
  'stored device offline': 'stored_device_offline',
  'stored power considerations': 'stored_power_considerations',
  'discarded token unregistered': 'discarded_token_unregistered',
  'discarded expired': 'discarded_expired',
  'discarded disabled': 'discarded_disabled',
};
const MAX_STATUS = 100;

/** "Stored – Device Offline", "Stored - Device Offline", "stored—device  offline" all read the same. */
function statusKey(status: string): string {
  return status
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function column(header: readonly string[], ...names: string[]): number {
  return header.findIndex((cell) =>
    names.some((name) => statusKey(cell) === name || statusKey(cell).startsWith(`${name} `)),
  );
}

/** `2026-11-30`, `2026-11-30T00:00:00Z` or the US `11/30/2026` a spreadsheet may have saved. */
function dateOf(cell: string): string | undefined {
  const value = cell.trim();
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+Z?)?$/.exec(value);
  if (iso !== null) return isIsoDate(iso[1] as string) ? iso[1] : undefined;
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  if (us === null) return undefined;
  const date = `${us[3]}-${(us[1] as string).padStart(2, '0')}-${(us[2] as string).padStart(2, '0')}`;
  return isIsoDate(date) ? date : undefined;
}

/** `1234` or `1,234`. */
function countOf(cell: string): number | undefined {
  const value = cell.trim();
  if (!/^(\d{1,3}(,\d{3})+|\d{1,15})$/.test(value)) return undefined;
  const n = Number(value.replaceAll(',', ''));
  return Number.isSafeInteger(n) ? n : undefined;
}

function malformed(detail: string): DeliveryReportError {
  return new DeliveryReportError('malformed', `the APNs delivery metrics export ${detail}`);
}

/**
 * Apple's APNs delivery metrics export (Push Notifications Console; columns Push Type, Status, Date (UTC), Count)
 * as one report: the latest complete UTC day (before today), summed over push types, each status a share of
 * "Received by APNs" (of all statuses when the export leaves that row out). Unknown statuses count as `other`.
 * Throws a DeliveryReportError (`malformed`) naming the line of anything it cannot read. Undefined: no complete day.
 */
export function parseApnsDeliveryMetrics(csv: string, app: string, now = Date.now()): DeliveryReport | undefined {
  if (typeof csv !== 'string')
    throw new TypeError(`parseApnsDeliveryMetrics: csv must be a string, got ${describe(csv)}`);
  if (typeof app !== 'string' || !APP_PATTERN.test(app))
    throw new TypeError(
      `parseApnsDeliveryMetrics: app must be an app label (${APP_PATTERN.source}), got ${describe(app)}`,
    );
  const parsed = parseCsv(csv);
  if ('unterminatedQuoteAt' in parsed)
    throw malformed(`has a quote opened on line ${parsed.unterminatedQuoteAt} and never closed`);
  const [header, ...rows] = parsed.records;
  if (header === undefined) throw malformed('is empty');
  const [status, date, count] = [
    column(header.fields, 'status'),
    column(header.fields, 'date'),
    column(header.fields, 'count'),
  ];
  if (status < 0 || date < 0 || count < 0)
    throw malformed('has no header with Status, Date and Count columns on line 1');
  const days = new Map<string, Map<string, number>>();
  for (const { line, fields } of rows) {
    if (fields.length !== header.fields.length)
      throw malformed(`line ${line} has ${fields.length} fields where the header has ${header.fields.length}`);
    const day = dateOf(fields[date] as string);
    if (day === undefined) throw malformed(`line ${line} has no valid date`);
    const n = countOf(fields[count] as string);
    if (n === undefined) throw malformed(`line ${line} has no valid count`);
    const text = fields[status] as string;
    if (text.length > MAX_STATUS) throw malformed(`line ${line} has a status over ${MAX_STATUS} characters`);
    const outcome = STATUSES[statusKey(text)] ?? 'other';
    const counts = days.get(day) ?? new Map<string, number>();
    counts.set(outcome, (counts.get(outcome) ?? 0) + n);
    days.set(day, counts);
  }
  const today = dateIn('UTC', now);
  const latest = [...days.keys()]
    .filter((day) => day < today)
    .sort()
    .at(-1);
  if (latest === undefined) return undefined;
  const counts = days.get(latest) as Map<string, number>;
  const received = counts.get('received') ?? 0;
  const ended = APNS_DELIVERY_OUTCOMES.reduce((sum, outcome) => sum + (counts.get(outcome) ?? 0), 0);
  const messages = received > 0 ? received : ended;
  const outcomes: Record<string, number> = {};
  for (const outcome of APNS_DELIVERY_OUTCOMES)
    outcomes[outcome] = messages > 0 ? Math.min(1, (counts.get(outcome) ?? 0) / messages) : 0;
  return { provider: 'apns', app, date: latest, messages, outcomes };
}

function authHeader(auth: unknown): () => Promise<string | undefined> {
  if (auth === undefined) return async () => undefined;
  if (auth === null || typeof auth !== 'object')
    throw new TypeError(`options.auth must be an object, got ${describe(auth)}`);
  if ('bearer' in auth) {
    rejectUnknownOptions(auth, ['bearer'], 'options.auth');
    const { bearer } = auth as { bearer: unknown };
    if (typeof bearer === 'string' && bearer !== '') return async () => `Bearer ${bearer}`;
    if (typeof bearer !== 'function')
      throw new TypeError(`options.auth.bearer must be a token or a function answering one, got ${typeof bearer}`);
    return async () => {
      let token: unknown;
      try {
        token = await (bearer as () => unknown)();
      } catch {
        throw new DeliveryReportError('credential', 'options.auth.bearer() failed to answer a token');
      }
      if (typeof token !== 'string' || token === '')
        throw new DeliveryReportError('credential', 'options.auth.bearer() answered no token');
      return `Bearer ${token}`;
    };
  }
  rejectUnknownOptions(auth, ['username', 'password'], 'options.auth');
  const { username, password } = auth as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || username === '' || username.includes(':') || typeof password !== 'string')
    throw new TypeError('options.auth must be { bearer } or { username, password } (a username without ":")');
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return async () => basic;
}

/**
 * Apple's APNs delivery metrics export as a report source, read from a file, a string or a URL on every poll.
 * Apple offers the metrics in the Push Notifications Console and as a downloaded CSV; point this at wherever your
 * download lands.
 */
export function apnsDeliveryMetrics(options: ApnsDeliveryMetricsOptions): DeliveryReportSource {
  if (options === null || typeof options !== 'object')
    throw new TypeError('apnsDeliveryMetrics(options): options must be an object');
  rejectUnknownOptions(options, ['app', 'file', 'text', 'url', 'auth', 'timeoutMs'], 'options');
  const { app, file, text, url, timeoutMs = 30_000 } = options;
  if (typeof app !== 'string' || !APP_PATTERN.test(app))
    throw new TypeError(
      `options.app must be the app label, e.g. a bundle id (${APP_PATTERN.source}), got ${describe(app)}`,
    );
  if ([file, text, url].filter((value) => value !== undefined).length !== 1)
    throw new TypeError('options: give exactly one of file (a path), text (the CSV) and url');
  if (file !== undefined && (typeof file !== 'string' || file === ''))
    throw new TypeError(`options.file must be a path, got ${describe(file)}`);
  if (text !== undefined && typeof text !== 'string')
    throw new TypeError(`options.text must be the CSV as a string, got ${describe(text)}`);
  if (options.auth !== undefined && url === undefined) throw new TypeError('options.auth applies to options.url only');
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0))
    throw new TypeError(`options.timeoutMs must be a whole number of milliseconds > 0, got ${describe(timeoutMs)}`);
  const endpoint = url === undefined ? undefined : checkEndpoint(url, 'options.url');
  const authorization = authHeader(options.auth);

  async function csv(): Promise<string> {
    if (text !== undefined) return text;
    if (file !== undefined) {
      try {
        const content = await readFile(file);
        if (content.byteLength > MAX_REPORT_BYTES) throw malformed(`file is over ${MAX_REPORT_BYTES} bytes`);
        return content.toString('utf8');
      } catch (error) {
        if (error instanceof DeliveryReportError) throw error;
        const code = (error as { code?: unknown } | null)?.code;
        throw new DeliveryReportError(
          code === 'ENOENT' ? 'not_found' : 'unknown',
          `options.file could not be read (${typeof code === 'string' ? code : 'error'})`,
        );
      }
    }
    const value = await authorization();
    const headers: Record<string, string> = { accept: 'text/csv, */*;q=0.5' };
    if (value !== undefined) headers.authorization = value;
    return getReport({
      url: endpoint as URL,
      headers,
      timeoutMs,
      what: `the APNs delivery metrics export (${(endpoint as URL).host})`,
    });
  }

  return {
    provider: 'apns',
    app,
    async fetchLatest() {
      return parseApnsDeliveryMetrics(await csv(), app);
    },
  };
}
