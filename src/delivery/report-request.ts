import { DeliveryReportError, statusError } from './delivery-report.js';

/** The largest report body read: a month of CSV rows or a page of 10,000 JSON rows fits many times over. */
export const MAX_REPORT_BYTES = 32 * 1024 * 1024;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Checks a report endpoint URL at construction time: https, or plain http on loopback only (the simulator's fakes),
 * so a bearer token or a password never crosses a network in clear text.
 */
export function checkEndpoint(value: unknown, option: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(
      `${option} must be an absolute https URL, got ${typeof value === 'string' ? 'an invalid URL' : typeof value}`,
    );
  }
  if (
    typeof value !== 'string' ||
    !(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
  )
    throw new TypeError(
      `${option} must be an https URL (plain http only on 127.0.0.1, [::1] or localhost), got ${url.protocol}//${url.host}`,
    );
  if (url.username !== '' || url.password !== '')
    throw new TypeError(`${option} must not carry credentials in the URL; use the auth option`);
  return url;
}

export interface ReportRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Names the request in error messages: `the FCM Data API`, never the URL's query (a page token). */
  readonly what: string;
}

/** GET with a timeout and a size cap; resolves with the body as text, rejects with a DeliveryReportError. */
export async function getReport({ url, headers, timeoutMs, what }: ReportRequest): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError')
      throw new DeliveryReportError('timeout', `${what} gave no answer within ${timeoutMs} ms`);
    throw new DeliveryReportError('network', `${what} could not be reached (${url.host})`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw statusError(response.status, what);
  }
  return readCapped(response, what);
}

async function readCapped(response: Response, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > MAX_REPORT_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw new DeliveryReportError(
      'malformed',
      `${what} answered ${declared} bytes, over the ${MAX_REPORT_BYTES} byte limit`,
    );
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_REPORT_BYTES) {
        await response.body.cancel().catch(() => undefined);
        throw new DeliveryReportError('malformed', `${what} answered over ${MAX_REPORT_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof DeliveryReportError) throw error;
    if ((error as { name?: unknown } | null)?.name === 'TimeoutError')
      throw new DeliveryReportError('timeout', `${what} did not finish its answer within the timeout`);
    throw new DeliveryReportError('network', `${what} broke off its answer`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
