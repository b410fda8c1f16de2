import { DEVICE_RECEIPT_EVENTS, type ReceiptRejectReason } from '../metrics/contract.js';
import type { DeviceReceiptSeries } from './receipt-metrics.js';
import type { ReceiptSignatureVerifier } from './signature.js';

/** Oldest `sentAt` accepted, relative to the endpoint's clock: a device that was off for a week has nothing current. */
export const RECEIPT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** Newest `sentAt` accepted: the sender's and the endpoint's clocks may disagree by this much. */
export const RECEIPT_MAX_AHEAD_MS = 5 * 60 * 1000;

const EVENT_INDEX = new Map<string, number>(DEVICE_RECEIPT_EVENTS.map((event, index) => [event, index]));
const DELIVERED = EVENT_INDEX.get('delivered') as number;

/** What a receipt is checked against, built once from the handler's options. */
export interface ReceiptRules {
  /** provider → app → its series: the only (provider, app) pairs that count. */
  readonly series: ReadonlyMap<string, ReadonlyMap<string, DeviceReceiptSeries>>;
  /** Set when the endpoint has a secret: only receipts with a valid `sig` count. */
  readonly signatures: ReceiptSignatureVerifier | undefined;
}

/**
 * Checks one receipt and counts it when it passes; returns the reason it was refused otherwise. Every value that
 * reaches a label was found in `rules.series` (a Map, so `__proto__` and friends are only strings that are absent).
 */
export function countReceipt(value: unknown, rules: ReceiptRules, now: number): ReceiptRejectReason | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'malformed';
  const { provider, app, event, sentAt, sig } = value as Record<string, unknown>;
  if (typeof provider !== 'string' || typeof app !== 'string' || typeof event !== 'string') return 'malformed';
  if (typeof sentAt !== 'number' || !Number.isSafeInteger(sentAt)) return 'malformed';
  const apps = rules.series.get(provider);
  if (apps === undefined) return 'unknown_provider';
  const series = apps.get(app);
  if (series === undefined) return 'unknown_app';
  const eventIndex = EVENT_INDEX.get(event);
  if (eventIndex === undefined) return 'unknown_event';
  if (sentAt < now - RECEIPT_MAX_AGE_MS) return 'stale';
  if (sentAt > now + RECEIPT_MAX_AHEAD_MS) return 'future';
  if (rules.signatures !== undefined && !rules.signatures.verify(app, sentAt, sig)) return 'bad_signature';
  // Clocks within the allowed skew can put sentAt after now: that delivery was as fast as can be measured.
  series.count(eventIndex, eventIndex === DELIVERED ? Math.max(0, now - sentAt) / 1000 : undefined);
  return undefined;
}
