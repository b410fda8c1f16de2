/**
 * Pure helpers shared by the core and the adapters. Everything that reads a user- or provider-supplied value goes
 * through `readProperty`, because thrown values can be Proxies or objects with throwing getters.
 */

/** Reads `value[key]`, or undefined when value is not an object or reading throws. */
export function readProperty(value: unknown, key: PropertyKey): unknown {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

export function readString(value: unknown, key: PropertyKey): string | undefined {
  const found = readProperty(value, key);
  return typeof found === 'string' ? found : undefined;
}

/** An HTTP status code written as a number or a three-digit string, else undefined. */
export function toHttpStatus(value: unknown): number | undefined {
  const status = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599 ? status : undefined;
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    // instanceof runs a Proxy's getPrototypeOf trap, which may throw (a revoked Proxy always does).
    if (value instanceof Promise) return true;
  } catch {
    return false;
  }
  return typeof readProperty(value, 'then') === 'function';
}

/** Label values for provider and operation: Prometheus-friendly and bounded, rejected at wrap time otherwise. */
export const PROVIDER_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const OPERATION_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** Bundle ids (com.example.app), Firebase project ids (my-project-123) and similar. */
export const APP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Describes a value for an error message without echoing it in full (it may be a secret or a token). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return typeof value === 'function' ? 'a function' : `${typeof value} ${String(value)}`;
}

/** Throws a TypeError naming every key of `given` that is not in `allowed`. */
export function rejectUnknownOptions(given: object, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(given).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(`${where}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map(describe).join(', ')}; expected one of ${allowed.join(', ')}`);
  }
}

export function checkLabelValue(value: unknown, pattern: RegExp, option: string, expected: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new TypeError(`${option} must be ${expected} (${pattern.source}), got ${describe(value)}`);
  }
  return value;
}

export function checkFunction(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${option} must be a function, got ${describe(value)}`);
  }
}
