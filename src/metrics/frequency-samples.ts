import { performance } from 'node:perf_hooks';
import { RECIPIENT_SENDS_BUCKETS } from './contract.js';
import type { SenderSeries } from './counter-store.js';
import type { Labels, Sample } from './exposition-model.js';
import { emptySnapshot } from './recipient-frequency.js';

/** The send-frequency metrics of a (provider, app), read from its sample at scrape time. */

const SNAPSHOT = emptySnapshot();
const bucketLabels = new WeakMap<SenderSeries, readonly Labels[]>();

function labelsOf(sender: SenderSeries): readonly Labels[] {
  let labels = bucketLabels.get(sender);
  if (labels === undefined) {
    labels = [...RECIPIENT_SENDS_BUCKETS, '+Inf' as const].map((le) => Object.freeze({ ...sender.labels, le }));
    bucketLabels.set(sender, labels);
  }
  return labels;
}

/** push_recipient_daily_sends: recipients by pushes in the last 24 h, cumulative buckets; none without the option. */
export function frequencySamples(sender: SenderSeries, name: string, into: Sample[]): void {
  const frequency = sender.frequency;
  if (frequency === undefined) return;
  const snapshot = frequency.snapshot(performance.now(), SNAPSHOT);
  const labels = labelsOf(sender);
  let cumulative = 0;
  snapshot.buckets.forEach((count, i) => {
    cumulative += count;
    into.push({ metricName: `${name}_bucket`, labels: labels[i] as Labels, value: cumulative });
  });
  into.push({ metricName: `${name}_sum`, labels: sender.labels, value: snapshot.sum });
  into.push({ metricName: `${name}_count`, labels: sender.labels, value: snapshot.count });
}

/** push_recipients_over_send_cap_ratio: absent while no recipient received anything in the window. */
export function overCapSamples(sender: SenderSeries, into: Sample[]): void {
  const frequency = sender.frequency;
  if (frequency === undefined) return;
  const snapshot = frequency.snapshot(performance.now(), SNAPSHOT);
  if (snapshot.count > 0) into.push({ labels: sender.labels, value: snapshot.overCap / snapshot.count });
}
