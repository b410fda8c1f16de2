import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { METRIC_NAMES } from '../../metrics/contract.js';
import type { ResolvedMonitoringConfig } from '../config.js';
import { AUDIENCE_ERRORS, errorTypesOf, OVER_SEND_CAP_SHARE } from '../promql.js';
import { dashboardShell, percent, runbookLinks } from './common.js';
import { PanelIds, stat, table, timeseries } from './panels.js';
import { alerts, FAILED, gauge, heldVerdicts, latency, messageRatio, messages, sli } from './queries.js';

/** Who can fix a failure, as on the taxonomy's owner column; caller and unknown share a series (rarely either). */
const OWNERS = [
  { legend: 'provider', types: errorTypesOf('provider'), color: 'red' },
  { legend: 'sender', types: errorTypesOf('sender'), color: 'orange' },
  { legend: 'audience', types: errorTypesOf('audience'), color: 'blue' },
  { legend: 'capacity', types: errorTypesOf('capacity'), color: 'purple' },
  { legend: 'caller / unknown', types: errorTypesOf('caller', 'unknown'), color: 'text' },
] as const;

/** Push notifications / Overview: are pushes getting out, and if not, why. */
export function overviewDashboard(config: ResolvedMonitoringConfig): Dashboard {
  const ids = new PanelIds();
  const target = percent(config.sloTarget);
  return (
    dashboardShell(
      config,
      'overview',
      'Overview',
      'Are pushes getting out, and if not, why: throughput, acceptance against the SLO, and the causes of failures by error_type and owner.',
    )
      .withPanel(
        stat(ids, {
          title: 'Messages/s',
          unit: 'mps',
          w: 4,
          h: 4,
          steps: [['blue', null]],
          description:
            'Recipient messages handed to the providers per second, accepted or not. A drop to zero with no alert means the senders stopped sending, not that pushes fail.',
          targets: [{ expr: messages(config, []), legend: 'messages/s' }],
        }),
      )
      .withPanel(
        stat(ids, {
          title: `Acceptance vs SLO ${target}`,
          unit: 'percentunit',
          w: 4,
          h: 4,
          background: true,
          steps: [
            ['red', null],
            ['green', config.sloTarget],
          ],
          description: `Share of SLO-counted messages the providers accepted (unregistered, invalid_token and canceled do not count). Green at or above the ${target} target, red below it.`,
          targets: [{ expr: sli(config, []), legend: 'accepted' }],
        }),
      )
      .withPanel(
        stat(ids, {
          title: 'Failed/s',
          unit: 'mps',
          w: 4,
          h: 4,
          steps: [['text', null]],
          description:
            'Messages the providers refused or never answered, per second, of every error_type. Stale tokens alone can keep this above zero: see the panels below for why.',
          targets: [{ expr: messages(config, [], FAILED), legend: 'failed/s' }],
        }),
      )
      .withPanel(
        stat(ids, {
          title: 'p95 provider latency',
          unit: 's',
          w: 4,
          h: 4,
          steps: [
            ['green', null],
            ['orange', 1],
            ['red', 5],
          ],
          description:
            '95th percentile duration of provider API calls (a batch is one call), all providers together. Orange above 1 s, red above 5 s.',
          targets: [{ expr: latency(config, 0.95, []), legend: 'p95' }],
        }),
      )
      .withPanel(
        stat(ids, {
          title: 'Calls in flight',
          unit: 'short',
          w: 4,
          h: 4,
          steps: [['text', null]],
          description:
            'Provider calls started and not yet settled, right now. A number that keeps growing means calls hang: look at timeouts and latency.',
          targets: [{ expr: gauge(config, 'sum', METRIC_NAMES.inFlight), legend: 'in flight' }],
        }),
      )
      .withPanel(
        stat(ids, {
          title: 'Push alerts firing',
          unit: 'short',
          w: 4,
          h: 4,
          background: true,
          steps: [
            ['green', null],
            ['red', 1],
          ],
          description:
            'Push* alerts firing now for the selected job, provider and app (alerts without those labels always count). Details on the SLO & alerts dashboard.',
          targets: [{ expr: `count(${alerts('alertstate="firing"')}) or vector(0)`, legend: 'firing' }],
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Messages by outcome',
          unit: 'mps',
          w: 12,
          h: 8,
          stack: true,
          colors: { accepted: 'green', failed: 'red' },
          description:
            'Messages per second the providers accepted (green) and refused (red), stacked: the total is the send rate.',
          targets: [{ expr: messages(config, ['outcome']), legend: '{{outcome}}' }],
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Failure ratio by provider',
          unit: 'percentunit',
          w: 12,
          h: 8,
          min: 0,
          description:
            "Share of each provider's messages that failed, any cause. One provider up alone points at that provider; all up together points at the sender or the network.",
          targets: [{ expr: messageRatio(config, ['provider'], [FAILED]), legend: '{{provider}}' }],
          links: runbookLinks(config, 'PushProviderErrorRateHigh', 'PushProviderOutage'),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Failures by error_type',
          unit: 'mps',
          w: 12,
          h: 8,
          stack: true,
          ranked: true,
          description:
            'Failed messages per second by cause, stacked; the legend ranks causes by mean rate, so the top row is what hurts most now (provider outages, credentials, payloads, stale tokens, rate limits…).',
          targets: [{ expr: messages(config, ['error_type'], FAILED), legend: '{{error_type}}' }],
          links: runbookLinks(config, 'PushCredentialsRejected', 'PushPayloadRejected', 'PushRateLimited'),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Failures by owner',
          unit: 'mps',
          w: 12,
          h: 8,
          stack: true,
          colors: Object.fromEntries(OWNERS.map((owner) => [owner.legend, owner.color])),
          description:
            'Failed messages per second by who can fix them: provider (outage, timeout, network), sender (credentials, config, payload), audience (stale tokens), capacity (rate limits). Only provider-owned failures page.',
          targets: OWNERS.map((owner) => ({
            expr: messages(config, [], FAILED, `error_type=~"${owner.types}"`),
            legend: owner.legend,
          })),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Provider latency p50 / p95 / p99',
          unit: 's',
          w: 12,
          h: 8,
          description:
            'Duration of provider API calls by provider, at three quantiles. The gap between p50 and p99 shows a slow tail; all three rising shows a slow provider.',
          targets: [0.5, 0.95, 0.99].map((quantile) => ({
            expr: latency(config, quantile, ['provider']),
            legend: `p${quantile * 100} {{provider}}`,
          })),
          links: runbookLinks(config, 'PushLatencyHigh'),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Stale tokens (unregistered + invalid_token)',
          unit: 'mps',
          w: 6,
          h: 8,
          stack: true,
          description:
            'Messages refused because the device token is dead (unregistered) or malformed (invalid_token), per second. Token hygiene: prune these tokens; a jump after a release points at token handling, not at the provider.',
          targets: [
            {
              expr: messages(config, ['provider', 'error_type'], FAILED, `error_type=~"${AUDIENCE_ERRORS}"`),
              legend: '{{provider}} {{error_type}}',
            },
          ],
          links: runbookLinks(config, 'PushInvalidTokenSurge'),
        }),
      )
      // Beside the stale tokens, in the same unit: the share of those verdicts the surge guard kept from pruning shows at a glance.
      .withPanel(
        timeseries(ids, {
          title: 'Invalid-token verdicts held',
          unit: 'mps',
          w: 6,
          h: 8,
          stack: true,
          description:
            'Stale-token verdicts per second the surge guard held back from onInvalidToken, by provider and app: one call or one window said most of its recipients were gone, likelier a bad key or the wrong APNs environment than uninstalls. Anything above 0 waits for a person: telemetry.heldInvalidTokens(), then release() or discard().',
          targets: [{ expr: heldVerdicts(config, ['provider', 'app']), legend: '{{provider}} {{app}}' }],
          links: runbookLinks(config, 'PushInvalidTokensHeld'),
        }),
      )
      // Over-sending shows up later as uninstalls: the share over the cap and the unregistered share on one axis.
      .withPanel(
        timeseries(ids, {
          title: 'Recipients over the send cap, and unregistered',
          unit: 'percentunit',
          w: 12,
          h: 8,
          min: 0,
          thresholdLines: [
            ['transparent', null],
            ['orange', config.alerts.PushRecipientsOverSendCap?.threshold ?? OVER_SEND_CAP_SHARE],
          ],
          description:
            "Share of the last 24 hours' recipients sent more than sendFrequency.cap pushes (opt-in: empty without it), beside the share of messages refused as unregistered. Users who get too many notifications uninstall: a rising share over the cap is followed, days later, by a rising unregistered share. The dashed line is the PushRecipientsOverSendCap threshold.",
          targets: [
            {
              expr: gauge(config, 'avg by (provider, app) ', METRIC_NAMES.recipientsOverSendCap),
              legend: 'over cap {{provider}} {{app}}',
            },
            {
              expr: messageRatio(config, ['provider', 'app'], [FAILED, 'error_type="unregistered"']),
              legend: 'unregistered {{provider}} {{app}}',
            },
          ],
          links: runbookLinks(config, 'PushRecipientsOverSendCap', 'PushInvalidTokenSurge'),
        }),
      )
      .withPanel(
        timeseries(ids, {
          title: 'Failures by group',
          unit: 'percentunit',
          w: 12,
          h: 8,
          min: 0,
          description:
            "Share of each group's messages that failed, any cause (opt-in: new PushTelemetry({ groups }); one unnamed series without groups). One group up alone, say marketing with its stale tokens, points at what that group sends and to whom; all up together points at the provider or the sender.",
          targets: [
            { expr: messageRatio(config, ['group'], [FAILED]), legend: '{{group}}' },
            {
              expr: messageRatio(config, ['group'], [FAILED, 'error_type="unregistered"']),
              legend: '{{group}} unregistered',
            },
          ],
          links: runbookLinks(config, 'PushInvalidTokenSurge'),
        }),
      )
      .withPanel(
        table(ids, {
          title: 'Failures: error_type × provider',
          unit: 'mps',
          w: 24,
          h: 8,
          description:
            'Mean failed messages per second over the selected time range, one row per error_type and one column per provider; 0 or an empty cell means no such failure.',
          targets: [
            { expr: messages(config, ['error_type', 'provider'], FAILED), legend: '{{error_type}} {{provider}}' },
          ],
          transformations: [
            { id: 'reduce', options: { mode: 'seriesToRows', reducers: ['mean'], labelsToFields: true } },
            {
              id: 'groupingToMatrix',
              options: { rowField: 'error_type', columnField: 'provider', valueField: 'Mean' },
            },
          ],
        }),
      )
      .build()
  );
}
