import { describe } from '../core/options.js';
import { DeliveryReportError } from './delivery-report.js';

/**
 * What Google credentials users already hold answer `getAccessToken()` with: firebase-admin's `credential`
 * (`{ access_token, expires_in }`), a google-auth-library client (`{ token }`) or GoogleAuth (the token string).
 */
export type GoogleAccessTokenAnswer =
  | string
  | null
  | undefined
  | { readonly access_token: string; readonly expires_in?: number }
  | { readonly token?: string | null };

/** A firebase-admin `Credential` (`app.options.credential`, `cert(...)`, `applicationDefault()`) or a google-auth-library client. */
export interface GoogleCredentialLike {
  getAccessToken(): Promise<GoogleAccessTokenAnswer> | GoogleAccessTokenAnswer;
}

/** Renew a cached token this long before it expires, so a request never leaves with one about to lapse. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

function tokenOf(answer: unknown): { token: string; expiresInSeconds?: number } | undefined {
  if (typeof answer === 'string') return answer === '' ? undefined : { token: answer };
  if (answer === null || typeof answer !== 'object') return undefined;
  const { access_token: accessToken, expires_in: expiresIn, token } = answer as Record<string, unknown>;
  if (typeof accessToken === 'string' && accessToken !== '')
    return typeof expiresIn === 'number' && expiresIn > 0
      ? { token: accessToken, expiresInSeconds: expiresIn }
      : { token: accessToken };
  if (typeof token === 'string' && token !== '') return { token };
  return undefined;
}

/**
 * A bearer-token getter from `credential` or `getAccessToken` (exactly one), checked now. Tokens that say when they
 * expire (firebase-admin's) are kept until 5 minutes before; google-auth-library clients cache their own.
 */
export interface AccessTokens {
  token(): Promise<string>;
  /** Drops the cached token: after a 401, the next request asks the credential again. */
  forget(): void;
}

export function accessTokens(credential: unknown, getAccessToken: unknown, where: string): AccessTokens {
  if ((credential === undefined) === (getAccessToken === undefined))
    throw new TypeError(
      `${where}: give exactly one of credential (a firebase-admin credential or google-auth-library client) and getAccessToken`,
    );
  let source: () => unknown;
  if (getAccessToken !== undefined) {
    if (typeof getAccessToken !== 'function')
      throw new TypeError(`${where}.getAccessToken must be a function, got ${describe(getAccessToken)}`);
    source = getAccessToken as () => unknown;
  } else {
    const method = (credential as { getAccessToken?: unknown } | null)?.getAccessToken;
    if (typeof method !== 'function')
      throw new TypeError(
        `${where}.credential must have a getAccessToken() method (firebase-admin credential, google-auth-library client), got ${describe(credential)}`,
      );
    source = () => method.call(credential);
  }
  let cached: { token: string; until: number } | undefined;
  const token = async () => {
    if (cached !== undefined && Date.now() < cached.until) return cached.token;
    let answer: unknown;
    try {
      answer = await source();
    } catch (error) {
      // The credential's own message may quote a key file path or a server answer: only its class is kept.
      const name = (error as { name?: unknown } | null)?.name;
      throw new DeliveryReportError(
        'credential',
        `${where}: getting a Google access token failed (${typeof name === 'string' ? name : 'error'})`,
      );
    }
    const found = tokenOf(answer);
    if (found === undefined)
      throw new DeliveryReportError('credential', `${where}: the credential answered no access token`);
    cached =
      found.expiresInSeconds === undefined
        ? undefined
        : { token: found.token, until: Date.now() + found.expiresInSeconds * 1000 - EXPIRY_MARGIN_MS };
    return found.token;
  };
  return {
    token,
    forget: () => {
      cached = undefined;
    },
  };
}
