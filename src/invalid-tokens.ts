import type { ProblemLog } from './problems.js';
import type { ErrorType } from './taxonomy.js';
import type { InvalidTokenEvent } from './types.js';
import { isPromiseLike } from './utils.js';

export type InvalidTokenHandler = (event: InvalidTokenEvent) => void | Promise<void>;

/** Who an invalid token belongs to: the sender's provider and app label. */
export interface TokenSource {
  readonly provider: string;
  readonly app: string | undefined;
  readonly problems: ProblemLog;
  readonly onInvalidToken: InvalidTokenHandler | undefined;
}

export function isInvalidTokenType(errorType: ErrorType): errorType is InvalidTokenEvent['errorType'] {
  return errorType === 'unregistered' || errorType === 'invalid_token';
}

/**
 * Tells the app a recipient's token is dead, so it can prune it. Never awaited and never thrown through: a token
 * store that hangs or fails must not hold up or break the send (or the receipts call) that found out.
 */
export function notifyInvalidToken(source: TokenSource, token: unknown, errorType: ErrorType, reason: unknown): void {
  if (source.onInvalidToken === undefined || typeof token !== 'string' || token === '' || !isInvalidTokenType(errorType)) return;
  const event: InvalidTokenEvent = {
    token,
    errorType,
    provider: source.provider,
    ...(source.app !== undefined && { app: source.app }),
    ...(typeof reason === 'string' && { reason }),
  };
  try {
    const pending = source.onInvalidToken(event);
    if (isPromiseLike(pending)) pending.then(undefined, (error: unknown) => source.problems.report('onInvalidToken', error, [token]));
  } catch (error) {
    source.problems.report('onInvalidToken', error, [token]);
  }
}
