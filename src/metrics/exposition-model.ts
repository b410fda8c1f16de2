/** Shapes that cross module boundaries inside the package but are never exported to users. */

/** Label sets as prom-client renders them. */
export type Labels = Readonly<Record<string, string | number>>;

export interface Exemplar {
  readonly labelSet: Readonly<Record<string, string>>;
  readonly value: number;
  /** Unix time in seconds, as OpenMetrics wants it. */
  readonly timestamp: number;
}

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
  /** Set when the sample's name differs from the family's (histogram `_bucket`, `_sum`, `_count`). */
  readonly metricName?: string;
  readonly exemplar?: Exemplar;
}

/** One metric family as prom-client's `get()` returns it at run time (its .d.ts types `type` as an enum). */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
  readonly aggregator: 'sum' | 'max' | 'min' | 'first' | 'average' | 'omit';
  readonly values: readonly Sample[];
}
