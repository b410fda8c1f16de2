/**
 * A fake OneSignal REST API over plain HTTP; @onesignal/node-onesignal reaches it through `createConfiguration({
 * baseServer: new ServerConfiguration(url, {}) })`.
 *
 * POST /notifications (the 5.x SDK's path on api.onesignal.com) and POST /api/v1/notifications (the v1 path older
 * clients use) take a notification and answer as OneSignal does:
 * - `Authorization: Key <key>` (or the v1 `Basic <key>`) is required, else 403 with the API's "Access denied." message;
 *   any key is accepted. No `app_id`: 400 "app_id not found…". No recipients, segments or filters: 400
 *   NO_TARGETING_SPECIFIED.
 * - 200 `{ id, external_id: null }` when a notification is created. Refused recipients are listed one by one in an
 *   `errors` object beside the id: `invalid_player_ids` (subscription and player ids), `invalid_external_user_ids`,
 *   `invalid_aliases: { <label>: [...] }`. When every recipient is refused nothing is created: `id` is ''.
 * - A request with an `idempotency_key` it already answered with 200 gets the same answer again, with
 *   `Idempotent-Replayed: true` (what createNotificationWithRetry relies on).
 *
 * Faults are picked per recipient id (subscription, player, external user id, alias value), per segment name for a
 * segment send, and on `filters` for a filter send:
 * - unregistered, invalid_token: the recipient is listed as refused (the API does not say which of the two); when the
 *   pick refuses every recipient, `{ id: '', errors: ['All included players are not subscribed'] }` if any of them is
 *   unregistered (always for a segment or filter send), else the object listing them all. Raw channel tokens
 *   (include_ios_tokens…) are never refused one by one.
 * - auth (403 "Access denied."), config (400 app_id not found), payload_invalid (400 about the English content),
 *   payload_too_large (413), rate_limited (429 with Retry-After: 1), provider_unavailable (503 "Service temporarily
 *   unavailable"), hang, reset, and { status, reason } (`{ errors: [reason] }` with that status; with 200, `id` '')
 *   apply to the whole request.
 * Stats count recipients (one for a segment or filter send) as accepted or refused.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { closer, listen, newStats, readBody, type FakeProvider, type FakeProviderOptions } from './fake.js';
import { delay, type Fault } from './faults.js';
import { BoundedMap } from '../providers/bounded-map.js';

const ACCESS_DENIED =
  "Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys).";
const NO_APP_ID = 'app_id not found. You may be missing a Content-Type: application/json header.';
const NO_TARGETING = 'You must include which players, segments, or tags you wish to send this notification to.';
const NO_SUBSCRIBERS = 'All included players are not subscribed';
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_REPLAYS_KEPT = 10_000;

type Whole = 'hang' | 'reset' | { readonly status: number; readonly body: object; readonly retryAfter?: boolean };

const WHOLE: Readonly<Record<string, Whole>> = {
  auth: { status: 403, body: { errors: [ACCESS_DENIED] } },
  config: { status: 400, body: { errors: [NO_APP_ID] } },
  payload_invalid: { status: 400, body: { errors: ['Notifications must have English language content'] } },
  payload_too_large: { status: 413, body: { errors: ['Request Entity Too Large'] } },
  rate_limited: { status: 429, body: { errors: ['API rate limit exceeded'] }, retryAfter: true },
  provider_unavailable: { status: 503, body: { errors: ['Service temporarily unavailable'] } },
};

function wholeFault(fault: Fault | undefined): Whole | undefined {
  if (fault === undefined) return undefined;
  if (fault === 'hang' || fault === 'reset') return fault;
  if (typeof fault === 'object')
    return fault.status === 200
      ? { status: 200, body: { id: '', errors: [fault.reason] } }
      : { status: fault.status, body: { errors: [fault.reason] }, retryAfter: fault.status === 429 };
  return WHOLE[fault];
}

/** One recipient of the request and the `errors` key (and alias label) a refusal of it is listed under. */
interface Target {
  readonly id: string;
  readonly key?: string;
  readonly label?: string;
}

const LISTED_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['include_subscription_ids', 'invalid_player_ids'],
  ['include_player_ids', 'invalid_player_ids'],
  ['include_external_user_ids', 'invalid_external_user_ids'],
];
const TOKEN_FIELDS = [
  'include_email_tokens',
  'email_to',
  'include_phone_numbers',
  'include_ios_tokens',
  'include_android_reg_ids',
  'include_amazon_reg_ids',
  'include_chrome_reg_ids',
  'include_chrome_web_reg_ids',
  'include_wp_wns_uris',
];

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

