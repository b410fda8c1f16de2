/**
 * Reading values push-telemetry did not make: user hooks' results, SDK results and errors. Everything goes through
 * `readProperty`, because thrown values can be Proxies or objects with throwing getters.
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
