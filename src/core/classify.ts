import type { ErrorType } from './taxonomy.js';
import { readProperty, readString, toHttpStatus } from './read.js';

// Node's and undici's transport error codes; TLS failures are matched by prefix below.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EPIPE',
  'EPROTO',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_PING_CANCEL',
  'ERR_STREAM_PREMATURE_CLOSE',
  'HPE_INVALID_CONSTANT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const TLS_CODE_PREFIXES = ['ERR_TLS_', 'ERR_SSL_', 'CERT_'];
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TIMEOUT_MESSAGE = /\btime[ds\s-]*out\b/i;
// `cause` chains are followed this deep: fetch wraps the socket error one level down, SDKs sometimes two.
const MAX_CAUSE_DEPTH = 4;

/** Maps an HTTP status onto the taxonomy; undefined for statuses that say nothing about the failure. */
export function classifyHttpStatus(status: number): ErrorType | undefined {
  switch (status) {
    case 400:
      return 'payload_invalid';
    case 401:
    case 403:
      return 'auth';
    case 404:
    case 410:
      return 'unregistered';
    case 408:
      return 'timeout';
    case 413:
      return 'payload_too_large';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 && status <= 599 ? 'provider_unavailable' : undefined;
  }
}

/** Maps a Node/undici error code onto the taxonomy; undefined when the code is not a transport code. */
export function classifyErrorCode(code: string): ErrorType | undefined {
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (NETWORK_CODES.has(code) || TLS_CODE_PREFIXES.some((prefix) => code.startsWith(prefix))) return 'network';
  return undefined;
}

/** The HTTP status an error carries, looked up where the common clients put it. */
export function httpStatusOf(error: unknown): number | undefined {
  const response = readProperty(error, 'response');
  const metadata = readProperty(error, '$metadata');
  return (
    toHttpStatus(readProperty(error, 'statusCode')) ??
    toHttpStatus(readProperty(error, 'status')) ??
    toHttpStatus(readProperty(response, 'status')) ??
    toHttpStatus(readProperty(response, 'statusCode')) ??
    toHttpStatus(readProperty(metadata, 'httpStatusCode'))
  );
}

/**
 * The HTTP status the failure log records: httpStatusOf's, else firebase-admin 14's `httpResponse.status` (13's
 * errors carry none). Classification never reads the latter: FCM's error_type goes by firebase-admin's code alone.
 */
export function loggedStatusOf(error: unknown): number | undefined {
  return httpStatusOf(error) ?? toHttpStatus(readProperty(readProperty(error, 'httpResponse'), 'status'));
}

function classifyAt(error: unknown, depth: number): ErrorType {
  if (typeof error === 'string') return TIMEOUT_MESSAGE.test(error) ? 'timeout' : 'unknown';
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return 'unknown';

  const name = readString(error, 'name');
  const code = readProperty(error, 'code');
  if (name === 'AbortError' || code === 'ABORT_ERR') return 'canceled';

  const status = httpStatusOf(error);
  const byStatus = status === undefined ? undefined : classifyHttpStatus(status);
  if (byStatus) return byStatus;

  const byCode = typeof code === 'string' ? classifyErrorCode(code) : undefined;
  if (byCode) return byCode;
  if (name === 'TimeoutError') return 'timeout';
  const message = readString(error, 'message');
  if (message !== undefined && TIMEOUT_MESSAGE.test(message.slice(0, 1000))) return 'timeout';

  const cause = readProperty(error, 'cause');
  if (depth < MAX_CAUSE_DEPTH && cause !== undefined && cause !== error) return classifyAt(cause, depth + 1);
  return 'unknown';
}

/**
 * The default classifier: HTTP status first (it is the provider's own verdict), then transport error codes, then
 * timeouts and aborts, then the error's `cause`. Never throws, whatever it is given.
 */
export function classifyError(error: unknown): ErrorType {
  try {
    return classifyAt(error, 0);
  } catch {
    return 'unknown';
  }
}

/**
 * The raw provider code for `push.provider.reason`: the error's string `code`, else its HTTP status, else its name.
 * Bounded in length because it lands on spans.
 */
export function reasonOf(error: unknown): string | undefined {
  try {
    const code = readProperty(error, 'code');
    if (typeof code === 'string' && code !== '') return code.slice(0, 128);
    const status = httpStatusOf(error);
    if (status !== undefined) return String(status);
    const name = readString(error, 'name');
    return name && name !== 'Error' ? name.slice(0, 128) : undefined;
  } catch {
    return undefined;
  }
}
