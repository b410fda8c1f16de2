import type { DELIVERY_REPORT_ERROR_REASONS } from '../metrics/contract.js';

/** Why an import failed: the bounded `reason` of push_provider_delivery_report_errors_total. */
export type DeliveryReportErrorReason = (typeof DELIVERY_REPORT_ERROR_REASONS)[number];

/** One provider's report for one day and app, as the gauges show it. */
export interface DeliveryReport {
  readonly provider: 'fcm' | 'apns';
  /** The `app` label: what the sender of these messages uses, so the report lines up with its other series. */
  readonly app: string;
  /** The report's day, `YYYY-MM-DD` (FCM: an America/Los_Angeles day; APNs: a UTC day). */
  readonly date: string;
  /** Messages the report covers: FCM countMessagesAccepted, APNs "Received by APNs". */
  readonly messages: number;
  /** Share (0..1) per outcome, over the contract's fixed list of outcomes for the provider. */
  readonly outcomes: Readonly<Record<string, number>>;
}

/** Where a poller gets reports from: `fcmDeliveryData(...)` or `apnsDeliveryMetrics(...)`. */
export interface DeliveryReportSource {
  readonly provider: 'fcm' | 'apns';
  readonly app: string;
  /** The latest complete day's report, or undefined when the provider has none yet. Rejects with DeliveryReportError. */
  fetchLatest(): Promise<DeliveryReport | undefined>;
}

/**
 * A failed import, with a bounded reason. The message names what failed (status, path, line) but never a token or
 * anything the provider's answer said.
 */
export class DeliveryReportError extends Error {
  readonly reason: DeliveryReportErrorReason;
  /** The HTTP status, when the provider answered one. */
  readonly status: number | undefined;

  constructor(reason: DeliveryReportErrorReason, message: string, status?: number) {
    super(message);
    this.name = 'DeliveryReportError';
    this.reason = reason;
    this.status = status;
  }
}

/** The error for an HTTP status a report endpoint answered with. */
export function statusError(status: number, what: string): DeliveryReportError {
  const reason: DeliveryReportErrorReason =
    status === 401 || status === 403
      ? 'auth'
      : status === 404
        ? 'not_found'
        : status === 429
          ? 'rate_limited'
          : status >= 500
            ? 'provider_unavailable'
            : 'unknown';
  return new DeliveryReportError(reason, `${what} answered HTTP ${status}`, status);
}

/** `YYYY-MM-DD` of `now` in a time zone (the en-CA locale formats dates that way). */
export function dateIn(timeZone: string, now: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Unix seconds at 00:00 UTC of a `YYYY-MM-DD` date. */
export function dateSeconds(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether a `YYYY-MM-DD` string is a real calendar date. */
export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (match === null) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
}
