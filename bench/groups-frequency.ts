/**
 * The cost of the two opt-in strategy features on the send path (issue 17): a per-call `group` hook, and send-frequency
 * tracking (one keyed hash per recipient, and a sample update for the sampled ones), each over metrics-only.
 */
import { PushTelemetry } from '../src/index.js';
import { BATCH_RESULT, BATCH_SIZE, bareSender } from './fixtures.js';
import type { Measurement, Variant } from './harness.js';
import { check, info, overheadNs, table, type TargetLine } from './report.js';

/** Issue 17's budget: frequency tracking on adds at most this per message over metrics-only. */
const FREQUENCY_OVER_METRICS_MAX = 150;

/** Distinct FCM-shaped tokens (163 characters), many more than the sample holds, so it samples as in production. */
const POOL_SIZE = 1 << 16;
const POOL = Array.from(
  { length: POOL_SIZE },
  (_, i) => `c${i.toString(36).padStart(10, '0')}:APA91b${'Qx7-'.repeat(35)}${i.toString(16).padStart(6, '0')}`,
);

export const GF = {
  group: 'wrapped, metrics only + group hook',
  frequency: 'wrapped, metrics only + send frequency (1 token)',
  batchFrequency: 'wrapped batch, metrics only + send frequency',
} as const;

export interface GroupFrequencyBench {
  readonly variants: Variant[];
  verify(byName: Map<string, Measurement>): Promise<string>;
  table(byName: Map<string, Measurement>, bare: Measurement, wrapped: Measurement, batchWrapped: Measurement): string;
  targets(byName: Map<string, Measurement>, wrapped: Measurement, batchWrapped: Measurement): TargetLine[];
}

export function groupFrequencyBench(): GroupFrequencyBench {
  const grouped = new PushTelemetry({ groups: ['transactional', 'marketing', 'reminder'] });
  const frequency = new PushTelemetry({ sendFrequency: { cap: 5 } });
  const batchFrequency = new PushTelemetry({ sendFrequency: { cap: 5 } });
  // The token travels in the call, as with a real SDK: the tokens hook reads it.
  // The same bare senders, taking their recipients as a real SDK does: no extra promise over the baselines.
  const sendTo = frequency.wrapSender(async (_token: string): Promise<string> => 'id', {
    provider: 'fcm',
    // A fresh one-token array per call, as an adapter's tokens hook builds one.
    tokens: ([token]) => [token],
  });
  const sendBatch = batchFrequency.wrapSender(async (_tokens: readonly string[]) => BATCH_RESULT, {
    provider: 'fcm',
    operation: 'send_each_for_multicast',
    countMessages: () => BATCH_SIZE,
    tokens: ([tokens]) => tokens,
    settle: (r) => r,
  });
  const batches = Array.from({ length: POOL_SIZE / BATCH_SIZE }, (_, i) =>
    POOL.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE),
  );
  let next = 0;
  let batch = 0;
  const variants: Variant[] = [
    { name: GF.group, op: grouped.wrapSender(bareSender, { provider: 'fcm', group: () => 'marketing' }) },
    { name: GF.frequency, op: () => sendTo(POOL[next++ & (POOL_SIZE - 1)] as string) },
    { name: GF.batchFrequency, op: () => sendBatch(batches[batch++ % batches.length] as string[]) },
  ];

  return {
    variants,
    async verify(byName) {
      for (const telemetry of [grouped, frequency, batchFrequency]) {
        if (!telemetry.health().ok)
          throw new Error(`sanity check failed: ${JSON.stringify(telemetry.health().problems)}`);
      }
      const text = await grouped.registry.metrics();
      const calls = (byName.get(GF.group) as Measurement).totalCalls;
      if (!text.includes(`push_messages_total{provider="fcm",group="marketing",outcome="accepted"} ${calls}`))
        throw new Error('sanity check failed: the group hook did not count every call under its group');
      const recipients = /push_recipient_daily_sends_count\{provider="fcm"\} (\S+)/.exec(
        await frequency.registry.metrics(),
      );
      // Every pool token was sent to: the estimate must be near the pool, whatever the level.
      const estimate = Number(recipients?.[1]);
      if (!(Math.abs(estimate / POOL_SIZE - 1) < 0.2))
        throw new Error(`sanity check failed: send frequency estimated ${estimate} recipients of ${POOL_SIZE}`);
      return `send frequency: ${estimate} recipients estimated of ${POOL_SIZE} sent to`;
    },
    table(byName, bare, wrapped, batchWrapped) {
      const m = (name: string) => byName.get(name) as Measurement;
      return [
        table('opt-in features (issue 17), single message', [
          { label: 'bare call', m: bare },
          { label: 'wrapped, metrics only', m: wrapped, baseline: bare },
          { label: GF.group, m: m(GF.group), baseline: bare },
          { label: GF.frequency, m: m(GF.frequency), baseline: bare },
        ]),
        '',
        table('opt-in features (issue 17), 500-message batch', [
          { label: 'wrapped batch, metrics only', m: batchWrapped },
          { label: GF.batchFrequency, m: m(GF.batchFrequency), baseline: batchWrapped },
        ]),
      ].join('\n');
    },
    targets(byName, wrapped, batchWrapped) {
      const m = (name: string) => byName.get(name) as Measurement;
      const perMessageInBatch = overheadNs(m(GF.batchFrequency), batchWrapped) / BATCH_RESULT.accepted;
      return [
        info('group hook over metrics-only', `${overheadNs(m(GF.group), wrapped).toFixed(1)} ns per call`),
        // Per message: a batch spreads the per-call part (the tokens hook, its array) over its recipients, as the
        // provider APIs that carry most pushes do; a one-recipient call pays that part alone.
        check(
          'send frequency over metrics-only, per message',
          perMessageInBatch,
          FREQUENCY_OVER_METRICS_MAX,
          'ns',
          1,
          ` (500-message batch, 163-character tokens; a one-recipient call ${overheadNs(m(GF.frequency), wrapped).toFixed(1)} ns)`,
        ),
      ];
    },
  };
}
