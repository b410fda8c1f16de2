/**
 * The part of autocannon's programmatic API the load bench uses (autocannon ships no types, and @types/autocannon
 * would be one more dev dependency for a dozen lines).
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface Options {
    readonly url: string;
    readonly method?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
    readonly connections?: number;
    readonly pipelining?: number;
    /** Seconds. */
    readonly duration?: number;
    /** Requests in all, instead of a duration. */
    readonly amount?: number;
    /** Seconds before a request counts as timed out. */
    readonly timeout?: number;
    /** Requests each connection cycles through; setupRequest may rewrite one before it is sent (bench/receipts.bench.ts). */
    readonly requests?: readonly RequestSpec[];
  }

  export interface RequestSpec {
    readonly method?: string;
    readonly path?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
    readonly setupRequest?: (request: { body?: string }) => object;
  }

  export interface Result {
    readonly errors: number;
    readonly timeouts: number;
    readonly non2xx: number;
    readonly resets: number;
    readonly '2xx': number;
    /** Seconds. */
    readonly duration: number;
  }

  export interface Instance extends EventEmitter {
    /** Per response: status code, bytes, and the time from request to response in ms (a float). */
    on(
      event: 'response',
      listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void,
    ): this;
    on(event: 'done', listener: (result: Result) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    stop(): void;
  }

  function autocannon(options: Options, callback: (error: Error | null, result: Result) => void): Instance;
  export default autocannon;
}
