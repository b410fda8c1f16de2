import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateAlertRules, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../src/monitoring/config.js';
import {
  firings,
  JOB,
  phases,
  runScenario,
  STEP,
  steady,
  type Firing,
  type Scenario,
  type ScenarioResult,
  type SenderSpec,
  type Traffic,
} from './alerts-promtool.js';
import { requireBinary } from './prometheus.js';

/**
 * The shipped rules (generator defaults) against the issue's detection targets, with a 15 s scrape and evaluation
 * interval. Each scenario asserts the exact labels and annotations on-call sees at one moment (promtool
 * alert_rule_test), then its measured timeline: when each alert first fired, when it resolved, and that it never flapped.
 */

const M = 60;
const H = 3600;
const INSTANCE = 'sender-0:9464';
const runbook = (file: string) => `${DEFAULT_RUNBOOK_URL_BASE}${file}.md`;

/** One message every `every` seconds, the nth of them (from 1) failing with what `fail(n)` says, else accepted. */
function trickle(every: number, fail: (n: number) => string | undefined): Traffic {
  return (t) => (t % every === 0 ? { [fail(t / every) ?? 'accepted']: 1 } : {});
}

const healthy = (rate: number) => steady(rate);

/*
 * Silence: PushProviderHung and PushSendingStalled against the shapes real senders have, each both ways. Traffic is
 * given in messages per second as a function of time; a "caller" also makes one provider call per message and shows
 * the calls in flight at each scrape.
 */

/** One message every 15 s: the deepest night lull that must stay quiet, and still steady traffic. */
const LULL = 1 / 15;

const perSecond =
  (rate: (t: number) => number): Traffic =>
  (t) => ({ accepted: rate(t) * STEP });

/** Linear from `a` at `from` to `b` at `to`. */
function ramp(t: number, from: number, to: number, a: number, b: number): number {
  return a + ((b - a) * (t - from)) / (to - from);
}

/** 10 messages/s by day, down over an hour to the lull from 3 h, the lull from 4 h to 10 h, back up by 11 h. */
function dayAndNight(t: number): number {
  if (t <= 3 * H) return 10;
  if (t <= 4 * H) return ramp(t, 3 * H, 4 * H, 10, LULL);
  if (t <= 10 * H) return LULL;
  return ramp(t, 10 * H, 11 * H, LULL, 10);
}

/** Campaigns: 200 messages/s for 20 minutes from 1 h, 5 h, 9 h and 13 h (a daily schedule), nothing in between. */
const CAMPAIGNS = [1 * H, 5 * H, 9 * H, 13 * H];
const inCampaign = (t: number) => CAMPAIGNS.some((start) => t > start && t <= start + 20 * M);
const campaign = (t: number) => (inCampaign(t) ? 200 : 0);

/** A process restart every 4 minutes: the scrape at the restart fails, and every counter starts again after it. */
const RESTART = 4 * M;
const restartScrape = (t: number) => t > 0 && t % RESTART === 0;
const freshProcess = (t: number) => t > STEP && t % RESTART === STEP;

interface Caller {
  readonly provider: string;
  readonly app: string;
  /** Messages (and calls, one per message) per second while nothing hangs. */
  readonly rate: (t: number) => number;
  /** push_requests_in_flight at the scrape at t. */
  readonly inFlight: (t: number) => number;
  /** Whether the calls hang in the interval ending at t: none completes, so no message is counted either. */
  readonly hung?: (t: number) => boolean;
  readonly wrapped?: (t: number) => boolean;
}

