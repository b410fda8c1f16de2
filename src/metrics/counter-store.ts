import { ERROR_TYPES, type ErrorType, errorTypeIndex } from '../core/taxonomy.js';
import type { Exemplar, Labels, Sample } from './exposition-model.js';
import { DURATION_BUCKETS, REQUEST_OUTCOMES } from './contract.js';
import { SuccessClock } from './success-clock.js';

/**
 * The hot-path side of the metrics. A send touches only preallocated typed arrays found at wrap time; label objects,
 * label hashing and prom-client all stay at scrape time (see prom-client-binding.ts), which is what keeps a wrapped send far
 * cheaper than calling prom-client directly.
 */

export const OUTCOME_SUCCESS = 0;
export const OUTCOME_PARTIAL = 1;
export const OUTCOME_FAILURE = 2;

const BUCKET_COUNT = DURATION_BUCKETS.length + 1; // + the +Inf bucket

function senderLabels(provider: string, app: string | undefined): Labels {
  const labels: Record<string, string> = { provider };
  if (app !== undefined) labels.app = app;
  return Object.freeze(labels);
}

// noUncheckedIndexedAccess cannot see that every index used here is in range.
function add(slots: Float64Array, index: number, count: number): void {
  slots[index] = (slots[index] as number) + count;
}

/** Per (provider, app): message and receipt counts, calls in flight, last success, held invalid-token verdicts. */
export class SenderSeries {
  readonly labels: Labels;
  /** [accepted, failed by ERROR_TYPES order...] */
  readonly messages = new Float64Array(1 + ERROR_TYPES.length);
  /** [delivered, failed by ERROR_TYPES order...]; allocated on the first receipt so providers without receipts show none. */
  receipts: Float64Array | undefined;
  inFlight = 0;
  /** When the last message was accepted. */
  readonly lastSuccess = new SuccessClock();
  /** Invalid-token verdicts the surge guard held back from onInvalidToken. */
  invalidTokensHeld = 0;
  readonly #outcomeLabels: readonly Labels[];
  readonly #receiptLabels: readonly Labels[];

  constructor(provider: string, app: string | undefined) {
    this.labels = senderLabels(provider, app);
    const failed = (outcome: string) => ERROR_TYPES.map((error_type) => Object.freeze({ ...this.labels, outcome, error_type }));
    this.#outcomeLabels = [Object.freeze({ ...this.labels, outcome: 'accepted' }), ...failed('failed')];
    this.#receiptLabels = [Object.freeze({ ...this.labels, outcome: 'delivered' }), ...failed('failed')];
  }

  countAccepted(count: number): void {
    add(this.messages, 0, count);
  }

  countFailed(errorType: ErrorType, count: number): void {
    add(this.messages, 1 + errorTypeIndex(errorType), count);
  }

  countReceipts(delivered: number, failed: readonly ErrorType[]): void {
    const receipts = (this.receipts ??= new Float64Array(1 + ERROR_TYPES.length));
    add(receipts, 0, delivered);
    for (const errorType of failed) add(receipts, 1 + errorTypeIndex(errorType), 1);
  }

  messageSamples(into: Sample[]): void {
    this.messages.forEach((value, i) => into.push({ labels: this.#outcomeLabels[i] as Labels, value }));
  }

  receiptSamples(into: Sample[]): void {
    this.receipts?.forEach((value, i) => into.push({ labels: this.#receiptLabels[i] as Labels, value }));
  }
}

/** Per (provider, app, operation): the request duration histogram, one row of buckets per request outcome. */
export class OperationSeries {
  readonly labels: Labels;
  /** Non-cumulative bucket counts, BUCKET_COUNT per outcome; made cumulative at scrape time. */
  readonly #buckets = new Float64Array(REQUEST_OUTCOMES.length * BUCKET_COUNT);
  readonly #sums = new Float64Array(REQUEST_OUTCOMES.length);
  readonly #counts = new Float64Array(REQUEST_OUTCOMES.length);
  #exemplars: (Exemplar | undefined)[] | undefined;
  readonly #bucketLabels: readonly Labels[];
  readonly #outcomeLabels: readonly Labels[];

  constructor(provider: string, app: string | undefined, operation: string) {
    const base = senderLabels(provider, app);
    this.labels = Object.freeze({ ...base, operation });
    this.#outcomeLabels = REQUEST_OUTCOMES.map((outcome) => Object.freeze({ ...this.labels, outcome }));
    this.#bucketLabels = this.#outcomeLabels.flatMap((labels) =>
      [...DURATION_BUCKETS, '+Inf' as const].map((le) => Object.freeze({ ...labels, le })),
    );
  }

  observe(outcome: number, seconds: number, exemplar?: Exemplar): void {
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] as number)) bucket++;
    const slot = outcome * BUCKET_COUNT + bucket;
    add(this.#buckets, slot, 1);
    add(this.#sums, outcome, seconds);
    add(this.#counts, outcome, 1);
    if (exemplar !== undefined) (this.#exemplars ??= new Array(this.#buckets.length))[slot] = exemplar;
  }

  samples(name: string, into: Sample[]): void {
    const bucketName = `${name}_bucket`;
    for (let outcome = 0; outcome < REQUEST_OUTCOMES.length; outcome++) {
      let cumulative = 0;
      for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
        const slot = outcome * BUCKET_COUNT + bucket;
        cumulative += this.#buckets[slot] as number;
        const exemplar = this.#exemplars?.[slot];
        const labels = this.#bucketLabels[slot] as Labels;
        into.push(exemplar ? { metricName: bucketName, labels, value: cumulative, exemplar } : { metricName: bucketName, labels, value: cumulative });
      }
      const labels = this.#outcomeLabels[outcome] as Labels;
      into.push({ metricName: `${name}_sum`, labels, value: this.#sums[outcome] as number });
      into.push({ metricName: `${name}_count`, labels, value: this.#counts[outcome] as number });
    }
  }
}

/** All series of one prom-client registry, shared by every PushTelemetry instance bound to it. */
export class SeriesStore {
  readonly senders = new Map<string, SenderSeries>();
  readonly operations = new Map<string, OperationSeries>();

  sender(provider: string, app: string | undefined): SenderSeries {
    const key = `${provider}\u0000${app ?? ''}`;
    let series = this.senders.get(key);
    if (series === undefined) this.senders.set(key, (series = new SenderSeries(provider, app)));
    return series;
  }

  operation(provider: string, app: string | undefined, operation: string): OperationSeries {
    const key = `${provider}\u0000${app ?? ''}\u0000${operation}`;
    let series = this.operations.get(key);
    if (series === undefined) this.operations.set(key, (series = new OperationSeries(provider, app, operation)));
    return series;
  }
}
