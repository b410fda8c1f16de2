/**
 * push-telemetry in the browser: a service worker reports what became of each stamped push, so the funnel goes on
 * past "the provider accepted it": `delivered` when the push event runs, `displayed` once the notification is shown,
 * `opened` when it is clicked. Each report is the push's `pushTelemetry` stamp plus the event, posted to the receipts
 * endpoint (`POST /v1/receipts` of push-telemetry's metrics server).
 *
 * Plain JavaScript with no imports, so it runs as written: `navigator.serviceWorker.register('/sw.js', { type:
 * 'module' })` with `import { installPushTelemetry } from './push-telemetry/index.js'` in it, or the classic build
 * (classic.js, generated from this file) with `importScripts`. Nothing runs on import; `installPushTelemetry` adds the
 * listeners. A receipt never breaks the push it reports on: its failures are swallowed (passed to `onError` when
 * given), and a push without a stamp posts nothing.
 */

/** What a device can report, in funnel order. */
export const RECEIPT_EVENTS = Object.freeze(['delivered', 'displayed', 'opened']);

/** The payload key the sender's stamp travels under. */
export const STAMP_KEY = 'pushTelemetry';

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 60_000;
// NotificationOptions a payload may set; anything else in it stays out of the notification.
const NOTIFICATION_FIELDS = [
  'body',
  'icon',
  'image',
  'badge',
  'tag',
  'lang',
  'dir',
  'renotify',
  'requireInteraction',
  'silent',
  'actions',
  'timestamp',
  'vibrate',
];

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/**
 * The stamp of a push, from its parsed JSON payload or from a notification's data: `payload.pushTelemetry` (Web
 * Push), or `payload.data.pushTelemetry` as a JSON string (FCM's web SDK hands data messages over that way). Only
 * `provider`, `app`, `sentAt` and `sig` are kept, so nothing else of the payload can travel with a receipt. Returns
 * undefined when there is no well-formed stamp; never throws.
 */
export function readStamp(value) {
  if (!isObject(value)) return undefined;
  let stamp = value[STAMP_KEY];
  if (stamp === undefined && isObject(value.data)) stamp = value.data[STAMP_KEY];
  if (typeof stamp === 'string') {
    try {
      stamp = JSON.parse(stamp);
    } catch {
      return undefined;
    }
  }
  if (!isObject(stamp)) return undefined;
  const { provider, app, sentAt, sig } = stamp;
  if (typeof provider !== 'string' || provider === '' || typeof app !== 'string') return undefined;
  if (!Number.isSafeInteger(sentAt) || sentAt < 0) return undefined;
  if (sig !== undefined && typeof sig !== 'string') return undefined;
  return sig === undefined ? { provider, app, sentAt } : { provider, app, sentAt, sig };
}

/**
 * Posts one receipt; resolves true when the endpoint accepted it (2xx), false otherwise. Never rejects: a receipt is
 * telemetry, and the device may be offline, the endpoint down or blocked by CORS.
 */
export async function postReceipt(endpoint, stamp, event, options = {}) {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, onError } = options;
  try {
    if (!RECEIPT_EVENTS.includes(event)) throw new TypeError(`event must be one of ${RECEIPT_EVENTS.join(', ')}`);
    const receipt = readStamp({ [STAMP_KEY]: stamp });
    if (receipt === undefined) throw new TypeError('stamp must be { provider, app, sentAt, sig? }');
    const response = await fetch(endpoint, {
      method: 'POST',
      // text/plain keeps a cross-origin post a CORS "simple request": one request, no preflight. The endpoint reads
      // the body as JSON whatever its type.
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ ...receipt, event }),
      credentials: 'omit',
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`receipts endpoint answered ${response.status}`);
    return true;
  } catch (error) {
    if (typeof onError === 'function') {
      try {
        onError(error, { event });
      } catch {
        // The user's error hook failing must not fail the push either.
      }
    }
    return false;
  }
}

/**
 * The notification the default `render` shows: `{ title, body, … }` at the top of the payload, or under
 * `notification` (FCM's and Declarative Web Push's shape). A click opens `url` (or `navigate`, or `data.url`) when
 * the payload has one. No title, no notification: the browser then shows its own ("site updated in the background").
 */
export function defaultRender(payload) {
  if (!isObject(payload)) return null;
  const source = isObject(payload.notification) ? payload.notification : payload;
  if (typeof source.title !== 'string' || source.title === '') return null;
  const options = {};
  for (const field of NOTIFICATION_FIELDS) if (source[field] !== undefined) options[field] = source[field];
  const data = isObject(payload.data) ? { ...payload.data } : {};
  const url = [source.url, source.navigate, data.url].find((candidate) => typeof candidate === 'string');
  if (url !== undefined) data.url = url;
  options.data = data;
  return { title: source.title, options };
}

