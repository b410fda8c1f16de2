import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DELIVERY_REPORT_METRIC_NAMES as REPORTS, METRIC_NAMES } from '../../metrics/contract.js';
import type { ResolvedMonitoringConfig } from '../config.js';
import { CONFIRMED_DELIVERY_WINDOWS, matchers, MESSAGES, RATE_INTERVAL, RECORDED, sumRate } from '../promql.js';
import { dashboardShell, runbookLinks } from './common.js';
import { PanelIds, stat, timeseries } from './panels.js';
import { rate, VARIABLE_MATCHERS } from './queries.js';

const RECEIPTS = METRIC_NAMES.deviceReceipts;
const ACCEPTED = 'outcome="accepted"';
/** The default threshold of PushConfirmedDeliveryLow, drawn as its line on the ratio panel. */
const ALERT_SHARE = 0.5;

/** The funnel's stages, in order, each a selector on the counter that counts it. */
const STAGES = [
  { stage: 'sent', metric: MESSAGES, match: [] },
  { stage: 'accepted', metric: MESSAGES, match: [ACCEPTED] },
  { stage: 'delivered', metric: RECEIPTS, match: ['event="delivered"'] },
  { stage: 'displayed', metric: RECEIPTS, match: ['event="displayed"'] },
  { stage: 'opened', metric: RECEIPTS, match: ['event="opened"'] },
] as const;

/** Outcomes of the providers' reports that say where messages went (the delay ones overlap them, so apart). */
const DELAY_OUTCOMES = 'delivered_no_delay|delayed_.*';

/**
 * A stage's rate per `by`. The receipts endpoint shows every allowed (provider, app) at 0 from the start, so the
 * device stages keep only what posted a receipt in the past day: a provider whose devices post none has no line.
 */
function stage(config: ResolvedMonitoringConfig, index: number, by: readonly string[]): string {
  const { metric, match } = STAGES[index] as (typeof STAGES)[number];
  const perSecond = rate(config, metric, by, ...match);
  if (metric !== RECEIPTS) return perSecond;
  const grouping = by.length > 0 ? ` by (${by.join(', ')})` : '';
  const posted = `sum${grouping} (increase(${RECEIPTS}${matchers(config, ...VARIABLE_MATCHERS)}[1d])) > 0`;
  return `(${perSecond}\nand on (${by.join(', ')})\n${posted})`;
}

/** Stage `to` over stage `from`, per `by`: no series where the later stage has none, or the earlier one was 0. */
function conversion(config: ResolvedMonitoringConfig, from: number, to: number, by: readonly string[]): string {
  return `${stage(config, to, by)}\n/\n(${stage(config, from, by)} > 0)`;
}

/**
 * Receipts refused per second. They carry only a reason (a refused receipt names no trusted provider or app), so the
 * provider and app pickers also match their empty labels, as the alert annotation's do: any selection shows them.
 */
function refused(config: ResolvedMonitoringConfig, by: readonly string[]): string {
  const pickers = ['job=~"$job"', 'provider=~"$provider|"', 'app=~"$app|"'];
  return sumRate(config, METRIC_NAMES.deviceReceiptsRejected, by, RATE_INTERVAL, ...pickers);
}

function latency(config: ResolvedMonitoringConfig, quantile: number, by: readonly string[]): string {
  return `histogram_quantile(${quantile}, ${rate(config, `${METRIC_NAMES.deliveryLatency}_bucket`, [...by, 'le'])})`;
}

function reportGauge(
  config: ResolvedMonitoringConfig,
  metric: string,
  by: readonly string[],
  ...extra: string[]
): string {
  return `max by (${by.join(', ')}) (${metric}${matchers(config, ...VARIABLE_MATCHERS, ...extra)})`;
}

/**
 * Push notifications / Delivery: what happens after the provider accepts. Device receipts (the receipts endpoint)
 * give the funnel sent → accepted → delivered → displayed → opened and the send-to-device latency; the providers'
 * own daily reports (FCM Data API, APNs delivery metrics) give their drop reasons, a day late.
 */