function caller({ provider, app, rate, inFlight, hung = () => false, wrapped }: Caller): SenderSpec {
  const live = (t: number) => (hung(t) ? 0 : rate(t));
  return {
    provider,
    app,
    messages: perSecond(live),
    calls: (t) => ({ calls: live(t) * STEP, slow: 0 }),
    inFlight,
    ...(wrapped !== undefined && { wrapped }),
  };
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'total outage of one provider',
    duration: 60 * M,
    senders: [
      {
        provider: 'fcm',
        app: 'com.example.app',
        messages: phases([0, healthy(10)], [20 * M, steady(10, { provider_unavailable: 1 })], [35 * M, healthy(10)]),
      },
      { provider: 'apns', app: 'com.example.app', messages: healthy(5) },
    ],
    expect: [
      { alertname: 'PushProviderOutage', at: 19 * M, alerts: [] },
      {
        alertname: 'PushProviderOutage',
        at: 25 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'fcm', app: 'com.example.app' },
            annotations: {
              summary: 'Push provider fcm is failing most messages.',
              description:
                '100% of the messages fcm (com.example.app) from push-sender sends are failing: above 50% with provider_unavailable, timeout or network errors over 2 minutes, or with those, rate_limited or unknown errors while none was accepted for 5 minutes. Users are not receiving these notifications.',
              runbook_url: runbook('push-provider-outage'),
            },
          },
        ],
      },
      { alertname: 'PushProviderOutage', at: 45 * M, alerts: [] },
    ],
  },
  {
    name: 'nothing accepted, errors unclassified',
    duration: 40 * M,
    senders: [
      {
        provider: 'webpush',
        messages: phases([0, healthy(4)], [10 * M, steady(4, { unknown: 1 })], [25 * M, healthy(4)]),
      },
    ],
    expect: [
      {
        alertname: 'PushProviderOutage',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'webpush' },
            annotations: {
              summary: 'Push provider webpush is failing most messages.',
              description:
                '100% of the messages webpush from push-sender sends are failing: above 50% with provider_unavailable, timeout or network errors over 2 minutes, or with those, rate_limited or unknown errors while none was accepted for 5 minutes. Users are not receiving these notifications.',
              runbook_url: runbook('push-provider-outage'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'credentials rejected on every send',
    duration: 40 * M,
    senders: [
      {
        provider: 'apns',
        app: 'com.example.app',
        messages: phases([0, healthy(5)], [10 * M, steady(5, { auth: 1 })], [25 * M, healthy(5)]),
      },
    ],
    expect: [
      {
        alertname: 'PushCredentialsRejected',
        at: 15 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Push provider apns rejects the sender credentials.',
              description:
                '100% of the messages apns (com.example.app) from push-sender sends are refused with auth or config errors (alert above 20%): an expired APNs key or certificate, a revoked FCM credential, a wrong sender id, topic or environment. Every such send fails until someone fixes the credentials.',
              runbook_url: runbook('push-credentials-rejected'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'a trickle sender with a revoked key',
    duration: 3 * H,
    senders: [{ provider: 'fcm', messages: trickle(5 * M, (n) => (n * 5 * M > 1 * H ? 'auth' : undefined)) }],
  },
  {
    name: '10% provider errors',
    duration: 60 * M,
    senders: [
      {
        provider: 'fcm',
        app: 'com.example.app',
        messages: phases([0, healthy(20)], [10 * M, steady(20, { provider_unavailable: 0.05, timeout: 0.05 })]),
      },
    ],
    expect: [
      {
        alertname: 'PushProviderErrorRateHigh',
        at: 30 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'fcm', app: 'com.example.app' },
            annotations: {
              summary: 'Push provider fcm is failing more messages than usual.',
              description:
                '10% of the messages fcm (com.example.app) from push-sender sent in the last 5 minutes failed with provider_unavailable, timeout or network errors (alert above 5%). Retries may hide it from users for now.',
              runbook_url: runbook('push-provider-error-rate-high'),
            },
          },
        ],
      },
    ],
  },
  {
    name: '0.3% provider errors and 30% unregistered for 24 h',
    duration: 24 * H,
    senders: [
      {
        provider: 'fcm',
        app: 'com.example.app',
        // A day of traffic between 2 and 18 messages/s; 0.2% provider_unavailable always, plus 1% timeouts two minutes in every twenty.
        messages: (t) => {
          const rate = 10 + 8 * Math.sin((2 * Math.PI * t) / (24 * H));
          const burst = t % (20 * M) <= 2 * M && t % (20 * M) > 0 ? 0.01 : 0;
          return steady(rate, { provider_unavailable: 0.002, timeout: burst, unregistered: 0.3 })(t);
        },
        // Churn the surge guard lets through: the held counter stays at its wrap-time 0.
        held: () => 0,
      },
    ],
  },
  {
    name: 'one message every 5 minutes with an occasional failure',
    duration: 6 * H,
    senders: [
      {
        provider: 'webpush',
        messages: trickle(5 * M, (n) =>
          n % 6 === 0 ? 'provider_unavailable' : n === 25 ? 'auth' : n === 40 ? 'payload_invalid' : undefined,
        ),
      },
    ],
  },
  {
    name: 'sender process gone',
    duration: 40 * M,
    senders: [{ provider: 'fcm', messages: healthy(10) }],
    up: (t) => (t > 10 * M && t <= 25 * M ? 0 : 1),
    expect: [
      {
        alertname: 'PushSenderDown',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, instance: INSTANCE },
            annotations: {
              summary: 'A push sender is down or no longer instrumented.',
              description: `Prometheus cannot scrape push-sender/${INSTANCE} (up = 0). Nothing shows whether notifications are going out.`,
              runbook_url: runbook('push-sender-down'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'sender gone from service discovery',
    duration: 30 * M,
    senders: [{ provider: 'fcm', messages: healthy(10) }],
    up: (t) => (t > 10 * M ? undefined : 1),
    expect: [
      {
        alertname: 'PushSenderDown',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB },
            annotations: {
              summary: 'A push sender is down or no longer instrumented.',
              description:
                'No target of job push-sender is left to scrape. Nothing shows whether notifications are going out.',
              runbook_url: runbook('push-sender-down'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'sender runs without push-telemetry',
    duration: 30 * M,
    senders: [],
    up: () => 1,
    instrumented: (t) => t <= 10 * M,
    expect: [
      {
        alertname: 'PushSenderDown',
        at: 20 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, instance: INSTANCE },
            annotations: {
              summary: 'A push sender is down or no longer instrumented.',
              description: `push-sender/${INSTANCE} answers scrapes but exposes no push_telemetry_info (up = 1). Nothing shows whether notifications are going out.`,
              runbook_url: runbook('push-sender-down'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'payloads rejected after a deploy',
    duration: 40 * M,
    senders: [
      {
        provider: 'fcm',
        messages: phases(
          [0, steady(40, { payload_too_large: 0.005 })],
          [10 * M, steady(40, { payload_too_large: 0.005, payload_invalid: 0.05 })],
        ),
      },
    ],
    expect: [
      {
        alertname: 'PushPayloadRejected',
        at: 30 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'fcm' },
            annotations: {
              summary: 'Push provider fcm rejects message payloads.',
              description:
                '5.5% of the messages fcm from push-sender sent in the last 5 minutes were refused as payload_invalid or payload_too_large (alert above 1%). Usually a deploy changed the message format; those users get nothing.',
              runbook_url: runbook('push-payload-rejected'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'rate limited',
    duration: 50 * M,
    senders: [{ provider: 'expo', messages: phases([0, healthy(20)], [10 * M, steady(20, { rate_limited: 0.1 })]) }],
    expect: [
      {
        alertname: 'PushRateLimited',
        at: 40 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'expo' },
            annotations: {
              summary: 'Push provider expo is rate limiting the sender.',
              description:
                '10% of the messages expo from push-sender sent in the last 5 minutes were refused as rate_limited (alert above 5%). They arrive late, or never unless the sender backs off and retries.',
              runbook_url: runbook('push-rate-limited'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'invalid token surge',
    duration: 3 * H,
    senders: [
      {
        provider: 'apns',
        app: 'com.example.app',
        messages: phases(
          [0, steady(20, { unregistered: 0.05 })],
          [2 * H, steady(20, { unregistered: 0.05, invalid_token: 0.4 })],
        ),
      },
    ],
    expect: [
      {
        alertname: 'PushInvalidTokenSurge',
        at: 2 * H + 40 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Invalid push tokens for apns jumped above their baseline.',
              description:
                '45% of the messages apns (com.example.app) from push-sender sent in the last 15 minutes were refused as unregistered or invalid_token: over 2 times the share of the past day and 5% above it. A sudden wave usually means tokens sent to the wrong environment (APNs sandbox vs production) or the wrong app.',
              runbook_url: runbook('push-invalid-token-surge'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'invalid-token verdicts held',
    duration: 60 * M,
    senders: [
      {
        provider: 'apns',
        app: 'com.example.app',
        // The wrong APNs environment from 10 to 20 minutes: 90% BadDeviceToken, which the surge guard holds (with the churn of those calls).
        messages: phases(
          [0, steady(20, { unregistered: 0.02 })],
          [10 * M, steady(20, { unregistered: 0.02, invalid_token: 0.9 })],
          [20 * M, steady(20, { unregistered: 0.02 })],
        ),
        held: (t) => (t > 10 * M && t <= 20 * M ? 20 * STEP * 0.92 : 0),
      },
      // 30% stale tokens every minute of the hour, never a mass verdict: the counter stays flat at 0.
      { provider: 'fcm', app: 'com.example.app', messages: steady(20, { unregistered: 0.3 }), held: () => 0 },
    ],
    expect: [
      { alertname: 'PushInvalidTokensHeld', at: 10 * M, alerts: [] },
      {
        alertname: 'PushInvalidTokensHeld',
        at: 15 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Invalid-token verdicts for apns are held back from token pruning.',
              // 20 steps of 276 held verdicts since 10 minutes in.
              description:
                'The surge guard of apns (com.example.app) from push-sender held about 5520 unregistered or invalid_token verdicts back from onInvalidToken in the last 15 minutes: one call or one window of calls said most of its recipients were gone, which is likelier a bad key, the wrong APNs environment or a provider fault than real uninstalls. No token is pruned until a person calls release() or discard() on telemetry.heldInvalidTokens(); /healthz lists the open holds. This alert resolving does not close them.',
              runbook_url: runbook('push-invalid-tokens-held'),
            },
          },
        ],
      },
      { alertname: 'PushInvalidTokensHeld', at: 40 * M, alerts: [] },
    ],
  },
  {
    name: 'one held batch on a quiet sender',
    duration: 60 * M,
    senders: [{ provider: 'webpush', messages: trickle(5 * M, () => undefined), held: (t) => (t === 30 * M ? 25 : 0) }],
    expect: [
      {
        alertname: 'PushInvalidTokensHeld',
        at: 32 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'webpush' },
            annotations: {
              summary: 'Invalid-token verdicts for webpush are held back from token pruning.',
              description:
                'The surge guard of webpush from push-sender held about 25 unregistered or invalid_token verdicts back from onInvalidToken in the last 15 minutes: one call or one window of calls said most of its recipients were gone, which is likelier a bad key, the wrong APNs environment or a provider fault than real uninstalls. No token is pruned until a person calls release() or discard() on telemetry.heldInvalidTokens(); /healthz lists the open holds. This alert resolving does not close them.',
              runbook_url: runbook('push-invalid-tokens-held'),
            },
          },
        ],
      },
      { alertname: 'PushInvalidTokensHeld', at: 50 * M, alerts: [] },
    ],
  },
  {
    name: 'provider latency',
    duration: 40 * M,
    senders: [
      { provider: 'fcm', messages: healthy(20), calls: (t) => ({ calls: 20 * STEP, slow: t > 10 * M ? 0.05 : 0.005 }) },
    ],
    expect: [
      {
        alertname: 'PushLatencyHigh',
        at: 30 * M,
        alerts: [
          {
            labels: { severity: 'warning', job: JOB, provider: 'fcm' },
            annotations: {
              summary: 'Push provider fcm is slow to answer.',
              description:
                'The p99 latency of the calls fcm from push-sender makes is 4.5s over the last 5 minutes (alert above 2.5s). Notifications arrive late and senders may time out.',
              runbook_url: runbook('push-latency-high'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'slow error budget burn',
    duration: 4 * H,
    senders: [{ provider: 'sns', messages: steady(20, { unknown: 0.02, unregistered: 0.1 }) }],
    expect: [
      {
        alertname: 'PushErrorBudgetBurn',
        at: 3 * H + 30 * M,
        alerts: ['1d', '3d'].map((tier) => ({
          labels: { severity: 'warning', tier, job: JOB, provider: 'sns' },
          annotations: {
            summary: 'The push error budget of sns is burning too fast.',
            // 2% failed of the 90% that count: the 10% unregistered are outside the SLO, so the burn is 2/90 ÷ 0.5% = 4.444.
            description: `sns from push-sender is failing messages 4.444 times faster than its 99.5% SLO over 30d allows, over the last ${tier} and ${tier === '1d' ? '2h' : '6h'} (alert above ${tier === '1d' ? 3 : 1}×, which spends 10% of the budget in ${tier}). Every failure counts except unregistered, invalid_token and canceled (the audience's or the caller's).`,
            runbook_url: runbook('push-error-budget-burn'),
          },
        })),
      },
    ],
  },
  {
    name: 'steady traffic stops while the sender is up',
    duration: 5 * H + 30 * M,
    senders: [
      { provider: 'fcm', app: 'com.example.big', messages: healthy(50) },
      { provider: 'fcm', app: 'com.example.other', messages: healthy(20) },
      // One small app among big ones: its consumer dies at 4 h and comes back at 5 h.
      { provider: 'fcm', app: 'com.example.small', messages: perSecond((t) => (t > 4 * H && t <= 5 * H ? 0 : LULL)) },
      // A deploy at 4 h leaves this sender unwrapped: its series vanish while the process keeps answering scrapes.
      { provider: 'apns', app: 'com.example.app', messages: healthy(5), wrapped: (t) => t <= 4 * H },
    ],
    expect: [
      { alertname: 'PushSendingStalled', at: 4 * H + 19 * M, alerts: [] },
      {
        alertname: 'PushSendingStalled',
        at: 4 * H + 30 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'fcm', app: 'com.example.small' },
            annotations: {
              summary: 'Push sending to fcm stopped while the sender is up.',
              description:
                'fcm (com.example.small) from push-sender has handed no message to the provider for 20 minutes or more, after steady traffic: 0.0667 messages/s (the median of the 3 hours before), never under 0.02/s in any 5 minutes. push-sender is up and scraped, and nothing fails, so no error alert fires: the send loop or its queue consumer has stopped, or a deploy left it off. Notifications are not going out.',
              runbook_url: runbook('push-sending-stalled'),
            },
          },
          {
            labels: { severity: 'critical', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Push sending to apns stopped while the sender is up.',
              description:
                'apns (com.example.app) from push-sender has handed no message to the provider for 20 minutes or more, after steady traffic: 5 messages/s (the median of the 3 hours before), never under 0.02/s in any 5 minutes. push-sender is up and scraped, and nothing fails, so no error alert fires: the send loop or its queue consumer has stopped, or a deploy left it off. Notifications are not going out.',
              runbook_url: runbook('push-sending-stalled'),
            },
          },
        ],
      },
    ],
  },
  {
    name: 'night lull',
    duration: 11 * H,
    senders: [
      // Down to one message every 15 s for six hours: quiet.
      { provider: 'fcm', app: 'com.example.lull', messages: perSecond(dayAndNight) },
      // The same night, but the queue consumer dies at 8 h: steady still, so its silence pages.
      { provider: 'fcm', app: 'com.example.lull-stops', messages: perSecond((t) => (t > 8 * H ? 0 : dayAndNight(t))) },
      // Thins out to a message every 4 minutes for the hour from 5 h, then none from 6 h to 8 h: the steady traffic
      // ended an hour before the silence began, so the silence is the night's, and quiet.
      {
        provider: 'apns',
        app: 'com.example.thins-out',
        messages: perSecond((t) => (t <= 5 * H || t > 8 * H ? 10 : t <= 6 * H && t % (4 * M) === 0 ? 1 / STEP : 0)),
      },
      // A slow provider in the lull: every scrape sees the one call in flight, and each completes: quiet.
      caller({ provider: 'expo', app: 'com.example.slow', rate: dayAndNight, inFlight: () => 1 }),
      // The lull's one call hangs at 8 h and stays in flight: a page within 10 minutes.
      caller({
        provider: 'webpush',
        app: 'com.example.lull-hang',
        rate: dayAndNight,
        inFlight: (t) => (t > 8 * H ? 1 : 0),
        hung: (t) => t > 8 * H,
      }),
    ],
  },
  {
    name: 'scheduled campaigns',
    duration: 14 * H,
    senders: [
      // 20-minute bursts on a schedule and silence between: never steady, and nothing in flight between bursts.
      caller({
        provider: 'fcm',
        app: 'com.example.campaigns',
        rate: campaign,
        inFlight: (t) => (inCampaign(t) ? 2 : 0),
      }),
      // Campaigns on top of steady transactional traffic, which stops as the 9 h campaign ends: that silence pages.
      {
        provider: 'apns',
        app: 'com.example.app',
        messages: perSecond((t) => campaign(t) + (t > 9 * H + 20 * M ? 0 : 2)),
      },
      // The 9 h campaign hangs 5 minutes in, its 4 calls in flight until they are dropped at 9 h 40.
      caller({
        provider: 'webpush',
        app: 'com.example.campaigns',
        rate: campaign,
        inFlight: (t) => (t > 9 * H + 5 * M && t <= 9 * H + 40 * M ? 4 : inCampaign(t) ? 2 : 0),
        hung: (t) => t > 9 * H + 5 * M && t <= 9 * H + 40 * M,
      }),
    ],
  },
  {
    name: 'restarts every 4 minutes',
    duration: 5 * H + 30 * M,
    up: (t) => (restartScrape(t) ? 0 : 1),
    restarted: freshProcess,
    senders: [
      // Busy: calls always in flight, counters reset every 4 minutes: quiet.
      caller({ provider: 'fcm', app: 'com.example.app', rate: () => 10, inFlight: () => 3 }),
      // From 4 h the new processes never start their send loop: a stall, while restarts go on.
      caller({ provider: 'apns', app: 'com.example.app', rate: (t) => (t > 4 * H ? 0 : 5), inFlight: () => 0 }),
      // From 4 h each new process hangs on its first call, before any scrape sees it idle.
      caller({
        provider: 'webpush',
        app: 'com.example.app',
        rate: () => 5,
        inFlight: (t) => (t > 4 * H ? 1 : 2),
        hung: (t) => t > 4 * H,
      }),
    ],
  },
  {
    name: "a sender's first day",
    duration: 8 * H,
    senders: [
      // Wrapped at 1 h, steady for 2 h 30 and then silent: less than 3 h of history, so its silence is no news.
      {
        provider: 'fcm',
        app: 'com.example.new',
        messages: perSecond((t) => (t <= 3 * H + 30 * M ? 10 : 0)),
        wrapped: (t) => t >= 1 * H,
      },
      // Wrapped at 1 h, steady for 3 h 30 and then silent: it has its 3 hours by then, so the stall pages.
      {
        provider: 'apns',
        app: 'com.example.new',
        messages: perSecond((t) => (t <= 4 * H + 30 * M ? 10 : 0)),
        wrapped: (t) => t >= 1 * H,
      },
      // Wrapped at 1 h and idle all day: nothing in flight, nothing completes: quiet.
      caller({
        provider: 'expo',
        app: 'com.example.idle',
        rate: () => 0,
        inFlight: () => 0,
        wrapped: (t) => t >= 1 * H,
      }),
      // Wrapped at 1 h, and its very first call hangs: no history needed for a hang.
      caller({
        provider: 'webpush',
        app: 'com.example.new',
        rate: () => 1,
        inFlight: (t) => (t > 1 * H ? 1 : 0),
        hung: () => true,
        wrapped: (t) => t >= 1 * H,
      }),
    ],
  },
  {
    name: 'steady sender down for 40 minutes',
    duration: 5 * H + 30 * M,
    senders: [caller({ provider: 'fcm', app: 'com.example.app', rate: () => 10, inFlight: () => 2 })],
    up: (t) => (t > 4 * H && t <= 4 * H + 40 * M ? 0 : 1),
  },
  {
    name: 'calls hang',
    duration: 90 * M,
    senders: [
      // One small app among big ones: the big app completes its calls while the small one's hang.
      caller({ provider: 'fcm', app: 'com.example.big', rate: () => 50, inFlight: () => 10 }),
      caller({
        provider: 'fcm',
        app: 'com.example.small',
        rate: () => LULL,
        inFlight: (t) => (t > 30 * M && t <= 60 * M ? 1 : 0),
        hung: (t) => t > 30 * M && t <= 60 * M,
      }),
      // The provider connection stalls at 30 min: the sender's 50 slots fill at once and stay full until 60 min.
      caller({
        provider: 'apns',
        app: 'com.example.app',
        rate: () => 10,
        inFlight: (t) => (t > 30 * M && t <= 60 * M ? 50 : 2),
        hung: (t) => t > 30 * M && t <= 60 * M,
      }),
    ],
    expect: [
      { alertname: 'PushProviderHung', at: 34 * M, alerts: [] },
      {
        alertname: 'PushProviderHung',
        at: 40 * M,
        alerts: [
          {
            labels: { severity: 'critical', job: JOB, provider: 'fcm', app: 'com.example.small' },
            annotations: {
              summary: 'Calls to push provider fcm hang: in flight, none completing.',
              description:
                'At least 1 calls of fcm (com.example.small) from push-sender have been in flight for 5 minutes, and not one completed: a provider connection that stalls with no client timeout. Hung calls count no failure, so the error alerts stay quiet; the messages in them are not delivered, and the sender stops once its concurrency is used up.',
              runbook_url: runbook('push-provider-hung'),
            },
          },
          {
            labels: { severity: 'critical', job: JOB, provider: 'apns', app: 'com.example.app' },
            annotations: {
              summary: 'Calls to push provider apns hang: in flight, none completing.',
              description:
                'At least 50 calls of apns (com.example.app) from push-sender have been in flight for 5 minutes, and not one completed: a provider connection that stalls with no client timeout. Hung calls count no failure, so the error alerts stay quiet; the messages in them are not delivered, and the sender stops once its concurrency is used up.',
              runbook_url: runbook('push-provider-hung'),
            },
          },
        ],
      },
      { alertname: 'PushProviderHung', at: 62 * M, alerts: [] },
    ],
  },
];

/** The single firing episode of an alert: fails when it never fired or fired more than once (flapped). */
function episode(result: ScenarioResult, alertname: string, labels: Record<string, string> = {}): Firing {
  const found = firings(result, alertname, labels);
  assert.equal(
    found.length,
    1,
    `${alertname} ${JSON.stringify(labels)} fired as ${found.length} series: ${JSON.stringify(result.firing)}`,
  );
  const [only] = found as [Firing];
  assert.equal(
    only.evaluations,
    (only.last - only.first) / STEP + 1,
    `${alertname} resolved and fired again (flapped)`,
  );
  return only;
}

const clock = (seconds: number) => `${Math.floor(seconds / 60)}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;

describe('alert rules under promtool (15 s scrape and evaluation)', () => {
  let dir: string;
  const results = new Map<string, Promise<{ result?: ScenarioResult; error?: unknown }>>();

  before(() => {
    requireBinary('promtool');
    dir = mkdtempSync(path.join(os.tmpdir(), 'push-alerts-'));
    writeFileSync(path.join(dir, 'rules.yaml'), toPrometheusRulesYaml(generateAlertRules()));
    // Scenarios run concurrently, a few at a time; each test awaits its own. Settled into values so none is unhandled.
    const queue = [...SCENARIOS];
    const workers = Math.max(2, os.availableParallelism());
    const slots: Array<Promise<void>> = [];
    const resolvers = new Map<string, (value: { result?: ScenarioResult; error?: unknown }) => void>();
    for (const scenario of SCENARIOS)
      results.set(scenario.name, new Promise((resolve) => resolvers.set(scenario.name, resolve)));
    for (let i = 0; i < workers; i++) {
      slots.push(
        (async () => {
          for (let scenario = queue.shift(); scenario !== undefined; scenario = queue.shift()) {
            const settle = resolvers.get(scenario.name) as (value: {
              result?: ScenarioResult;
              error?: unknown;
            }) => void;
            await runScenario(dir, 'rules.yaml', scenario).then(
              (result) => settle({ result }),
              (error: unknown) => settle({ error }),
            );
          }
        })(),
      );
    }
  });
  after(async () => {
    await Promise.all(results.values());
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(name: string): Promise<ScenarioResult> {
    const settled = await (results.get(name) as Promise<{ result?: ScenarioResult; error?: unknown }>);
    if (settled.error !== undefined) throw settled.error;
    return settled.result as ScenarioResult;
  }

  const critical = (result: ScenarioResult) => result.firing.filter((f) => f.labels.severity === 'critical');

  it('promtool check rules accepts the shipped defaults and a tuned config', () => {
    const tuned = generateAlertRules({
      selector: 'namespace="push", job=~"sender-.*"',
      labelFilters: 'cluster="eu-1"',
      sloTarget: 0.999,
      sloPeriod: '28d',
      extraLabels: { team: 'mobile' },
      alerts: {
        PushLatencyHigh: { threshold: 1, for: '5m', severity: 'critical' },
        PushRateLimited: { disabled: true },
      },
    });
    for (const [name, groups] of [
      ['defaults', generateAlertRules()],
      ['tuned', tuned],
    ] as const) {
      const file = path.join(dir, `check-${name}.yaml`);
      writeFileSync(file, toPrometheusRulesYaml(groups));
      const output = execFileSync(requireBinary('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
      assert.match(output, /SUCCESS: \d+ rules found/, name);
    }
  });

  it('total outage of one provider: critical within 3 minutes, resolved within 10 minutes of recovery', async (t) => {
    const result = await run('total outage of one provider');
    const outage = episode(result, 'PushProviderOutage', { provider: 'fcm' });
    const [onset, recovery] = [20 * M, 35 * M];
    const resolved = outage.last + STEP;
    t.diagnostic(
      `PushProviderOutage fired ${clock(outage.first - onset)} after onset, resolved ${clock(resolved - recovery)} after recovery`,
    );
    assert.ok(outage.first > onset && outage.first - onset <= 3 * M, `fired at ${clock(outage.first)}`);
    assert.ok(resolved - recovery <= 10 * M, `resolved at ${clock(resolved)}`);
    assert.deepEqual(
      result.firing.filter((f) => f.labels.provider !== 'fcm'),
      [],
      'the healthy provider stays quiet',
    );
    // The outage also burns the fast error-budget tiers; they keep their own reset times (Alertmanager inhibits them under the outage).
    for (const tier of ['1h', '6h'])
      t.diagnostic(
        `PushErrorBudgetBurn tier ${tier} fired ${clock(episode(result, 'PushErrorBudgetBurn', { tier }).first - onset)} after onset`,
      );
  });

  it('nothing accepted with unclassified errors: PushProviderOutage within 7 minutes', async (t) => {
    const result = await run('nothing accepted, errors unclassified');
    const outage = episode(result, 'PushProviderOutage');
    t.diagnostic(
      `fired ${clock(outage.first - 10 * M)} after onset, resolved ${clock(outage.last + STEP - 25 * M)} after recovery`,
    );
    assert.ok(outage.first > 10 * M && outage.first - 10 * M <= 7 * M);
    assert.ok(outage.last + STEP - 25 * M <= 10 * M);
    assert.deepEqual(firings(result, 'PushProviderErrorRateHigh'), [], 'unknown errors are not provider-owned');
  });

  it('credentials rejected on every send: critical within 3 minutes, and it is not called an outage', async (t) => {
    const result = await run('credentials rejected on every send');
    const credentials = episode(result, 'PushCredentialsRejected');
    t.diagnostic(
      `PushCredentialsRejected fired ${clock(credentials.first - 10 * M)} after onset, resolved ${clock(credentials.last + STEP - 25 * M)} after the fix`,
    );
    assert.ok(credentials.first > 10 * M && credentials.first - 10 * M <= 3 * M);
    assert.deepEqual(firings(result, 'PushProviderOutage'), []);
  });

  it('a trickle sender whose key is revoked still pages: 3 rejections and nothing accepted in 30 minutes', async (t) => {
    const result = await run('a trickle sender with a revoked key');
    const credentials = episode(result, 'PushCredentialsRejected');
    t.diagnostic(`fired ${clock(credentials.first - 1 * H)} after the first rejected send`);
    assert.ok(credentials.first > 1 * H + 30 * M && credentials.first - 1 * H <= 40 * M);
    assert.deepEqual(
      critical(result).filter((f) => f.alertname !== 'PushCredentialsRejected'),
      [],
    );
  });

  it('10% provider errors: an alert within 15 minutes, no outage page', async (t) => {
    const result = await run('10% provider errors');
    const errors = episode(result, 'PushProviderErrorRateHigh');
    t.diagnostic(`PushProviderErrorRateHigh fired ${clock(errors.first - 10 * M)} after onset`);
    assert.ok(errors.first - 10 * M <= 15 * M && errors.first - 10 * M >= 10 * M, 'not before its 10m hold');
    assert.deepEqual(firings(result, 'PushProviderOutage'), []);
    // 10% is 20× the 0.5% budget: the 1h tier pages once the hour's ratio passes 14.4× (~43 minutes in with a long
    // healthy history; sooner here, where the 1h window holds only 10 healthy minutes).
    for (const burn of firings(result, 'PushErrorBudgetBurn'))
      t.diagnostic(`PushErrorBudgetBurn tier ${burn.labels.tier} fired ${clock(burn.first - 10 * M)} after onset`);
  });

  it('0.3% background provider errors and 30% unregistered for 24 h: no alert at all, so no critical ever', async () => {
    const result = await run('0.3% provider errors and 30% unregistered for 24 h');
    assert.deepEqual(result.firing, []);
  });

  it('one message every 5 minutes with an occasional failure: no alert at all, so no critical ever', async () => {
    const result = await run('one message every 5 minutes with an occasional failure');
    assert.deepEqual(result.firing, []);
  });

  it('sender process gone: critical within 5 minutes, resolved when it is back', async (t) => {
    const result = await run('sender process gone');
    const down = episode(result, 'PushSenderDown', { instance: INSTANCE });
    t.diagnostic(
      `PushSenderDown fired ${clock(down.first - 10 * M)} after the process died, resolved ${clock(down.last + STEP - 25 * M)} after it came back`,
    );
    assert.ok(down.first > 10 * M && down.first - 10 * M <= 5 * M);
    assert.ok(down.last < 26 * M);
    assert.deepEqual(
      result.firing.filter((f) => f.alertname !== 'PushSenderDown'),
      [],
      'no symptom alerts from the missing data',
    );
  });

  it('sender gone from service discovery: critical within 5 minutes', async (t) => {
    const result = await run('sender gone from service discovery');
    const down = episode(result, 'PushSenderDown');
    t.diagnostic(`PushSenderDown (absent) fired ${clock(down.first - 10 * M)} after the target vanished`);
    assert.ok(down.first > 10 * M && down.first - 10 * M <= 5 * M);
  });

  it('sender runs without push-telemetry: critical within 5 minutes', async (t) => {
    const result = await run('sender runs without push-telemetry');
    const down = episode(result, 'PushSenderDown', { instance: INSTANCE });
    t.diagnostic(`PushSenderDown (no push_telemetry_info) fired ${clock(down.first - 10 * M)} after it vanished`);
    assert.ok(down.first > 10 * M && down.first - 10 * M <= 5 * M);
  });

  /** Pages that only the error budget sends: sender- and capacity-owned failures count against the SLO. */
  function budgetPages(t: { diagnostic(message: string): void }, result: ScenarioResult, onset: number): void {
    assert.deepEqual(
      critical(result).filter((f) => f.alertname !== 'PushErrorBudgetBurn'),
      [],
    );
    for (const burn of firings(result, 'PushErrorBudgetBurn'))
      t.diagnostic(`PushErrorBudgetBurn tier ${burn.labels.tier} fired ${clock(burn.first - onset)} after onset`);
  }

  it('payloads rejected after a deploy: a ticket within 10 minutes (0.5% before it stays quiet); only the error budget pages', async (t) => {
    const result = await run('payloads rejected after a deploy');
    const payload = episode(result, 'PushPayloadRejected');
    t.diagnostic(`PushPayloadRejected fired ${clock(payload.first - 10 * M)} after the deploy`);
    assert.ok(payload.first > 10 * M + 5 * M && payload.first - 10 * M <= 10 * M);
    // 5.5% lost is 11× the budget: the 6h tier pages within the hour, the only page.
    budgetPages(t, result, 10 * M);
  });

  it('10% rate limited: a ticket within 15 minutes; only the error budget pages', async (t) => {
    const result = await run('rate limited');
    const limited = episode(result, 'PushRateLimited');
    t.diagnostic(`PushRateLimited fired ${clock(limited.first - 10 * M)} after onset`);
    assert.ok(limited.first - 10 * M >= 10 * M && limited.first - 10 * M <= 15 * M);
    budgetPages(t, result, 10 * M);
  });

  it('invalid tokens jump from 5% to 45%: a ticket within 35 minutes, never a page', async (t) => {
    const result = await run('invalid token surge');
    const surge = episode(result, 'PushInvalidTokenSurge');
    t.diagnostic(`PushInvalidTokenSurge fired ${clock(surge.first - 2 * H)} after the jump`);
    assert.ok(surge.first > 2 * H + 15 * M && surge.first - 2 * H <= 35 * M);
    assert.deepEqual(critical(result), [], 'audience-owned failures never page');
  });

  it('verdicts held for 10 minutes: a ticket within 2 minutes that stays open while they are held, resolved 15 minutes after; flat 0 stays quiet', async (t) => {
    const result = await run('invalid-token verdicts held');
    const held = episode(result, 'PushInvalidTokensHeld', { provider: 'apns' });
    const [onset, stop] = [10 * M, 20 * M];
    const resolved = held.last + STEP;
    t.diagnostic(
      `PushInvalidTokensHeld fired ${clock(held.first - onset)} after the first held verdict, resolved ${clock(resolved - stop)} after the last`,
    );
    assert.ok(held.first > onset && held.first - onset <= 2 * M, `fired at ${clock(held.first)}`);
    // One episode from onset to past the last held verdict: no resolve-and-reopen while the guard keeps holding.
    assert.ok(held.last > stop, `resolved at ${clock(resolved)}, while verdicts were still being held`);
    assert.ok(resolved - stop >= 14 * M && resolved - stop <= 16 * M, `resolved at ${clock(resolved)}`);
    assert.deepEqual(
      firings(result, 'PushInvalidTokensHeld', { provider: 'fcm' }),
      [],
      'steady churn with the counter flat at 0 stays quiet',
    );
    assert.deepEqual(critical(result), [], 'held verdicts are a ticket, never a page');
    for (const surge of firings(result, 'PushInvalidTokenSurge'))
      t.diagnostic(`PushInvalidTokenSurge (${surge.labels.provider}) fired ${clock(surge.first - onset)} after onset`);
  });

  it('one held batch on a sender far below the traffic guard: a ticket all the same, for 15 minutes', async (t) => {
    const result = await run('one held batch on a quiet sender');
    const held = episode(result, 'PushInvalidTokensHeld');
    t.diagnostic(
      `fired ${clock(held.first - 30 * M)} after the batch, resolved ${clock(held.last + STEP - 30 * M)} after it`,
    );
    assert.ok(held.first > 30 * M && held.first - 30 * M <= 2 * M);
    assert.ok(held.last + STEP - 30 * M <= 16 * M);
    assert.deepEqual(
      result.firing.filter((f) => f.alertname !== 'PushInvalidTokensHeld'),
      [],
    );
  });

  it('p99 latency from 0.25 s to 4.5 s: a ticket within 15 minutes', async (t) => {
    const result = await run('provider latency');
    const slow = episode(result, 'PushLatencyHigh');
    t.diagnostic(`PushLatencyHigh fired ${clock(slow.first - 10 * M)} after onset`);
    assert.ok(slow.first - 10 * M >= 10 * M && slow.first - 10 * M <= 15 * M);
  });

  it('a 4× budget burn opens the 1d and 3d ticket tiers, never the paging ones', async (t) => {
    const result = await run('slow error budget burn');
    for (const tier of ['1d', '3d'])
      t.diagnostic(
        `PushErrorBudgetBurn tier ${tier} fired at ${clock(episode(result, 'PushErrorBudgetBurn', { tier }).first)}`,
      );
    assert.deepEqual(critical(result), []);
  });

  /** Asserts the alert fired once, within (`min`, `max`] seconds after `onset`, and reports when. */
  function detected(
    t: { diagnostic(message: string): void },
    result: ScenarioResult,
    alertname: string,
    labels: Record<string, string>,
    onset: number,
    max: number,
    min = 0,
  ): Firing {
    const found = episode(result, alertname, labels);
    t.diagnostic(`${alertname} ${JSON.stringify(labels)} fired ${clock(found.first - onset)} after onset`);
    assert.ok(
      found.first - onset > min && found.first - onset <= max,
      `${alertname} ${JSON.stringify(labels)} fired at ${clock(found.first)}`,
    );
    return found;
  }

  const named = (result: ScenarioResult) =>
    result.firing.map((f) => `${f.alertname} ${f.labels.provider} ${f.labels.app}`).sort();

  it('steady traffic stops while the sender is up: PushSendingStalled within 30 minutes, for the small app among big ones and for a sender a deploy unwrapped', async (t) => {
    const result = await run('steady traffic stops while the sender is up');
    const stop = 4 * H;
    const small = detected(t, result, 'PushSendingStalled', { app: 'com.example.small' }, stop, 30 * M, 20 * M);
    detected(t, result, 'PushSendingStalled', { provider: 'apns' }, stop, 30 * M, 20 * M);
    const resolved = small.last + STEP;
    t.diagnostic(`the small app's stall resolved ${clock(resolved - 5 * H)} after its traffic came back`);
    assert.ok(resolved > 5 * H && resolved - 5 * H <= 1 * M, `resolved at ${clock(resolved)}`);
    // A silence longer than the 20 minutes keeps paging: the stop is remembered, not re-detected.
    assert.equal(
      episode(result, 'PushSendingStalled', { provider: 'apns' }).last,
      5 * H + 30 * M,
      'the unwrapped sender still pages at the end',
    );
    assert.deepEqual(
      named(result),
      ['PushSendingStalled apns com.example.app', 'PushSendingStalled fcm com.example.small'],
      'the big apps, still sending, stay quiet',
    );
  });

  it('night lull: down to a message every 15 s, or thinning out to nothing, stays quiet; a stop or a hang in the lull pages', async (t) => {
    const result = await run('night lull');
    detected(t, result, 'PushSendingStalled', { app: 'com.example.lull-stops' }, 8 * H, 30 * M, 20 * M);
    detected(t, result, 'PushProviderHung', { app: 'com.example.lull-hang' }, 8 * H, 10 * M);
    // The hung sender's silence is a stall too, later; Alertmanager's example inhibits it under the hang.
    assert.deepEqual(named(result), [
      'PushProviderHung webpush com.example.lull-hang',
      'PushSendingStalled fcm com.example.lull-stops',
      'PushSendingStalled webpush com.example.lull-hang',
    ]);
  });

  it('scheduled campaigns: bursts and the silence between stay quiet; steady traffic stopping as a campaign ends, and a campaign that hangs, page', async (t) => {
    const result = await run('scheduled campaigns');
    detected(t, result, 'PushSendingStalled', { provider: 'apns' }, 9 * H + 20 * M, 30 * M, 20 * M);
    const hung = detected(t, result, 'PushProviderHung', { provider: 'webpush' }, 9 * H + 5 * M, 10 * M);
    assert.ok(
      hung.last + STEP <= 9 * H + 41 * M,
      `the hang resolved at ${clock(hung.last + STEP)}, once its calls were dropped`,
    );
    assert.deepEqual(named(result), [
      'PushProviderHung webpush com.example.campaigns',
      'PushSendingStalled apns com.example.app',
    ]);
  });

  it('restarts every 4 minutes (counter resets, a missed scrape each): quiet while sending; a stall and a hang still page through them', async (t) => {
    const result = await run('restarts every 4 minutes');
    detected(t, result, 'PushSendingStalled', { provider: 'apns' }, 4 * H, 30 * M, 20 * M);
    detected(t, result, 'PushProviderHung', { provider: 'webpush' }, 4 * H, 10 * M);
    assert.deepEqual(
      named(result).filter((name) => !name.startsWith('PushSendingStalled webpush')),
      ['PushProviderHung webpush com.example.app', 'PushSendingStalled apns com.example.app'],
      'the busy sender stays quiet, and one missed scrape is no PushSenderDown',
    );
  });

  it("a sender's first day: silence after less than 3 hours of history stays quiet, after more it pages; a first call that hangs pages", async (t) => {
    const result = await run("a sender's first day");
    detected(t, result, 'PushSendingStalled', { provider: 'apns' }, 4 * H + 30 * M, 30 * M, 20 * M);
    detected(t, result, 'PushProviderHung', { provider: 'webpush' }, 1 * H, 10 * M);
    assert.deepEqual(named(result), [
      'PushProviderHung webpush com.example.new',
      'PushSendingStalled apns com.example.new',
    ]);
  });

  it('a steady sender down for 40 minutes is PushSenderDown, never a stall, also in the scrapes after it comes back', async () => {
    const result = await run('steady sender down for 40 minutes');
    episode(result, 'PushSenderDown');
    assert.deepEqual([...new Set(result.firing.map((f) => f.alertname))], ['PushSenderDown']);
  });

  it('calls hang: PushProviderHung within 10 minutes for the small app and the full one, resolved when the calls end; busy calls that complete stay quiet', async (t) => {
    const result = await run('calls hang');
    for (const labels of [{ app: 'com.example.small' }, { provider: 'apns' }] as Array<Record<string, string>>) {
      const hung = detected(t, result, 'PushProviderHung', labels, 30 * M, 10 * M);
      assert.ok(hung.last + STEP - 60 * M <= 1 * M, `${JSON.stringify(labels)} resolved at ${clock(hung.last + STEP)}`);
    }
    assert.deepEqual(named(result), [
      'PushProviderHung apns com.example.app',
      'PushProviderHung fcm com.example.small',
    ]);
  });
});
