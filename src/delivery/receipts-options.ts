import { APP_PATTERN, KNOWN_PROVIDERS, PROVIDER_PATTERN } from '../metrics/contract.js';
import { checkLabelValue, describe, rejectUnknownOptions } from '../core/options.js';
import { checkSecret } from './signature.js';

/** Who may read the receipts endpoint's answers from a web page: exact origins, or any with '*'. */
export interface ReceiptsCorsOptions {
  /** e.g. ['https://app.example.com'], or '*' for every origin (receipts carry no credentials, so '*' is safe). */
  readonly origins: readonly string[] | '*';
}

export interface DeviceReceiptsOptions {
  /** The apps whose receipts count; a receipt for any other app is refused (`unknown_app`) and makes no series. */
  readonly apps: readonly string[];
  /**
   * The providers a receipt may name. Default: every provider push-telemetry's adapters use (KNOWN_PROVIDERS); give a
   * custom sender's provider name here to take its receipts too.
   */
  readonly providers?: readonly string[];
  /** With a secret, only receipts whose `sig` the stamping helpers made with the same secret count. */
  readonly secret?: string;
  /** CORS for web pages and service workers posting receipts. Default: no CORS headers. */
  readonly cors?: ReceiptsCorsOptions;
  /** Largest request body accepted, in bytes. Default 32768 (a batch of 100 signed receipts is about 20 KB). */
  readonly maxBodyBytes?: number;
}

/** The most receipts one request may carry. */
export const MAX_RECEIPTS_PER_REQUEST = 100;
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024;
const MAX_BODY_LIMIT = 1024 * 1024;

export interface CheckedReceiptsOptions {
  readonly apps: readonly string[];
  readonly providers: readonly string[];
  readonly secret: string | undefined;
  /** undefined: no CORS; '*': any origin; otherwise the exact origins allowed. */
  readonly origins: ReadonlySet<string> | '*' | undefined;
  readonly maxBodyBytes: number;
}

const OPTIONS = ['apps', 'providers', 'secret', 'cors', 'maxBodyBytes'];

function checkList(value: unknown, option: string, check: (item: unknown, where: string) => string): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`${option} must be a non-empty array, got ${describe(value)}`);
  return [...new Set(value.map((item, index) => check(item, `${option}[${index}]`)))];
}

function checkOrigin(value: unknown, option: string): string {
  let origin: string | undefined;
  try {
    origin = typeof value === 'string' ? new URL(value).origin : undefined;
  } catch {}
  if (origin === undefined || origin === 'null' || origin !== value) {
    throw new TypeError(
      `${option} must be an origin such as "https://app.example.com" (scheme, host and port only, no trailing slash), got ${describe(value)}`,
    );
  }
  return origin;
}

function checkCors(cors: unknown, where: string): CheckedReceiptsOptions['origins'] {
  if (cors === undefined) return undefined;
  if (cors === null || typeof cors !== 'object' || Array.isArray(cors))
    throw new TypeError(`${where}.cors must be { origins: string[] | '*' }, got ${describe(cors)}`);
  rejectUnknownOptions(cors, ['origins'], `${where}.cors`);
  const { origins } = cors as { origins: unknown };
  if (origins === '*') return '*';
  return new Set(checkList(origins, `${where}.cors.origins`, checkOrigin));
}

/** Checks the receipts options at construction time, with errors that name the option and never echo the secret. */
export function checkReceiptsOptions(options: unknown, where: string): CheckedReceiptsOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${where} must be an object such as { apps: ['com.example.app'] }, got ${describe(options)}`);
  rejectUnknownOptions(options, OPTIONS, where);
  const given = options as DeviceReceiptsOptions;
  const apps = checkList(given.apps, `${where}.apps`, (app, option) =>
    checkLabelValue(app, APP_PATTERN, option, 'an app name of letters, digits, ".", "_" or "-"'),
  );
  const providers =
    given.providers === undefined
      ? [...KNOWN_PROVIDERS]
      : checkList(given.providers, `${where}.providers`, (provider, option) =>
          checkLabelValue(provider, PROVIDER_PATTERN, option, 'a provider name such as "fcm"'),
        );
  const secret = given.secret === undefined ? undefined : checkSecret(given.secret, `${where}.secret`);
  const { maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = given;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 256 || maxBodyBytes > MAX_BODY_LIMIT)
    throw new TypeError(
      `${where}.maxBodyBytes must be a whole number from 256 to ${MAX_BODY_LIMIT}, got ${describe(maxBodyBytes)}`,
    );
  return { apps, providers, secret, origins: checkCors(given.cors, where), maxBodyBytes };
}