function targetsOf(notification: Record<string, unknown>): Target[] {
  const targets: Target[] = [];
  for (const [field, key] of LISTED_FIELDS) for (const id of strings(notification[field])) targets.push({ id, key });
  const aliases = notification.include_aliases;
  if (isObject(aliases))
    for (const [label, ids] of Object.entries(aliases))
      for (const id of strings(ids)) targets.push({ id, key: 'invalid_aliases', label });
  for (const field of TOKEN_FIELDS) for (const id of strings(notification[field])) targets.push({ id });
  return targets;
}

function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

export async function startFakeOneSignal(options: FakeProviderOptions): Promise<FakeProvider> {
  const { faults } = options;
  const stats = newStats();
  const replays = new BoundedMap<string, object>(MAX_REPLAYS_KEPT);

  /** The answer to a well-formed, authorized notification, or a whole-request fault. */
  function create(notification: Record<string, unknown>): Whole {
    if (typeof notification.app_id !== 'string' || notification.app_id === '')
      return { status: 400, body: { errors: [NO_APP_ID] } };
    const targets = targetsOf(notification);
    const segments = strings(notification.included_segments);
    const filters = Array.isArray(notification.filters) && notification.filters.length > 0;
    if (targets.length === 0 && segments.length === 0 && !filters)
      return { status: 400, body: { errors: [NO_TARGETING] } };

    if (targets.length === 0) {
      // A segment or filter send: one message, its faults picked on the segment names (or `filters`).
      const picked = (segments.length > 0 ? segments : ['filters']).map((name) => faults.pick(name));
      const whole = picked.map(wholeFault).find((fault) => fault !== undefined);
      if (whole !== undefined) {
        stats.refused++;
        return whole;
      }
      if (picked.some((fault) => fault === 'unregistered' || fault === 'invalid_token')) {
        stats.refused++;
        return { status: 200, body: { id: '', errors: [NO_SUBSCRIBERS] } };
      }
      stats.accepted++;
      return { status: 200, body: { id: randomUUID(), external_id: null } };
    }

    const picked = targets.map((target) => faults.pick(target.id));
    const whole = picked.map(wholeFault).find((fault) => fault !== undefined);
    if (whole !== undefined) {
      stats.refused += targets.length;
      return whole;
    }
    const refused = targets.filter(
      (target, i) => target.key !== undefined && (picked[i] === 'unregistered' || picked[i] === 'invalid_token'),
    );
    stats.refused += refused.length;
    stats.accepted += targets.length - refused.length;
    if (refused.length === 0) return { status: 200, body: { id: randomUUID(), external_id: null } };
    if (refused.length === targets.length && picked.includes('unregistered'))
      return { status: 200, body: { id: '', errors: [NO_SUBSCRIBERS] } };
    const errors: Record<string, unknown> = {};
    for (const { id, key, label } of refused) {
      if (label === undefined) ((errors[key as string] ??= []) as string[]).push(id);
      else (((errors.invalid_aliases ??= {}) as Record<string, string[]>)[label] ??= []).push(id);
    }
    const id = refused.length === targets.length ? '' : randomUUID();
    return { status: 200, body: { id, external_id: null, errors } };
  }

  const server = createServer((req, res) => {
    stats.requests++;
    void (async () => {
      const route = req.method === 'POST' ? req.url?.split('?', 1)[0] : undefined;
      const text = await readBody(req, MAX_BODY_BYTES);
      await delay(faults.latencyMs);
      if (route !== '/notifications' && route !== '/api/v1/notifications')
        return answer(res, 404, { errors: [`No route for ${req.method} ${req.url?.split('?', 1)[0]}`] });
      if (!/^(?:Key|Basic) \S+$/.test(req.headers.authorization ?? ''))
        return answer(res, 403, { errors: [ACCESS_DENIED] });
      if (text === undefined) return answer(res, 413, { errors: ['Request Entity Too Large'] });
      let notification: unknown;
      try {
        notification = JSON.parse(text);
      } catch {
        return answer(res, 400, { errors: ['The request body must be JSON'] });
      }
      if (!isObject(notification)) return answer(res, 400, { errors: ['The request body must be a JSON object'] });
      const key = typeof notification.idempotency_key === 'string' ? notification.idempotency_key : undefined;
      const replayed = key === undefined ? undefined : replays.get(key);
      if (replayed !== undefined) return answer(res, 200, replayed, { 'idempotent-replayed': 'true' });

      const outcome = create(notification);
      if (outcome === 'hang') return faults.hold(res, () => req.socket.destroy());
      if (outcome === 'reset') return req.socket.destroy();
      if (outcome.status === 200 && key !== undefined) replays.set(key, outcome.body);
      answer(res, outcome.status, outcome.body, outcome.retryAfter === true ? { 'retry-after': '1' } : {});
    })().catch(() => res.destroy());
  });
  const port = await listen(server, options.host, options.port);
  return { provider: 'onesignal', url: `http://${options.host}:${port}`, port, faults, stats, close: closer(server) };
}
