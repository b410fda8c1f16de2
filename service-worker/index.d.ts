/**
 * push-telemetry's service worker module (`push-telemetry/service-worker`). Self-contained types: they need neither
 * the DOM nor the WebWorker lib, so a Node-only tsconfig can import them too.
 */

/** What a device can report, in funnel order. */
export type ReceiptEvent = 'delivered' | 'displayed' | 'opened';

export declare const RECEIPT_EVENTS: readonly ReceiptEvent[];

/** The payload key the sender's stamp travels under: `'pushTelemetry'`. */
export declare const STAMP_KEY: 'pushTelemetry';

/** What the sender stamps into a push; the device posts it back with an `event`. */
export interface PushTelemetryStamp {
  readonly provider: string;
  readonly app: string;
  /** When the sender handed the push to the provider: milliseconds since the Unix epoch, a whole number. */
  readonly sentAt: number;
  /** The sender's signature over the stamp, when the receipts endpoint has a secret. */
  readonly sig?: string;
}

/** What a notification to show is: `registration.showNotification(title, options)`. */
export interface RenderedNotification {
  readonly title: string;
  /** NotificationOptions; `data` keeps whatever you put in it, and the stamp is added under `pushTelemetry`. */
  readonly options?: { readonly data?: Record<string, unknown>; readonly [option: string]: unknown };
}

export interface ReceiptErrorContext {
  readonly event: ReceiptEvent;
}

export interface PushTelemetryWorkerOptions {
  /** The receipts URL, e.g. `https://metrics.example.com/v1/receipts`; a path is resolved against the worker's origin. */
  readonly endpoint: string | URL;
  /** Which events to report; default all three. */
  readonly events?: readonly ReceiptEvent[];
  /**
   * Default true: the worker shows each push's notification (via `render`) and opens its `data.url` on click. False:
   * your own listeners show notifications; `delivered` is still reported, and `opened` for notifications whose data
   * carries the stamp (`data: { ...yours, pushTelemetry: readStamp(payload) }`).
   */
  readonly showNotification?: boolean;
  /** The notification for a push's parsed JSON payload (undefined when it has none), or null for none. Default `defaultRender`. */
  readonly render?: (payload: unknown) => RenderedNotification | null | undefined;
  /** Milliseconds a receipt post may take, 1 to 60000. Default 10000. */
  readonly timeoutMs?: number;
  /** Told about every receipt that did not get through (offline, endpoint down, CORS, a non-2xx answer). */
  readonly onError?: (error: unknown, context: ReceiptErrorContext) => void;
  /** The service worker global scope. Default `self`. */
  readonly scope?: object;
}

export interface PushTelemetryWorker {
  /** The endpoint, resolved. */
  readonly endpoint: string;
  /** Posts one receipt; true when the endpoint accepted it. Never rejects. */
  report(stamp: PushTelemetryStamp, event: ReceiptEvent): Promise<boolean>;
  /** Removes the listeners `installPushTelemetry` added. */
  uninstall(): void;
}

/** Adds the worker's `push` and `notificationclick` listeners. Throws a TypeError naming a bad option. */
export declare function installPushTelemetry(options: PushTelemetryWorkerOptions): PushTelemetryWorker;

/** The stamp in a parsed payload or a notification's data, or undefined; never throws. */
export declare function readStamp(value: unknown): PushTelemetryStamp | undefined;

/** Posts `{ ...stamp, event }` to the endpoint; true on a 2xx answer. Never rejects. */
export declare function postReceipt(
  endpoint: string | URL,
  stamp: PushTelemetryStamp,
  event: ReceiptEvent,
  options?: { readonly timeoutMs?: number; readonly onError?: (error: unknown, context: ReceiptErrorContext) => void },
): Promise<boolean>;

/** The default `render`: `{ title, body, … }` at the top of the payload or under `notification`; null without a title. */
export declare function defaultRender(payload: unknown): RenderedNotification | null;
