/**
 * The bounded failure taxonomy: every failure any provider reports lands on exactly one of these values, so the
 * `error_type` label can never grow a new series at run time.
 */
export const ERROR_TYPES = [
  'provider_unavailable',
  'timeout',
  'network',
  'rate_limited',
  'auth',
  'config',
  'payload_invalid',
  'payload_too_large',
  'unregistered',
  'invalid_token',
  'canceled',
  'unknown',
] as const;

export type ErrorType = (typeof ERROR_TYPES)[number];

/** Who can fix a failure: this is what decides whether an alert pages, tickets or only shows on a dashboard. */
export type ErrorOwner = 'provider' | 'capacity' | 'sender' | 'audience' | 'caller' | 'unknown';

const OWNERS: Readonly<Record<ErrorType, ErrorOwner>> = {
  provider_unavailable: 'provider',
  timeout: 'provider',
  network: 'provider',
  rate_limited: 'capacity',
  auth: 'sender',
  config: 'sender',
  payload_invalid: 'sender',
  payload_too_large: 'sender',
  unregistered: 'audience',
  invalid_token: 'audience',
  canceled: 'caller',
  unknown: 'unknown',
};

const ERROR_TYPE_INDEX: ReadonlyMap<string, number> = new Map(ERROR_TYPES.map((type, index) => [type, index]));

export function isErrorType(value: unknown): value is ErrorType {
  return typeof value === 'string' && ERROR_TYPE_INDEX.has(value);
}

/** Position of an error type in ERROR_TYPES; the hot path counts into arrays laid out in this order. */
export function errorTypeIndex(errorType: ErrorType): number {
  return ERROR_TYPE_INDEX.get(errorType) as number;
}

const TALLY = new Uint32Array(ERROR_TYPES.length);

/**
 * The error type that speaks for a call whose messages were refused: the most frequent, ties going to the one that
 * appears first. Spans (`error.type`), the OTel duration attribute and the failure log all follow this one rule.
 */
export function dominantErrorTypeIndex(failedTypes: readonly ErrorType[]): number {
  // Telemetry runs synchronously, so one scratch array serves every call.
  TALLY.fill(0);
  for (const type of failedTypes) {
    const index = errorTypeIndex(type);
    TALLY[index] = (TALLY[index] as number) + 1;
  }
  let dominant = errorTypeIndex(failedTypes[0] as ErrorType);
  for (const type of failedTypes) {
    const index = errorTypeIndex(type);
    if ((TALLY[index] as number) > (TALLY[dominant] as number)) dominant = index;
  }
  return dominant;
}

/** dominantErrorTypeIndex, as the type itself. */
export function dominantErrorType(failedTypes: readonly ErrorType[]): ErrorType {
  return ERROR_TYPES[dominantErrorTypeIndex(failedTypes)] as ErrorType;
}

/** The owner of an error type; `unknown` for anything that is not one (never throws). */
export function errorOwner(errorType: ErrorType): ErrorOwner {
  return isErrorType(errorType) ? OWNERS[errorType] : 'unknown';
}
