import type { ErrorType } from '../core/taxonomy.js';

/**
 * What a fake provider answers. An error_type asks for the provider's own typical response for that class (FCM's
 * UNREGISTERED, APNs' 410 Unregistered…); `hang` takes the request and never answers, not even headers, holding
 * the connection open until the client gives up (its timeout), `dropHanging()` or the fake closes; `reset` drops the
 * connection; `{ status, reason }` sends exactly that provider status and reason code.
 */
export type Fault =
  | Exclude<ErrorType, 'canceled' | 'unknown' | 'timeout' | 'network'>
  | 'hang'
  | 'reset'
  | { readonly status: number; readonly reason: string };

export interface FaultRule {
  readonly fault: Fault;
  /** Tokens this rule applies to: exact, or a prefix ending in `*` (`bad-*`). Default every token. */
  readonly match?: string;
  /** Share of matching requests that get the fault, 0 to 1. Default 1. Spread evenly, not randomly: 0.3 is 3 in 10. */
  readonly rate?: number;
}

export interface FaultSettings {
  readonly rules?: readonly FaultRule[];
  /** Added to every answer, in milliseconds. */
  readonly latencyMs?: number;
}

const GENERIC_FAULTS = new Set([
  'provider_unavailable',
  'rate_limited',
  'auth',
  'config',
  'payload_invalid',
  'payload_too_large',
  'unregistered',
  'invalid_token',
  'hang',
  'reset',
]);

function checkRule(rule: FaultRule, index: number): void {
  const where = `faults.rules[${index}]`;
  const { fault, match, rate = 1 } = rule;
  const known =
    typeof fault === 'string'
      ? GENERIC_FAULTS.has(fault)
      : fault !== null &&
        typeof fault === 'object' &&
        Number.isInteger(fault.status) &&
        typeof fault.reason === 'string';
  if (!known)
    throw new TypeError(
      `${where}.fault must be one of ${[...GENERIC_FAULTS].join(', ')} or { status, reason }, got ${JSON.stringify(fault)}`,
    );
  if (match !== undefined && (typeof match !== 'string' || match === ''))
    throw new TypeError(`${where}.match must be a token or a prefix ending in *`);
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))
    throw new TypeError(`${where}.rate must be a number from 0 to 1, got ${String(rate)}`);
}

/** What tells a held request is over: a response or an HTTP/2 stream, which emit `close` when the client goes away. */
export interface HeldRequest {
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The scripted faults of one fake provider; replaceable while it runs, which is how a game day changes phase. It also
 * keeps the requests its `hang` faults hold, so whoever scripts a hang can see them pile up and end them.
 */
export class FaultPlan {
  #rules: readonly FaultRule[] = [];
  #credit: number[] = [];
  #latencyMs = 0;
  readonly #held = new Set<() => void>();

  constructor(settings: FaultSettings = {}) {
    this.set(settings);
  }

  set(settings: FaultSettings): void {
    const rules = settings.rules ?? [];
    rules.forEach(checkRule);
    const latencyMs = settings.latencyMs ?? 0;
    if (!(latencyMs >= 0 && latencyMs <= 600_000))
      throw new TypeError(`faults.latencyMs must be from 0 to 600000, got ${String(latencyMs)}`);
    this.#rules = rules;
    this.#credit = rules.map(() => 0);
    this.#latencyMs = latencyMs;
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  /** The fault for a request to `token`, or undefined for a normal answer. The first rule that fires wins. */
  pick(token: string): Fault | undefined {
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i] as FaultRule;
      if (!matches(rule.match, token)) continue;
      // Credit accumulates by `rate` per matching request and fires at 1, so the share is exact over any 1/rate run.
      const credit = (this.#credit[i] as number) + (rule.rate ?? 1);
      if (credit >= 1 - 1e-9) {
        this.#credit[i] = credit - 1;
        return rule.fault;
      }
      this.#credit[i] = credit;
    }
    return undefined;
  }

  /**
   * For the fakes: keeps a request a `hang` fault left unanswered until it closes (the client gave up, or the fake
   * closed), with the way to reset it should dropHanging() come first.
   */
  hold(request: HeldRequest, drop: () => void): void {
    this.#held.add(drop);
    request.once('close', () => this.#held.delete(drop));
  }

  /** Requests held unanswered by `hang` right now: each a call the client still has in flight, unless it set a timeout. */
  get hanging(): number {
    return this.#held.size;
  }

  /**
   * Resets every request held by `hang` (its connection, or its HTTP/2 stream, as `reset` does), the way a provider's
   * load balancer finally drops such requests; clients see a network error, and an SDK that retries those retries.
   * A hang rule still in place keeps holding new requests. Returns how many were dropped.
   */
  dropHanging(): number {
    const drops = [...this.#held];
    this.#held.clear();
    for (const drop of drops) drop();
    return drops.length;
  }
}

function matches(pattern: string | undefined, token: string): boolean {
  if (pattern === undefined || pattern === '*') return true;
  return pattern.endsWith('*') ? token.startsWith(pattern.slice(0, -1)) : token === pattern;
}

/** Waits for the plan's latency. A `hang` is never answered: the fake gives the request to hold() instead. */
export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
