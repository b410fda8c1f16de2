import { ERROR_TYPES, type ErrorType, errorTypeIndex } from '../core/taxonomy.js';
import type { Exemplar, Labels, Sample } from './exposition-model.js';
import { bucketIndex, DURATION_BUCKETS, REQUEST_OUTCOMES } from './contract.js';
import { SuccessClock } from './success-clock.js';
import type { RecipientFrequency } from './recipient-frequency.js';

/**
 * The hot-path side of the metrics, and the one place they are kept. A send touches only preallocated typed arrays
 * found at wrap time; label objects, label hashing and prom-client all stay at scrape time. Two readers turn the same
 * slots into metrics: the prom-client binding (prom-client-binding.ts) when a registry is scraped, and the
 * OpenTelemetry binding (otel-binding.ts) when a meter provider collects. Neither keeps counts of its own, so a send
 * is counted once whichever of them are on.
 */

export const OUTCOME_SUCCESS = 0;
export const OUTCOME_PARTIAL = 1;
export const OUTCOME_FAILURE = 2;

/** Duration buckets per histogram row: DURATION_BUCKETS and +Inf. */
export const BUCKET_COUNT = DURATION_BUCKETS.length + 1;

/** The bucket of a duration: the first upper bound it does not exceed (Prometheus `le` and OTel explicit buckets). */
export function durationBucket(seconds: number): number {
  return bucketIndex(DURATION_BUCKETS, seconds);
}

function senderLabels(provider: string, app: string | undefined): Labels {
  const labels: Record<string, string> = { provider };
  if (app !== undefined) labels.app = app;
  return Object.freeze(labels);
}

// noUncheckedIndexedAccess cannot see that every index used here is in range.
function add(slots: Float64Array, index: number, count: number): void {
  slots[index] = (slots[index] as number) + count;
}

/** Slots of the message and receipt counts: [accepted | delivered, failed by ERROR_TYPES order...]. */
export const COUNT_SLOTS = 1 + ERROR_TYPES.length;

/** The OpenTelemetry side of one operation's duration, attached by a meter provider reading the store. */
export interface DurationSink {
  /** A call that returned; `failedTypes` are its refused messages' types (error.type when all of them failed). */
  settled(outcome: number, failedTypes: readonly ErrorType[], seconds: number): void;
  /** A call that threw or rejected, classified as `errorType`. */
  failed(errorType: ErrorType, seconds: number): void;
}

/** A reader that wants every duration as it happens: the one measurement the OTel API cannot observe from the slots. */
export interface DurationReader {
  durationSink(series: OperationSeries): DurationSink;
}

// push_messages_total is per (provider, app) and summed over the operations at scrape time; one scratch row serves
// every scrape, which is synchronous.
const MESSAGE_TOTALS = new Float64Array(COUNT_SLOTS);

/** Per (provider, app): receipt counts, calls in flight, last success, held invalid-token verdicts, send frequency. */
export class SenderSeries {
  readonly key: string;
  readonly provider: string;
  readonly app: string | undefined;
  readonly labels: Labels;
  /** The operations wrapped for this (provider, app), which hold its message counts. */
  readonly operations: OperationSeries[] = [];
  /** [delivered, failed by ERROR_TYPES order...]; allocated on the first receipt so providers without receipts show none. */
  receipts: Float64Array | undefined;
  inFlight = 0;
  /** When the last message was accepted. */
  readonly lastSuccess = new SuccessClock();
  /** Invalid-token verdicts the surge guard held back from onInvalidToken. */
  invalidTokensHeld = 0;
  /** Pushes per recipient over 24 h, when sendFrequency is on. */
  frequency: RecipientFrequency | undefined;
  readonly #outcomeLabels: readonly Labels[];
  readonly #receiptLabels: readonly Labels[];
  /** push_messages_total's label sets per group, once any operation of this sender has one. */
  #groupLabels: Map<string | undefined, readonly Labels[]> | undefined;

  constructor(provider: string, app: string | undefined) {
    this.key = senderKey(provider, app);
    this.provider = provider;
    this.app = app;
    this.labels = senderLabels(provider, app);
    const failed = (outcome: string) =>
      ERROR_TYPES.map((error_type) => Object.freeze({ ...this.labels, outcome, error_type }));
    this.#outcomeLabels = [Object.freeze({ ...this.labels, outcome: 'accepted' }), ...failed('failed')];
    this.#receiptLabels = [Object.freeze({ ...this.labels, outcome: 'delivered' }), ...failed('failed')];
  }

  countReceipts(delivered: number, failed: readonly ErrorType[]): void {
    const receipts = (this.receipts ??= new Float64Array(COUNT_SLOTS));
    add(receipts, 0, delivered);
    for (const errorType of failed) add(receipts, 1 + errorTypeIndex(errorType), 1);
  }

