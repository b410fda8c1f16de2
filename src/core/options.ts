/** Checking options at construction time, with errors that name the option and never echo a secret. */
import { readProperty } from './read.js';

/** Describes a value for an error message without echoing it in full (it may be a secret or a token). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return typeof value === 'function' ? 'a function' : `${typeof value} ${String(value)}`;
}

/** Throws a TypeError naming every key of `given` that is not in `allowed`. */
export function rejectUnknownOptions(given: object, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(given).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(
      `${where}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map(describe).join(', ')}; expected one of ${allowed.join(', ')}`,
    );
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

/** Throws unless `value` is undefined or has every one of `methods`, naming the missing ones. */
export function checkMethods(value: unknown, methods: readonly string[], option: string, expected: string): void {
  if (value === undefined) return;
  const missing = methods.filter((method) => typeof readProperty(value, method) !== 'function');
  if (missing.length > 0) {
    throw new TypeError(
      `${option} must be ${expected} with ${methods.map((m) => `${m}()`).join(', ')}, got ${describe(value)}${missing.length < methods.length ? ` without ${missing.map((m) => `${m}()`).join(', ')}` : ''}`,
    );
  }
}
