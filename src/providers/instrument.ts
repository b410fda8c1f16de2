import type { PushTelemetry } from '../telemetry.js';
import type { InvalidTokenEvent, PushSender, WrapSenderOptions } from '../types.js';
import { describe, readProperty } from '../utils.js';

/** Options every adapter takes. */
export interface AdapterOptions {
  /** The `app` label for this client's sends (a bundle id, a Firebase project…); default the telemetry's `app`. */
  readonly app?: string;
  /** Called once per recipient whose failure is `unregistered` or `invalid_token`, to prune the token store. */
  readonly onInvalidToken?: (event: InvalidTokenEvent) => void | Promise<void>;
}

export const ADAPTER_OPTIONS = ['app', 'onInvalidToken'] as const;

/** Throws a TypeError unless `client` has every method in `methods`; adapters duck-type, never import the SDK. */
export function expectClient(client: unknown, methods: readonly string[], adapter: string, expected: string): void {
  const missing = methods.filter((method) => typeof readProperty(client, method) !== 'function');
  if (missing.length > 0) {
    throw new TypeError(`${adapter}: expected ${expected}, got ${describe(client)} without ${missing.join(', ')}()`);
  }
}

export function checkAdapterOptions(options: unknown, adapter: string): AdapterOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw new TypeError(`${adapter}: options must be an object, got ${describe(options)}`);
  const unknown = Object.keys(options).filter((key) => !(ADAPTER_OPTIONS as readonly string[]).includes(key));
  // describe(), not the key itself: an options object mistaken for a map keyed by tokens must not echo one.
  if (unknown.length > 0) throw new TypeError(`${adapter}: unknown option ${describe(unknown[0])}; expected one of ${ADAPTER_OPTIONS.join(', ')}`);
  return options as AdapterOptions;
}

/** Wraps `client[method]` with `this` fixed to the client, so SDK internals calling each other stay uninstrumented. */
export function wrapMethod<F extends PushSender>(
  telemetry: PushTelemetry,
  client: object,
  method: string,
  options: WrapSenderOptions<F>,
): F {
  const original = readProperty(client, method) as F;
  const bound = function (this: unknown, ...args: unknown[]) {
    return Reflect.apply(original, client, args);
  };
  Object.defineProperty(bound, 'name', { value: original.name || method });
  Object.defineProperty(bound, 'length', { value: original.length });
  return telemetry.wrapSender(bound as unknown as F, options);
}

/**
 * A view of `client` in which the instrumented methods replace the originals and every other member is the client's
 * own, read through. The client itself is not modified, so code holding it keeps sending uninstrumented.
 */
export function withMethods<T extends object>(client: T, methods: Readonly<Record<string, PushSender>>): T {
  for (const key of Object.keys(methods)) {
    const own = Object.getOwnPropertyDescriptor(client, key);
    // A Proxy may not report another value for a frozen property: say so now rather than fail on first use.
    if (own !== undefined && !own.configurable && own.writable === false) {
      throw new TypeError(`cannot instrument ${key}(): it is a frozen (non-writable, non-configurable) property of the client`);
    }
  }
  return new Proxy(client, {
    get(target, key, receiver) {
      return typeof key === 'string' && Object.hasOwn(methods, key) ? methods[key] : Reflect.get(target, key, receiver);
    },
  });
}