  addOperation(series: OperationSeries): void {
    this.operations.push(series);
    let groups = this.#groupLabels;
    if (groups === undefined) {
      if (series.group === undefined) return;
      // Senders of this (provider, app) wrapped without a group keep their row, without the label.
      groups = this.#groupLabels = new Map();
      if (this.operations.some((operation) => operation.group === undefined))
        groups.set(undefined, this.#outcomeLabels);
    }
    if (groups.has(series.group)) return;
    if (series.group === undefined) {
      groups.set(undefined, this.#outcomeLabels);
      return;
    }
    const base = { ...this.labels, group: series.group };
    const failed = ERROR_TYPES.map((error_type) => Object.freeze({ ...base, outcome: 'failed', error_type }));
    groups.set(series.group, [Object.freeze({ ...base, outcome: 'accepted' }), ...failed]);
  }

  /** push_messages_total: this (provider, app)'s operations summed (per group), every slot even with no operation yet. */
  messageSamples(into: Sample[]): void {
    const groups = this.#groupLabels;
    if (groups === undefined) {
      this.#sumMessages(undefined, false, this.#outcomeLabels, into);
      return;
    }
    for (const [group, labels] of groups) this.#sumMessages(group, true, labels, into);
  }

  #sumMessages(group: string | undefined, grouped: boolean, labels: readonly Labels[], into: Sample[]): void {
    MESSAGE_TOTALS.fill(0);
    for (const operation of this.operations) {
      if (grouped && operation.group !== group) continue;
      operation.messages.forEach((value, i) => add(MESSAGE_TOTALS, i, value));
    }
    MESSAGE_TOTALS.forEach((value, i) => into.push({ labels: labels[i] as Labels, value }));
  }

  receiptSamples(into: Sample[]): void {
    this.receipts?.forEach((value, i) => into.push({ labels: this.#receiptLabels[i] as Labels, value }));
  }
}

/**
 * Per (provider, app, operation, group): message counts, and the request duration histogram, one row of buckets per
 * request outcome. `group` only when the telemetry declares groups; a grouped sender has one per group and `other`.
 */
export class OperationSeries {
  readonly key: string;
  readonly provider: string;
  readonly app: string | undefined;
  readonly operation: string;
  readonly group: string | undefined;
  readonly labels: Labels;
  /** [accepted, failed by ERROR_TYPES order...]: per operation because OTel's sent-messages counter carries it. */
  readonly messages = new Float64Array(COUNT_SLOTS);
  /** One per meter provider reading the store; empty without one, which costs a send one length check. */
  readonly durationSinks: DurationSink[] = [];
  /** Non-cumulative bucket counts, BUCKET_COUNT per outcome; made cumulative at scrape time. */
  readonly #buckets = new Float64Array(REQUEST_OUTCOMES.length * BUCKET_COUNT);
  readonly #sums = new Float64Array(REQUEST_OUTCOMES.length);
  readonly #counts = new Float64Array(REQUEST_OUTCOMES.length);
  #exemplars: (Exemplar | undefined)[] | undefined;
  readonly #bucketLabels: readonly Labels[];
  readonly #outcomeLabels: readonly Labels[];

  constructor(provider: string, app: string | undefined, operation: string, group?: string) {
    this.key = operationKey(provider, app, operation, group);
    this.provider = provider;
    this.app = app;
    this.operation = operation;
    this.group = group;
    const base = senderLabels(provider, app);
    this.labels = Object.freeze(group === undefined ? { ...base, operation } : { ...base, operation, group });
    this.#outcomeLabels = REQUEST_OUTCOMES.map((outcome) => Object.freeze({ ...this.labels, outcome }));
    this.#bucketLabels = this.#outcomeLabels.flatMap((labels) =>
      [...DURATION_BUCKETS, '+Inf' as const].map((le) => Object.freeze({ ...labels, le })),
    );
  }

  countAccepted(count: number): void {
    add(this.messages, 0, count);
  }

  countFailed(errorType: ErrorType, count: number): void {
    add(this.messages, 1 + errorTypeIndex(errorType), count);
  }

  observe(outcome: number, seconds: number, exemplar?: Exemplar): void {
    const slot = outcome * BUCKET_COUNT + durationBucket(seconds);
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
        into.push(
          exemplar
            ? { metricName: bucketName, labels, value: cumulative, exemplar }
            : { metricName: bucketName, labels, value: cumulative },
        );
      }
      const labels = this.#outcomeLabels[outcome] as Labels;
      into.push({ metricName: `${name}_sum`, labels, value: this.#sums[outcome] as number });
      into.push({ metricName: `${name}_count`, labels, value: this.#counts[outcome] as number });
    }
  }
}

function senderKey(provider: string, app: string | undefined): string {
  return `${provider}\u0000${app ?? ''}`;
}

function operationKey(provider: string, app: string | undefined, operation: string, group?: string): string {
  const key = `${provider}\u0000${app ?? ''}\u0000${operation}`;
  return group === undefined ? key : `${key}\u0000${group}`;
}

/**
 * All series of one prom-client registry, shared by every PushTelemetry instance bound to it (or, with
 * `registry: false`, of one meter provider). Readers attach to it; the store never knows what they render.
 */
export class SeriesStore {
  /** When counting began, in ms since the epoch: the start of every cumulative count. */
  readonly startedAt = Date.now();
  readonly senders = new Map<string, SenderSeries>();
  readonly operations = new Map<string, OperationSeries>();
  readonly #durationReaders: DurationReader[] = [];

  sender(provider: string, app: string | undefined): SenderSeries {
    const key = senderKey(provider, app);
    let series = this.senders.get(key);
    if (series === undefined) this.senders.set(key, (series = new SenderSeries(provider, app)));
    return series;
  }

  operation(provider: string, app: string | undefined, operation: string, group?: string): OperationSeries {
    const key = operationKey(provider, app, operation, group);
    let series = this.operations.get(key);
    if (series === undefined) {
      this.operations.set(key, (series = new OperationSeries(provider, app, operation, group)));
      this.sender(provider, app).addOperation(series);
      for (const reader of this.#durationReaders) series.durationSinks.push(reader.durationSink(series));
    }
    return series;
  }

  /** Hands `reader` every operation's durations from now on, those wrapped before it included; once per reader. */
  addDurationReader(reader: DurationReader): void {
    if (this.#durationReaders.includes(reader)) return;
    this.#durationReaders.push(reader);
    for (const series of this.operations.values()) series.durationSinks.push(reader.durationSink(series));
  }
}
