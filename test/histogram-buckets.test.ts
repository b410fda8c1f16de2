import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sample } from '../src/metrics/exposition-model.js';
import { DURATION_BUCKETS } from '../src/metrics/contract.js';
import { OUTCOME_FAILURE, OUTCOME_SUCCESS, OperationSeries, SeriesStore } from '../src/metrics/counter-store.js';

/**
 * push_request_duration_seconds buckets are Prometheus `le` buckets: an observation lands in the first bucket whose
 * bound is greater than or EQUAL to it. The wrapper measures real time, so the boundaries are tested here with
 * exact values: each bound itself, and the next float above it.
 */

const NAME = 'push_request_duration_seconds';

/** The next float64 above a positive finite number. */
function nextUp(value: number): number {
  const floats = new Float64Array([value]);
  const bits = new BigInt64Array(floats.buffer);
  bits[0] = (bits[0] as bigint) + 1n;
  return floats[0] as number;
}

/** Per-bucket (not cumulative) counts of one outcome, keyed by `le`, from the samples a scrape would render. */
function bucketCounts(series: OperationSeries, outcome: string): Map<string, number> {
  const samples: Sample[] = [];
  series.samples(NAME, samples);
  const counts = new Map<string, number>();
  let previous = 0;
  for (const sample of samples) {
    if (sample.metricName !== `${NAME}_bucket` || sample.labels.outcome !== outcome) continue;
    counts.set(String(sample.labels.le), sample.value - previous);
    previous = sample.value;
  }
  return counts;
}

function landsIn(seconds: number): string {
  const series = new SeriesStore().operation('fcm', undefined, 'send');
  series.observe(OUTCOME_SUCCESS, seconds);
  const hits = [...bucketCounts(series, 'success')].filter(([, count]) => count !== 0);
  assert.equal(hits.length, 1, `${seconds} counted once: ${JSON.stringify(hits)}`);
  return (hits[0] as [string, number])[0];
}

describe('push_request_duration_seconds bucket boundaries', () => {
  it("counts an observation equal to a bound in that bound's bucket (le is less-or-equal)", () => {
    assert.equal(landsIn(0.005), '0.005');
    assert.equal(landsIn(0.1), '0.1');
    assert.equal(landsIn(1), '1');
    assert.equal(landsIn(10), '10');
  });

  it('counts the next float above a bound in the next bucket, and above 10 s in +Inf', () => {
    assert.equal(landsIn(nextUp(0.005)), '0.01');
    assert.equal(landsIn(nextUp(0.1)), '0.25');
    assert.equal(landsIn(nextUp(1)), '2.5');
    assert.equal(landsIn(nextUp(10)), '+Inf');
    assert.equal(landsIn(3600), '+Inf');
  });

  it('holds at every bound, and zero lands in the first bucket', () => {
    const bounds = [...DURATION_BUCKETS.map(String), '+Inf'];
    assert.equal(landsIn(0), '0.005');
    DURATION_BUCKETS.forEach((bound, i) => {
      assert.equal(landsIn(bound), String(bound), `exactly ${bound}`);
      assert.equal(landsIn(nextUp(bound)), bounds[i + 1], `just above ${bound}`);
    });
  });

  it('keeps the outcomes apart, and the sum and count exact', () => {
    const series = new OperationSeries('fcm', undefined, 'send');
    for (const seconds of [0.005, 0.005, 0.1]) series.observe(OUTCOME_SUCCESS, seconds);
    series.observe(OUTCOME_FAILURE, 10);
    assert.deepEqual(
      [...bucketCounts(series, 'success')].filter(([, n]) => n > 0),
      [
        ['0.005', 2],
        ['0.1', 1],
      ],
    );
    assert.deepEqual(
      [...bucketCounts(series, 'failure')].filter(([, n]) => n > 0),
      [['10', 1]],
    );
    const samples: Sample[] = [];
    series.samples(NAME, samples);
    const value = (suffix: string, outcome: string) =>
      samples.find((s) => s.metricName === `${NAME}${suffix}` && s.labels.outcome === outcome)?.value;
    assert.equal(value('_count', 'success'), 3);
    assert.equal(value('_sum', 'success'), 0.005 + 0.005 + 0.1);
    assert.equal(value('_count', 'failure'), 1);
    assert.equal(value('_sum', 'failure'), 10);
  });
});
