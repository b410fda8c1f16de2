import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { METRIC_NAMES } from '../../metrics/contract.js';
import type { ResolvedMonitoringConfig } from '../config.js';
import { PROVIDER_ERRORS } from '../promql.js';
import { dashboardShell, runbookLinks } from './common.js';
import { DATASOURCE, heatmap, PanelIds, stat, timeseries } from './panels.js';
import {
  FAILED,
  gauge,
  latencyBuckets,
  messageRatio,
  messages,
  receipts,
  requests,
  sinceLastSuccess,
} from './queries.js';

/**
 * Push notifications / Provider health: one row per provider, repeated by Grafana for each value of `$provider`.
 * The row is left expanded with its panels after it (not inside it), which is how Grafana stores an open row; the
 * SDK's RowBuilder.withPanel would collapse it.
 */
export function providerHealthDashboard(config: ResolvedMonitoringConfig): Dashboard {
  const ids = new PanelIds();
  const series = '{{provider}} {{app}}';
  return (
    dashboardShell(
      config,
      'providerHealth',
      'Provider health',
      'One row per provider: is it answering, are calls hanging or sends stalled, how fast, is it throttling us, and (Expo) do the messages it accepted get delivered.',
    )
      .withRow(new RowBuilder('Provider: $provider').id(ids.next()).repeat('provider').datasource(DATASOURCE))
      .withPanel(
        timeseries(ids, {
          title: 'Provider-owned error ratio',
          unit: 'percentunit',
          w: 7,
          h: 8,
          min: 0,
          description:
            "Share of this provider's messages lost to its own faults: provider_unavailable (5xx), timeout and network. Not ours to fix but ours to page on: this is what the outage and error-rate alerts watch.",
          targets: [
            {
              expr: messageRatio(config, ['provider', 'app'], [FAILED, `error_type=~"${PROVIDER_ERRORS}"`]),
              legend: series,
            },
          ],
          links: runbookLinks(config, 'PushProviderOutage', 'PushProviderErrorRateHigh'),
        }),
      )
      // The hang and the stall fail silently (no error is ever counted), so their two panels sit side by side, up front.
      .withPanel(
        stat(ids, {
          title: 'Time since last accepted message',
          unit: 's',
          w: 5,
          h: 8,
          steps: [
            ['green', null],
            ['orange', 300],
            ['red', 900],
          ],
          description:
            'How long ago this provider last accepted a message, per app. Orange after 5 min, red after 15 min. For a sender that sends all the time, ' +
            'red with errors on the ratio panel is an outage; red with no errors at all is a stall: the send loop stopped, or its calls hang (PushSendingStalled, PushProviderHung). A quiet sender is simply quiet.',
          targets: [{ expr: sinceLastSuccess(config, ['provider', 'app']), legend: series }],
          links: runbookLinks(config, 'PushSendingStalled'),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Calls in flight vs completed',
          unit: 'short',
          w: 6,
          h: 8,
          min: 0,
          rightAxis: { match: '^completed/s ', unit: 'reqps' },
          description:
            'Calls started and not yet settled (left axis) against calls completed per second (right axis), per app. In flight staying up while ' +
            'completions drop to 0 is a hang: calls that never return count no error (PushProviderHung). Both at 0 on a sender that normally sends is a stall.',
          targets: [
            { expr: gauge(config, 'sum by (provider, app) ', METRIC_NAMES.inFlight), legend: `in flight ${series}` },
            { expr: requests(config, ['provider', 'app']), legend: `completed/s ${series}` },
          ],
          links: runbookLinks(config, 'PushProviderHung', 'PushSendingStalled'),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Request outcome',
          unit: 'reqps',
          w: 6,
          h: 8,
          stack: true,
          colors: { success: 'green', partial: 'orange', failure: 'red' },
          description:
            'Provider API calls per second by outcome: success (every message accepted), partial (a batch with some messages refused), failure (the call failed or every message was refused).',
          targets: [{ expr: requests(config, ['outcome']), legend: '{{outcome}}' }],
        }),
      )
      .withPanel(
        heatmap(ids, {
          title: 'Latency heatmap',
          unit: 'reqps',
          yUnit: 's',
          w: 12,
          h: 8,
          description:
            'Provider API calls per second by duration bucket of the histogram: a band creeping upwards is a slowing provider; two bands are two kinds of calls (sends and receipts, small and large batches).',
          targets: [{ expr: latencyBuckets(config), legend: '{{le}}', format: PromQueryFormat.Heatmap }],
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Rate limiting',
          unit: 'mps',
          w: 6,
          h: 8,
          stack: true,
          description:
            'Messages refused with rate_limited (429, quota, too many to one device), per second. Sustained: slow down or ask for more quota; bursts: spread the sends.',
          targets: [
            { expr: messages(config, ['provider', 'app'], FAILED, 'error_type="rate_limited"'), legend: series },
          ],
          links: runbookLinks(config, 'PushRateLimited'),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Receipts',
          unit: 'mps',
          w: 6,
          h: 8,
          stack: true,
          noValue: 'No receipts: only Expo has them',
          description:
            'Second-phase delivery receipts per second, delivered or failed by error_type. Only providers with receipts (Expo) show anything; the others are empty by design.',
          targets: [{ expr: receipts(config, ['outcome', 'error_type']), legend: '{{outcome}} {{error_type}}' }],
        }),
      )
      .build()
  );
}
