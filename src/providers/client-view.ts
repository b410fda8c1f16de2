import type { PushTelemetry } from '../core/telemetry.js';
import type {
  GroupOption,
  HeldInvalidTokens,
  InvalidTokenEvent,
  PushSender,
  WrapSenderOptions,
} from '../core/types.js';
import { describe } from '../core/options.js';
import { readProperty } from '../core/read.js';

/** Options every adapter takes. */
export interface AdapterOptions {
  /** The `app` label for this client's sends (a bundle id, a Firebase project…); default the telemetry's `app`. */
  readonly app?: string;
  /**
   * The `group` label of this client's sends: a group declared in `new PushTelemetry({ groups })`, or a function of
   * each call's arguments (the SDK method's own) returning one; anything else counts as `other`.
   */
  readonly group?: GroupOption<PushSender>;
  /** Called once per recipient whose failure is `unregistered` or `invalid_token`, to prune the token store. */
  readonly onInvalidToken?: (event: InvalidTokenEvent) => void | Promise<void>;
  /** Told when the surge guard holds this client's verdicts back; default the telemetry's `onInvalidTokensHeld`. */
  readonly onInvalidTokensHeld?: (held: HeldInvalidTokens) => void | Promise<void>;
}

export const ADAPTER_OPTIONS = ['app', 'group', 'onInvalidToken', 'onInvalidTokensHeld'] as const;

/** Throws a TypeError unless `client` has every method in `methods`; adapters duck-type, never import the SDK. */
export function expectClient(client: unknown, methods: readonly string[], adapter: string, expected: string): void {
  const missing = methods.filter((method) => typeof readProperty(client, method) !== 'function');
  if (missing.length > 0) {
    throw new TypeError(`${adapter}: expected ${expected}, got ${describe(client)} without ${missing.join(', ')}()`);
  }
}

export function checkAdapterOptions(options: unknown, adapter: string): AdapterOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${adapter}: options must be an object, got ${describe(options)}`);
  const unknown = Object.keys(options).filter((key) => !(ADAPTER_OPTIONS as readonly string[]).includes(key));
  // describe(), not the key itself: an options object mistaken for a map keyed by tokens must not echo one.
  if (unknown.length > 0)
    throw new TypeError(
      `${adapter}: unknown option ${describe(unknown[0])}; expected one of ${ADAPTER_OPTIONS.join(', ')}`,
    );
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
 *
 * Members are read and written against the client itself, and a function read through the view runs with `this` =
 * the client when called on the view: SDK classes keep state in `#private` fields, which exist on the client only and
 * throw a TypeError when reached through a Proxy. Whatever would hand out the client hands out the view instead, so
 * `view.on(...).send(...)` and the like stay instrumented.
 */
/** Any function a client member can be, for the stand-ins' Proxy. */
type AnyFunction = (...args: never[]) => unknown;

export function withMethods<T extends object>(client: T, methods: Readonly<Record<string, PushSender>>): T {
  for (const key of Object.keys(methods)) {
    const own = Object.getOwnPropertyDescriptor(client, key);
    // A Proxy may not report another value for a frozen property: say so now rather than fail on first use.
    if (own !== undefined && !own.configurable && own.writable === false) {
      throw new TypeError(
        `cannot instrument ${key}(): it is a frozen (non-writable, non-configurable) property of the client`,
      );
    }
  }
  // One stand-in per function, so `view.close === view.close` and listeners added through the view can be removed.
  const standIns = new WeakMap<object, object>();
  const callOnClient: ProxyHandler<AnyFunction> = {
    apply(fn, thisArg: unknown, args: unknown[]): unknown {
      // Only a call on the view is redirected: a detached call or .call(other) gets the `this` it would on the client.
      const result: unknown = Reflect.apply(fn, thisArg === view ? client : thisArg, args);
      return result === client ? view : result;
    },
  };
  const standInFor = (fn: AnyFunction): object => {
    let standIn = standIns.get(fn);
    if (standIn === undefined) {
      // A class, or a built-in constructor, ignores `this` when called and cannot return the client: handing out the
      // function itself keeps `view.constructor === Client` and static identities. Only these have a read-only prototype.
      standIn = Object.getOwnPropertyDescriptor(fn, 'prototype')?.writable === false ? fn : new Proxy(fn, callOnClient);
      standIns.set(fn, standIn);
    }
    return standIn;
  };
  const view: T = new Proxy(client, {
    get(target, key, receiver) {
      // The instrumented methods are returned as they are: the send path gets no layer of the view's own.
      if (typeof key === 'string' && Object.hasOwn(methods, key)) return methods[key];
      // An object inheriting from the view keeps its own `this`; only the view itself stands for the client.
      const value: unknown = Reflect.get(target, key, receiver === view ? target : receiver);
      if (value !== target && typeof value !== 'function') return value;
      const own = Reflect.getOwnPropertyDescriptor(target, key);
      // A Proxy must report a frozen property's own value.
      if (own !== undefined && !own.configurable && own.writable === false) return value;
      return typeof value === 'function' ? standInFor(value as AnyFunction) : view;
    },
    set(target, key, value, receiver) {
      return Reflect.set(target, key, value, receiver === view ? target : receiver);
    },
  });
  return view;
}