function checkOptions(options) {
  if (!isObject(options))
    throw new TypeError(`installPushTelemetry(options): options must be an object, got ${describe(options)}`);
  const known = ['endpoint', 'events', 'showNotification', 'render', 'timeoutMs', 'onError', 'scope'];
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw new TypeError(
        `installPushTelemetry(options): unknown option ${JSON.stringify(key)}; known: ${known.join(', ')}`,
      );
  const {
    endpoint,
    events = RECEIPT_EVENTS,
    showNotification = true,
    render = defaultRender,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    onError,
    scope = globalThis,
  } = options;
  if (!(typeof endpoint === 'string' && endpoint !== '') && !(endpoint instanceof URL))
    throw new TypeError(`options.endpoint must be the receipts URL (a string or URL), got ${describe(endpoint)}`);
  let url;
  try {
    url = new URL(endpoint, scope.location?.href);
  } catch {
    throw new TypeError(`options.endpoint must be an absolute URL or a path on this origin, got ${describe(endpoint)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError(`options.endpoint must be an http(s) URL, got ${describe(url.protocol)}`);
  if (!Array.isArray(events) || !events.every((event) => RECEIPT_EVENTS.includes(event)))
    throw new TypeError(`options.events must be an array of ${RECEIPT_EVENTS.join(', ')}, got ${describe(events)}`);
  if (typeof showNotification !== 'boolean')
    throw new TypeError(`options.showNotification must be true or false, got ${describe(showNotification)}`);
  if (typeof render !== 'function') throw new TypeError(`options.render must be a function, got ${describe(render)}`);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)
    throw new TypeError(
      `options.timeoutMs must be a whole number from 1 to ${MAX_TIMEOUT_MS}, got ${describe(timeoutMs)}`,
    );
  if (onError !== undefined && typeof onError !== 'function')
    throw new TypeError(`options.onError must be a function, got ${describe(onError)}`);
  if (!isObject(scope) || typeof scope.addEventListener !== 'function')
    throw new TypeError('options.scope must be the service worker global scope (self)');
  return { endpoint: url.href, events: new Set(events), showNotification, render, timeoutMs, onError, scope };
}

/** The push's JSON payload, or undefined (no data, or not JSON). */
function parsePayload(data) {
  if (!data) return undefined;
  try {
    return data.json();
  } catch {
    return undefined;
  }
}

/** event.waitUntil, except on an event script code constructed and dispatched, where the browser refuses it. */
function extend(event, promise) {
  try {
    event.waitUntil(promise);
  } catch {
    // The work still runs; only the worker's lifetime is not extended for it.
  }
}

/** Focuses a window already showing `url`, or opens one. */
async function openWindow(scope, url) {
  const target = new URL(url, scope.location?.href).href;
  const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => client.url === target);
  if (open !== undefined && typeof open.focus === 'function') return open.focus();
  return scope.clients.openWindow(target);
}

/**
 * Adds the `push` and `notificationclick` listeners to the worker. With `showNotification` (default true) the worker
 * shows each push's notification (`render(payload)` → `{ title, options }`, the stamp kept in `options.data`) and
 * opens its URL on click; with `showNotification: false` your own listeners show and handle notifications, and this
 * reports `delivered` on push and `opened` for a clicked notification whose data carries the stamp
 * (`data: { ...yours, pushTelemetry: readStamp(payload) }`). Returns `report(stamp, event)` for anything else, and
 * `uninstall()`.
 */
export function installPushTelemetry(options) {
  const settings = checkOptions(options);
  const { scope, events } = settings;
  const report = (stamp, event) =>
    postReceipt(settings.endpoint, stamp, event, { timeoutMs: settings.timeoutMs, onError: settings.onError });

  async function show(payload, stamp) {
    const notification = settings.render(payload);
    if (notification === null || notification === undefined) return false;
    if (!isObject(notification) || typeof notification.title !== 'string')
      throw new TypeError('render(payload) must return { title, options? } or null');
    const shown = { ...notification.options };
    const data = isObject(shown.data) ? { ...shown.data } : {};
    if (stamp !== undefined) data[STAMP_KEY] = stamp;
    shown.data = data;
    await scope.registration.showNotification(notification.title, shown);
    return true;
  }

  function onPush(event) {
    const payload = parsePayload(event.data);
    const stamp = readStamp(payload);
    // The receipt goes out beside the notification, never in front of it.
    const delivered = stamp !== undefined && events.has('delivered') ? report(stamp, 'delivered') : undefined;
    if (!settings.showNotification) {
      if (delivered !== undefined) extend(event, delivered);
      return;
    }
    // A failure to show stays a failure of the push event, as in a worker without push-telemetry.
    const shown = show(payload, stamp).then(async (didShow) => {
      if (didShow && stamp !== undefined && events.has('displayed')) await report(stamp, 'displayed');
    });
    extend(event, Promise.all([shown, delivered]));
  }

  function onNotificationClick(event) {
    const notification = event.notification;
    const stamp = readStamp(notification?.data);
    const work = [];
    if (stamp !== undefined && events.has('opened')) work.push(report(stamp, 'opened'));
    if (settings.showNotification) {
      notification?.close();
      const url = notification?.data?.url;
      if (typeof url === 'string') work.push(openWindow(scope, url));
    }
    if (work.length > 0) extend(event, Promise.all(work));
  }

  scope.addEventListener('push', onPush);
  scope.addEventListener('notificationclick', onNotificationClick);
  return {
    endpoint: settings.endpoint,
    report,
    uninstall() {
      scope.removeEventListener('push', onPush);
      scope.removeEventListener('notificationclick', onNotificationClick);
    },
  };
}
