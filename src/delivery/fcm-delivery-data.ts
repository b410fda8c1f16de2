import { describe, rejectUnknownOptions } from '../core/options.js';
import { APP_PATTERN, FCM_DELIVERY_OUTCOMES } from '../metrics/contract.js';
import {
  dateIn,
  DeliveryReportError,
  isIsoDate,
  type DeliveryReport,
  type DeliveryReportSource,
} from './delivery-report.js';
import { accessTokens, type GoogleAccessTokenAnswer, type GoogleCredentialLike } from './google-access-token.js';
import { checkEndpoint, getReport } from './report-request.js';

export interface FcmDeliveryDataOptions {
  /** The Firebase project id (or number) the Android app belongs to. */
  readonly project: string;
  /** The Firebase Android app id, `1:1234567890:android:0123456789abcdef`. */
  readonly appId: string;
  /** The `app` label the gauges carry: the one your FCM sender uses. Default `project`. */
  readonly app?: string;
  /** Credentials you already have: firebase-admin's `app.options.credential`, `cert(...)`, or a google-auth-library client. */
  readonly credential?: GoogleCredentialLike;
  /** Or a function answering a bearer token (OAuth2 scope cloud-platform). */
  readonly getAccessToken?: () => Promise<GoogleAccessTokenAnswer> | GoogleAccessTokenAnswer;
  /** Default https://fcmdata.googleapis.com; the simulator's fake FCM Data API for tests. */
  readonly baseUrl?: string;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
}

export const FCM_DATA_API_URL = 'https://fcmdata.googleapis.com';
/** FCM's days end at midnight in California: `pending` counts what was undelivered then. */
const FCM_DAY_ZONE = 'America/Los_Angeles';
const MAX_PAGE_SIZE = 10_000;
/** A month of rows for 100 analytics labels is 3,000: past this many pages or rows the answer is looping. */
const MAX_PAGES = 100;
const MAX_ROWS = 100_000;
const PROJECT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const APP_ID = /^\d+:\d+:android:[0-9a-zA-Z]+$/;
const PAGE_TOKEN = /^[\x21-\x7e]{1,2048}$/;

/** messageOutcomePercents fields in the contract's order; what FCM adds later lands in `other`. */
const OUTCOME_FIELDS: Readonly<Record<string, string>> = {
  delivered: 'delivered',
  pending: 'pending',
  collapsed: 'collapsed',
  droppedTooManyPendingMessages: 'dropped_too_many_pending_messages',
  droppedAppForceStopped: 'dropped_app_force_stopped',
  droppedDeviceInactive: 'dropped_device_inactive',
};
/** deliveryPerformancePercents fields: they may overlap, so an unknown one has no share to add to. */
const PERFORMANCE_FIELDS: Readonly<Record<string, string>> = {
  deliveredNoDelay: 'delivered_no_delay',
  delayedDeviceOffline: 'delayed_device_offline',
  delayedDeviceDoze: 'delayed_device_doze',
  delayedMessageThrottled: 'delayed_message_throttled',
  delayedUserStopped: 'delayed_user_stopped',
};

interface Row {
  readonly date: string;
  /** Messages accepted, the weight of this row's percentages. */
  readonly accepted: number;
  readonly shares: Readonly<Record<string, number>>;
}

