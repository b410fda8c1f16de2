/// <reference types="node" preserve="true" />
// Kept in the published .d.ts: TypeScript 7 loads @types/node (a dependency) only when a file asks for it.
/**
 * A fake Expo push service over plain HTTP; expo-server-sdk reaches it when EXPO_BASE_URL is set before the SDK is
 * first imported (the SDK reads it once, at import).
 *
 * POST /--/api/v2/push/send takes a message or an array of them (gzip or deflate bodies too, as the SDK sends any
 * body over 1 KiB) and answers `{ data: [ticket] }`, one ticket per recipient (`to` may be an array), in order.
 * POST /--/api/v2/push/getReceipts takes `{ ids }` and answers `{ data: { [id]: receipt } }` for ids it issued; unknown
 * ids are left out, as Expo does for receipts not ready yet. Whole-request errors are `{ errors: [{ code, message }] }`
 * with their status, and like the real service it refuses more than 100 recipients (PUSH_TOO_MANY_NOTIFICATIONS) or
 * 1000 receipt ids (PUSH_TOO_MANY_RECEIPTS) with a 400.
 *
 * Faults are picked per recipient token on send and per receipt id on getReceipts:
 * - unregistered, invalid_token, auth, config, payload_invalid, payload_too_large, rate_limited: an error ticket for
 *   that recipient (DeviceNotRegistered, "… is not a valid Expo push token", InvalidCredentials, MismatchSenderId,
 *   DeveloperError, MessageTooBig, MessageRateExceeded); the rest of the batch is accepted. Ignored on getReceipts.
 * - provider_unavailable (503), hang, reset, and { status: 4xx/5xx, reason }: the whole request fails, the reason
 *   being the error code (TOO_MANY_REQUESTS with 429, which the SDK retries twice).
 * - { status: 200, reason }: the ticket is accepted and its later receipt fails with `reason` (DeviceNotRegistered…);
 *   such receipts carry no `details.expoPushToken`, so a client must know the token from the ticket id.
 * - { status: 200, reason: 'ticket:<Error>' }: an error ticket with details.error `<Error>` (ProviderError…).
 * Stats count recipients as accepted (ok ticket) or refused; receipts are not counted again.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';
import { closer, listen, newStats, type FakeProvider, type FakeProviderOptions } from './fake.js';
import { delay, type Fault } from './faults.js';
import { BoundedMap } from '../providers/bounded-map.js';

const TICKET_ERRORS: Readonly<Record<string, readonly [string, (token: string) => string]>> = {
  unregistered: ['DeviceNotRegistered', (token) => `"${token}" is not a registered push notification recipient`],
  // The real service reports a malformed token as DeviceNotRegistered too; only the message differs.
  invalid_token: ['DeviceNotRegistered', (token) => `"${token}" is not a valid Expo push token`],
  auth: [
    'InvalidCredentials',
    () => 'Could not find APNs credentials for this experience. You may need to upload them.',
  ],
  config: ['MismatchSenderId', () => 'The FCM server key does not match the sender ID of the device token.'],
  payload_invalid: ['DeveloperError', () => 'The notification payload was rejected by the push provider.'],
  payload_too_large: ['MessageTooBig', () => 'Message was too big. The payload must be at most 4096 bytes.'],
  rate_limited: ['MessageRateExceeded', () => 'Message rate exceeded for this device. Try again later.'],
};
const MAX_MESSAGES = 100;
const MAX_RECEIPT_IDS = 1000;
const MAX_RECEIPTS_KEPT = 100_000;

type RequestFault = 'hang' | 'reset' | { readonly status: number; readonly code: string };

function requestFault(fault: Fault | undefined): RequestFault | undefined {
  if (fault === 'hang' || fault === 'reset') return fault;
  if (fault === 'provider_unavailable') return { status: 503, code: 'SERVICE_UNAVAILABLE' };
  if (typeof fault === 'object' && fault.status !== 200) return { status: fault.status, code: fault.reason };
  return undefined;
}

/** The JSON body of a request, gunzipped or inflated as expo-server-sdk sends bodies over 1 KiB. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  const encoding = req.headers['content-encoding'];
  if (encoding === 'gzip') body = gunzipSync(body);
  else if (encoding === 'deflate') body = inflateSync(body);
  return JSON.parse(body.toString('utf8')) as unknown;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function errors(res: ServerResponse, status: number, code: string, message: string): void {
  answer(res, status, { errors: [{ code, message }] });
}

export async function startFakeExpo(options: FakeProviderOptions): Promise<FakeProvider> {
  const { faults } = options;
  const stats = newStats();
  // Receipts the fake owes, by ticket id; bounded like the real service's one-day retention, by count instead.
  const receipts = new BoundedMap<string, object>(MAX_RECEIPTS_KEPT);

  function send(payload: unknown, res: ServerResponse): RequestFault | undefined {
    const tokens: string[] = [];
    for (const message of Array.isArray(payload) ? payload : [payload]) {
      const to = (message as { to?: unknown } | null)?.to;
      for (const token of Array.isArray(to) ? to : [to]) tokens.push(String(token));
    }
    if (tokens.length > MAX_MESSAGES) {
      stats.refused += tokens.length;
      errors(
        res,
        400,
        'PUSH_TOO_MANY_NOTIFICATIONS',
        `You are trying to send more than ${MAX_MESSAGES} push notifications in one request`,
      );
      return undefined;
    }
    const picked = tokens.map((token) => faults.pick(token));
    const whole = picked.map(requestFault).find((fault) => fault !== undefined);
    if (whole !== undefined) {
      stats.refused += tokens.length;
      return whole;
    }
    const tickets = tokens.map((token, i) => {
      const fault = picked[i];
      const reason = typeof fault === 'object' ? fault.reason : undefined;
      const generic = typeof fault === 'string' ? TICKET_ERRORS[fault] : undefined;
      if (generic !== undefined || reason?.startsWith('ticket:')) {
        stats.refused++;
        const [error, message] = generic ?? [
          (reason as string).slice('ticket:'.length),
          () => 'The push provider refused the notification.',
        ];
        return {
          status: 'error',
          message: message(token),
          details: error === 'DeviceNotRegistered' ? { error, expoPushToken: token } : { error },
        };
      }
      stats.accepted++;
      const id = randomUUID();
      // No expoPushToken in failed receipts: the harder case, which the adapter must answer from its own memory.
      receipts.set(
        id,
        reason === undefined
          ? { status: 'ok' }
          : {
              status: 'error',
              message: `The push provider refused the notification (${reason}).`,
              details: { error: reason },
            },
      );
      return { status: 'ok', id };
    });
    answer(res, 200, { data: tickets });
    return undefined;
  }

  function getReceipts(payload: unknown, res: ServerResponse): RequestFault | undefined {
    const ids = (payload as { ids?: unknown } | null)?.ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      errors(res, 400, 'VALIDATION_ERROR', '"ids" must be an array of strings');
      return undefined;
    }
    if (ids.length > MAX_RECEIPT_IDS) {
      errors(
        res,
        400,
        'PUSH_TOO_MANY_RECEIPTS',
        `You are trying to get more than ${MAX_RECEIPT_IDS} push receipts in one request`,
      );
      return undefined;
    }
    const whole = ids.map((id) => requestFault(faults.pick(id))).find((fault) => fault !== undefined);
    if (whole !== undefined) return whole;
    const data: Record<string, object> = {};
    for (const id of ids) {
      const receipt = receipts.get(id);
      if (receipt !== undefined) data[id] = receipt;
    }
    answer(res, 200, { data });
    return undefined;
  }

  const server = createServer((req, res) => {
    stats.requests++;
    void (async () => {
      const route = req.method === 'POST' ? req.url?.split('?', 1)[0] : undefined;
      const handler =
        route === '/--/api/v2/push/send' ? send : route === '/--/api/v2/push/getReceipts' ? getReceipts : undefined;
      let payload: unknown;
      try {
        payload = await readJson(req);
      } catch {
        if (handler !== undefined) return errors(res, 400, 'VALIDATION_ERROR', 'The request body must be JSON');
      }
      await delay(faults.latencyMs);
      if (handler === undefined) return errors(res, 404, 'NOT_FOUND', `No route for ${req.method} ${req.url}`);
      const fault = handler(payload, res);
      if (fault === 'hang') return faults.hold(res, () => req.socket.destroy());
      if (fault === 'reset') return req.socket.destroy();
      if (fault !== undefined)
        errors(res, fault.status, fault.code, `Simulated ${fault.code} from the fake Expo service`);
    })().catch(() => res.destroy());
  });
  const port = await listen(server, options.host, options.port);
  return { provider: 'expo', url: `http://${options.host}:${port}`, port, faults, stats, close: closer(server) };
}