export function deliveryDashboard(config: ResolvedMonitoringConfig): Dashboard {
  const ids = new PanelIds();
  const series = '{{provider}} {{app}}';
  const noReceipts = 'No receipts: no app of this selection posts them';
  return dashboardShell(
    config,
    'delivery',
    'Delivery',
    'What happens after the provider accepts: the funnel sent, accepted, delivered, displayed, opened from device receipts, how long delivery takes, and the drop reasons in the providers\u2019 own daily reports.',
    // Receipts and the providers' reports carry no group label: a group picker here would filter nothing.
    { group: false },
  )
    .withPanel(
      stat(ids, {
        title: 'Confirmed delivery',
        unit: 'percentunit',
        w: 6,
        h: 4,
        steps: [['text', null]],
        noValue: noReceipts,
        description:
          'Delivered receipts devices posted, over messages the providers accepted. Only devices that post receipts count, so compare it with itself over time (PushConfirmedDeliveryLow does), not with 100%.',
        targets: [{ expr: conversion(config, 1, 2, []), legend: 'delivered / accepted' }],
        links: runbookLinks(config, 'PushConfirmedDeliveryLow'),
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'Opened / delivered',
        unit: 'percentunit',
        w: 6,
        h: 4,
        steps: [['text', null]],
        noValue: noReceipts,
        description:
          'Opened receipts over delivered ones: how many of the notifications that arrived were tapped. A drop after a release with delivery steady is the content or the app, not the pipeline.',
        targets: [{ expr: conversion(config, 2, 4, []), legend: 'opened / delivered' }],
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'p95 delivery latency',
        unit: 's',
        w: 6,
        h: 4,
        steps: [
          ['green', null],
          ['orange', 60],
          ['red', 900],
        ],
        noValue: noReceipts,
        description:
          'Time from the send (sentAt in the payload) to the delivered receipt, 95th percentile, all providers. Orange above a minute, red above 15 minutes: devices asleep, offline, or messages throttled.',
        targets: [{ expr: latency(config, 0.95, []), legend: 'p95' }],
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'Receipts refused/s',
        unit: 'reqps',
        w: 6,
        h: 4,
        steps: [
          ['green', null],
          ['orange', 0.01],
        ],
        description:
          'Receipts the receipts endpoint refused per second (malformed, unknown app, bad signature, stale…). These carry only a reason: they follow the job picker and show whatever provider and app are picked. Rising with delivery falling: the receipts path broke, not delivery.',
        targets: [{ expr: refused(config, []), legend: 'refused/s' }],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Delivery funnel',
        unit: 'mps',
        w: 12,
        h: 9,
        min: 0,
        description:
          'Messages per second at each stage, per provider: sent (handed to the provider), accepted, delivered, displayed and opened (device receipts). The gap between two lines is what the later stage lost.',
        targets: STAGES.map((s, index) => ({
          expr: stage(config, index, ['provider']),
          legend: `{{provider}} ${s.stage}`,
        })),
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Funnel conversion by stage',
        unit: 'percentunit',
        w: 12,
        h: 9,
        min: 0,
        description:
          'Each stage over the one before it, per provider: accepted/sent (the SLI\u2019s view), delivered/accepted, displayed/delivered, opened/displayed. The stage whose line falls is where messages are lost.',
        targets: [1, 2, 3, 4].map((to) => ({
          expr: conversion(config, to - 1, to, ['provider']),
          legend: `{{provider}} ${STAGES[to]?.stage}/${STAGES[to - 1]?.stage}`,
        })),
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Confirmed delivery vs usual',
        unit: 'percentunit',
        w: 12,
        h: 8,
        min: 0,
        noValue: noReceipts,
        description: `Delivered receipts over accepted messages per app, against half its usual ratio, the mean of the recorded hourly ratio over the past day (the alert line): PushConfirmedDeliveryLow fires when the hourly ratio stays under that line for 30 minutes. Apps without receipts in the past day have neither line.`,
        targets: [
          { expr: conversion(config, 1, 2, ['job', 'provider', 'app']), legend: `now ${series}` },
          {
            expr: `${ALERT_SHARE} * avg_over_time(${RECORDED.confirmedDeliveryRatio}{${VARIABLE_MATCHERS.join(', ')}}[${CONFIRMED_DELIVERY_WINDOWS.usual}])`,
            legend: `alert line ${series}`,
          },
        ],
        links: runbookLinks(config, 'PushConfirmedDeliveryLow'),
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Delivery latency',
        unit: 's',
        w: 12,
        h: 8,
        min: 0,
        noValue: noReceipts,
        description:
          'Send to device (sentAt in the payload to the delivered receipt), p50, p95 and p99 per provider, from 0.1 s to a day. A p99 of hours is devices offline or dozing; a p50 rising is the provider queueing.',
        targets: [0.5, 0.95, 0.99].map((q) => ({
          expr: latency(config, q, ['provider']),
          legend: `{{provider}} p${Math.round(q * 100)}`,
        })),
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Provider-reported outcomes',
        unit: 'percentunit',
        w: 12,
        h: 9,
        min: 0,
        ranked: true,
        noValue: 'No provider reports: start a delivery report poller (push-telemetry/delivery-reports)',
        description:
          'The providers\u2019 own daily reports, a day late: share of the day\u2019s messages per outcome, per app. FCM (Data API, Android): delivered, pending, collapsed, dropped_*; APNs (delivery metrics export): delivered, stored_*, discarded_*. Unknown outcomes add up in other.',
        targets: [
          {
            expr: reportGauge(config, REPORTS.ratio, ['provider', 'app', 'outcome'], `outcome!~"${DELAY_OUTCOMES}"`),
            legend: '{{provider}} {{app}} {{outcome}}',
          },
        ],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Provider-reported delays',
        unit: 'percentunit',
        w: 6,
        h: 9,
        min: 0,
        noValue: 'No FCM report: only the FCM Data API reports delays',
        description:
          'FCM deliveryPerformancePercents of the latest day: delivered without delay, or delayed by the device offline, in doze, throttled or stopped by the user. They may overlap, so they need not add up.',
        targets: [
          {
            expr: reportGauge(config, REPORTS.ratio, ['provider', 'app', 'outcome'], `outcome=~"${DELAY_OUTCOMES}"`),
            legend: '{{app}} {{outcome}}',
          },
        ],
      }),
    )
    .withPanel(
      stat(ids, {
        title: 'Provider report age',
        unit: 's',
        w: 6,
        h: 9,
        steps: [
          ['green', null],
          ['orange', 3 * 86_400],
          ['red', 5 * 86_400],
        ],
        noValue: 'No provider reports',
        description:
          'Time since the start of the day the latest provider report covers, per app. Reports lag a day, so 1\u20132 days is normal; orange from 3 days: the poller is failing (push_provider_delivery_report_errors_total says why).',
        targets: [
          { expr: `time() - ${reportGauge(config, REPORTS.reportTimestamp, ['provider', 'app'])}`, legend: series },
        ],
      }),
    )
    .withPanel(
      timeseries(ids, {
        title: 'Receipts refused by reason',
        unit: 'reqps',
        w: 24,
        h: 8,
        stack: true,
        noValue: 'No receipts refused',
        description:
          'Receipts the endpoint refused per second, by reason: malformed or too large bodies, an app or provider not allow-listed, a bad signature (a secret rotated on one side only), stale or future sentAt. They carry only a reason, so they show whatever provider and app are picked.',
        targets: [{ expr: refused(config, ['reason']), legend: '{{reason}}' }],
      }),
    )
    .build();
}