function malformed(detail: string): DeliveryReportError {
  return new DeliveryReportError('malformed', `the FCM Data API answered ${detail}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A google.type.Date `{ year, month, day }` (what the API sends) or a `YYYY-MM-DD` string. */
function dateOf(value: unknown): string | undefined {
  if (typeof value === 'string') return isIsoDate(value) ? value : undefined;
  if (!isObject(value)) return undefined;
  const { year, month, day } = value;
  if (![year, month, day].every((n) => Number.isInteger(n))) return undefined;
  const date = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return isIsoDate(date) ? date : undefined;
}

/** proto3 JSON sends int64 as a string and leaves zeros out. */
function countOf(value: unknown): number | undefined {
  if (value === undefined) return 0;
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Percentages as shares 0..1, missing fields (proto3's zeros) as 0; a bad value is undefined. */
function sharesOf(
  percents: unknown,
  fields: Readonly<Record<string, string>>,
  into: Record<string, number>,
  other: boolean,
): boolean {
  if (percents === undefined) percents = {};
  if (!isObject(percents)) return false;
  for (const outcome of Object.values(fields)) into[outcome] = 0;
  if (other) into.other = 0;
  for (const [field, value] of Object.entries(percents)) {
    // Rounding may leave a percentage a hair over 100; anything further is no percentage.
    if (typeof value !== 'number' || !(value >= 0 && value <= 100.5)) return false;
    const outcome = Object.hasOwn(fields, field) ? fields[field] : other ? 'other' : undefined;
    if (outcome !== undefined) into[outcome] = (into[outcome] as number) + Math.min(value, 100) / 100;
  }
  return true;
}

function rowOf(value: unknown, index: number): Row {
  if (!isObject(value)) throw malformed(`a deliveryData row ${index} that is not an object`);
  const date = dateOf(value.date);
  if (date === undefined) throw malformed(`a deliveryData row ${index} without a valid date`);
  const data = value.data === undefined ? {} : value.data;
  if (!isObject(data)) throw malformed(`a deliveryData row ${index} whose data is not an object`);
  const accepted = countOf(data.countMessagesAccepted);
  if (accepted === undefined) throw malformed(`a deliveryData row ${index} with a bad countMessagesAccepted`);
  const shares: Record<string, number> = {};
  if (
    !sharesOf(data.messageOutcomePercents, OUTCOME_FIELDS, shares, true) ||
    !sharesOf(data.deliveryPerformancePercents, PERFORMANCE_FIELDS, shares, false)
  )
    throw malformed(`a deliveryData row ${index} with a percentage that is not a number from 0 to 100`);
  return { date, accepted, shares };
}

/** One day's rows (one per analytics label) as one report: each row's shares weighted by its accepted messages. */
function combine(rows: readonly Row[], app: string): DeliveryReport {
  const messages = rows.reduce((sum, row) => sum + row.accepted, 0);
  // A day whose rows all say 0 accepted (proto3 leaves the count out at 0) still has shares: weigh the rows equally.
  const weight = (row: Row) => (messages > 0 ? row.accepted / messages : 1 / rows.length);
  const outcomes: Record<string, number> = {};
  for (const outcome of FCM_DELIVERY_OUTCOMES)
    outcomes[outcome] = Math.min(
      1,
      rows.reduce((sum, row) => sum + (row.shares[outcome] ?? 0) * weight(row), 0),
    );
  return { provider: 'fcm', app, date: (rows[0] as Row).date, messages, outcomes };
}

/**
 * The FCM Data API as a report source: `GET /v1beta1/projects/{project}/androidApps/{appId}/deliveryData`, every
 * page, and the latest complete day (before today in California, where FCM's days end) combined over its analytics
 * labels. Android only, and only devices that share usage statistics are counted; reports lag about a day.
 */
export function fcmDeliveryData(options: FcmDeliveryDataOptions): DeliveryReportSource {
  const where = 'fcmDeliveryData(options)';
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object`);
  rejectUnknownOptions(
    options,
    ['project', 'appId', 'app', 'credential', 'getAccessToken', 'baseUrl', 'timeoutMs'],
    'options',
  );
  const { project, appId, baseUrl = FCM_DATA_API_URL, timeoutMs = 30_000 } = options;
  if (typeof project !== 'string' || !PROJECT.test(project))
    throw new TypeError(
      `options.project must be a Firebase project id such as "my-project-123", got ${describe(project)}`,
    );
  if (typeof appId !== 'string' || !APP_ID.test(appId))
    throw new TypeError(
      `options.appId must be a Firebase Android app id such as "1:1234567890:android:0123456789abcdef", got ${describe(appId)}`,
    );
  const app = options.app ?? project;
  if (typeof app !== 'string' || !APP_PATTERN.test(app))
    throw new TypeError(`options.app must be an app label (${APP_PATTERN.source}), got ${describe(app)}`);
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0))
    throw new TypeError(`options.timeoutMs must be a whole number of milliseconds > 0, got ${describe(timeoutMs)}`);
  const base = checkEndpoint(baseUrl, 'options.baseUrl');
  const tokens = accessTokens(options.credential, options.getAccessToken, 'options');
  const path = `v1beta1/projects/${encodeURIComponent(project)}/androidApps/${encodeURIComponent(appId)}/deliveryData`;
  const what = `the FCM Data API (${project}, ${appId})`;

  async function page(pageToken: string | undefined): Promise<{ rows: unknown[]; next: string | undefined }> {
    const url = new URL(path, base.href.endsWith('/') ? base : `${base.href}/`);
    url.searchParams.set('pageSize', String(MAX_PAGE_SIZE));
    if (pageToken !== undefined) url.searchParams.set('pageToken', pageToken);
    const headers = { authorization: `Bearer ${await tokens.token()}`, accept: 'application/json' };
    let text: string;
    try {
      text = await getReport({ url, headers, timeoutMs, what });
    } catch (error) {
      if (error instanceof DeliveryReportError && error.reason === 'auth') tokens.forget();
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw malformed('something that is not JSON');
    }
    if (!isObject(body)) throw malformed('JSON that is not an object');
    const rows = body.androidDeliveryData ?? body.deliveryData ?? [];
    if (!Array.isArray(rows)) throw malformed('a deliveryData that is not a list');
    const next = body.nextPageToken;
    if (next === undefined || next === '') return { rows, next: undefined };
    if (typeof next !== 'string' || !PAGE_TOKEN.test(next)) throw malformed('a malformed nextPageToken');
    return { rows, next };
  }

  return {
    provider: 'fcm',
    app,
    async fetchLatest() {
      const rows: Row[] = [];
      let pageToken: string | undefined;
      for (let pages = 0; ; pages++) {
        if (pages === MAX_PAGES) throw malformed(`more than ${MAX_PAGES} pages`);
        const { rows: found, next } = await page(pageToken);
        if (rows.length + found.length > MAX_ROWS) throw malformed(`more than ${MAX_ROWS} deliveryData rows`);
        for (const row of found) rows.push(rowOf(row, rows.length));
        if (next === undefined) break;
        pageToken = next;
      }
      const today = dateIn(FCM_DAY_ZONE, Date.now());
      const latest = rows.reduce<string | undefined>(
        (max, row) => (row.date < today && (max === undefined || row.date > max) ? row.date : max),
        undefined,
      );
      if (latest === undefined) return undefined;
      return combine(
        rows.filter((row) => row.date === latest),
        app,
      );
    },
  };
}
