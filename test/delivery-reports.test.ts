import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cert } from 'firebase-admin/app';
import { AggregatorRegistry } from 'prom-client';
import { PushTelemetry } from '../src/index.js';
import {
  apnsDeliveryMetrics,
  DeliveryReportError,
  fcmDeliveryData,
  parseApnsDeliveryMetrics,
  startDeliveryReportPoller,
  type DeliveryReportSource,
} from '../src/delivery/delivery-reports.js';
import { dateIn } from '../src/delivery/delivery-report.js';
import {
  apnsDeliveryMetricsCsv,
  startFakeApnsMetricsExport,
  startFakeFcmData,
  startSimulator,
  type FakeApnsMetricsExport,
  type FakeDeliveryDataRow,
  type FakeFcmData,
} from '../src/simulator/index.js';
import { parseExposition, scrape, valueOf, type Sample } from './helpers.js';

/**
 * The delivery report importers against the simulator's fakes over real HTTP on 127.0.0.1: the FCM Data API with its
 * OAuth2 token endpoint (reached by a real firebase-admin service-account credential, whose RS256 assertion the fake
 * verifies) and an APNs metrics export behind a bearer token or basic auth; then the gauges on a real /metrics.
 */

const PROJECT = 'demo-project';
const APP_ID = '1:1234567890:android:0123456789abcdef';
const BUNDLE = 'com.example.app';
const RATIO = 'push_provider_delivery_ratio';
const ERRORS = 'push_provider_delivery_report_errors_total';

/** `YYYY-MM-DD` `days` before today in a time zone. */
function daysAgo(days: number, zone: string): string {
  const today = dateIn(zone, Date.now());
  return new Date(Date.parse(`${today}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

function googleDate(iso: string): FakeDeliveryDataRow['date'] {
  const [year, month, day] = iso.split('-').map(Number) as [number, number, number];
  return { year, month, day };
}

const LA = 'America/Los_Angeles';
const [TODAY_LA, YESTERDAY_LA, EARLIER_LA] = [0, 1, 2].map((n) => daysAgo(n, LA)) as [string, string, string];

/** Three analytics labels on yesterday (the latest complete day), one on the day before, one on today (incomplete). */
const FCM_ROWS: FakeDeliveryDataRow[] = [
  {
    date: googleDate(TODAY_LA),
    analyticsLabel: 'welcome',
    data: { countMessagesAccepted: '1000', messageOutcomePercents: { delivered: 10, pending: 90 } },
  },
  {
    date: googleDate(YESTERDAY_LA),
    analyticsLabel: 'welcome',
    data: {
      countMessagesAccepted: '300',
      countNotificationsAccepted: '300',
      messageOutcomePercents: { delivered: 90, pending: 5, droppedDeviceInactive: 5 },
      deliveryPerformancePercents: { deliveredNoDelay: 80, delayedDeviceDoze: 10 },
    },
  },
  {
    date: googleDate(EARLIER_LA),
    analyticsLabel: 'welcome',
    data: { countMessagesAccepted: '5000', messageOutcomePercents: { delivered: 50, collapsed: 50 } },
  },
  {
    date: googleDate(YESTERDAY_LA),
    analyticsLabel: 'digest',
    data: {
      countMessagesAccepted: '100',
      // droppedSomethingNew: a field FCM might add later, counted as other.
      messageOutcomePercents: { delivered: 50, collapsed: 30, droppedSomethingNew: 20 },
      deliveryPerformancePercents: { deliveredNoDelay: 40, delayedDeviceOffline: 60, delayedSomethingNew: 5 },
    },
  },
  // proto3 leaves zeros out: a label with nothing accepted and no percentages at all.
  { date: googleDate(YESTERDAY_LA), analyticsLabel: 'empty', data: {} },
];

const UTC_TODAY = daysAgo(0, 'UTC');
const UTC_YESTERDAY = daysAgo(1, 'UTC');
const UTC_EARLIER = daysAgo(2, 'UTC');

const APNS_CSV = apnsDeliveryMetricsCsv([
  { status: 'Received by APNs', date: UTC_YESTERDAY, count: 800 },
  { pushType: 'background', status: 'Received by APNs', date: UTC_YESTERDAY, count: 200 },
  { status: 'Delivered to Device', date: UTC_YESTERDAY, count: 600 },
  { pushType: 'background', status: 'Delivered (From Storage)', date: UTC_YESTERDAY, count: 100 },
  { status: 'Stored – Device Offline', date: UTC_YESTERDAY, count: 120 },
  // A hyphen where Apple writes an en dash, and an em dash: the same status.
  { status: 'Stored - Power Considerations', date: UTC_YESTERDAY, count: 30 },
  { status: 'Discarded — Token Unregistered', date: UTC_YESTERDAY, count: 90 },
  { status: 'Discarded – Expired', date: UTC_YESTERDAY, count: 10 },
  // Statuses Apple may add: counted, as other, never as a label of their own.
  { status: 'Discarded – Quota, "Exceeded"', date: UTC_YESTERDAY, count: 40 },
  { status: 'Something <script>', date: UTC_YESTERDAY, count: 10 },
  { status: 'Received by APNs', date: UTC_EARLIER, count: 10 },
  { status: 'Delivered to Device', date: UTC_EARLIER, count: 10 },
  { status: 'Received by APNs', date: UTC_TODAY, count: 5 },
  { status: 'Discarded – Expired', date: UTC_TODAY, count: 5 },
]);

function ratios(samples: readonly Sample[], provider: string, app: string): Record<string, number> {
  return Object.fromEntries(
    samples
      .filter((s) => s.name === RATIO && s.labels.provider === provider && s.labels.app === app)
      .map((s) => [s.labels.outcome as string, Number(s.value.toFixed(6))]),
  );
}

function serviceAccount() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    clientEmail: 'push-reports@demo-project.iam.gserviceaccount.com',
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * A service-account key file, the way most users load one (`cert(path, httpAgent)`; firebase-admin hands the agent to
 * google-auth-library only for a key file path).
 */
function keyFile(name: string, privateKey: string): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      project_id: PROJECT,
      client_email: account.clientEmail,
      private_key: privateKey,
    }),
  );
  return file;
}

/** Sends google-auth-library's token request (https://oauth2.googleapis.com/token) to the fake instead. */
function tokenEndpointAgent(port: number): https.Agent {
  class ToFake extends https.Agent {
    override createConnection(): net.Socket {
      return net.connect(port, '127.0.0.1');
    }
  }
  return new ToFake();
}

let fcmData: FakeFcmData;
let apnsExport: FakeApnsMetricsExport;
const account = serviceAccount();
let dir: string;

before(async () => {
  fcmData = await startFakeFcmData({
    serviceAccounts: { [account.clientEmail]: account.publicKey },
    maxPageSize: 2,
  });
  fcmData.setDeliveryData(PROJECT, APP_ID, FCM_ROWS);
  apnsExport = await startFakeApnsMetricsExport();
  apnsExport.setExport(BUNDLE, APNS_CSV);
  dir = mkdtempSync(path.join(os.tmpdir(), 'push-delivery-'));
});

after(async () => {
  await fcmData?.close();
  await apnsExport?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('FCM Data API importer', () => {
  it('signs in with a firebase-admin credential, follows every page, and combines the latest complete day over its labels', async () => {
    const agent = tokenEndpointAgent(fcmData.port);
    const credential = cert(keyFile('account', account.privateKey), agent);
    const source = fcmDeliveryData({ project: PROJECT, appId: APP_ID, credential, baseUrl: fcmData.url });
    const before = { ...fcmData.stats };
    const report = await source.fetchLatest();
    agent.destroy();
    assert.ok(report);
    assert.equal(report.date, YESTERDAY_LA);
    assert.equal(report.messages, 400);
    assert.equal(report.app, PROJECT);
    const round = Object.fromEntries(Object.entries(report.outcomes).map(([k, v]) => [k, Number(v.toFixed(6))]));
    // welcome (300) and digest (100) weighted 3:1; the empty label weighs nothing.
    assert.deepEqual(round, {
      delivered: 0.8,
      pending: 0.0375,
      collapsed: 0.075,
      dropped_too_many_pending_messages: 0,
      dropped_app_force_stopped: 0,
      dropped_device_inactive: 0.0375,
      other: 0.05,
      delivered_no_delay: 0.7,
      delayed_device_offline: 0.15,
      delayed_device_doze: 0.075,
      delayed_message_throttled: 0,
      delayed_user_stopped: 0,
    });
    // Five rows at two per page: three pages, one token.
    assert.equal(fcmData.stats.dataRequests - before.dataRequests, 3);
    assert.equal(fcmData.stats.tokenRequests - before.tokenRequests, 1);
    assert.equal(fcmData.stats.unauthorized, before.unauthorized);
  });

  it('a credential the token endpoint refuses (another key) is a credential error; a token it never issued is a 401 auth error', async () => {
    const stranger = serviceAccount();
    const agent = tokenEndpointAgent(fcmData.port);
    const credential = cert(keyFile('stranger', stranger.privateKey), agent);
    const refused = fcmDeliveryData({ project: PROJECT, appId: APP_ID, credential, baseUrl: fcmData.url });
    await assert.rejects(refused.fetchLatest(), (error: unknown) => {
      assert.ok(error instanceof DeliveryReportError);
      assert.equal(error.reason, 'credential');
      assert.doesNotMatch(error.message, /PRIVATE KEY|Signature/);
      return true;
    });
    agent.destroy();
    const before = fcmData.stats.unauthorized;
    const forged = fcmDeliveryData({
      project: PROJECT,
      appId: APP_ID,
      getAccessToken: () => 'ya29.forged-token',
      baseUrl: fcmData.url,
    });
    await assert.rejects(forged.fetchLatest(), (error: unknown) => {
      assert.ok(error instanceof DeliveryReportError);
      assert.deepEqual([error.reason, error.status], ['auth', 401]);
      assert.doesNotMatch(error.message, /forged/);
      return true;
    });
    assert.equal(fcmData.stats.unauthorized, before + 1);
  });

  it('takes the fixed test token, google-auth-library shapes, and says not_found for an app the API does not know', async () => {
    for (const answer of [fcmData.accessToken, { token: fcmData.accessToken }, { access_token: fcmData.accessToken }]) {
      const source = fcmDeliveryData({
        project: PROJECT,
        appId: APP_ID,
        credential: { getAccessToken: async () => answer },
        baseUrl: fcmData.url,
      });
      assert.equal((await source.fetchLatest())?.date, YESTERDAY_LA);
    }
    const unknown = fcmDeliveryData({
      project: PROJECT,
      appId: '1:1234567890:android:ffff',
      getAccessToken: () => fcmData.accessToken,
      baseUrl: fcmData.url,
    });
    await assert.rejects(unknown.fetchLatest(), { name: 'DeliveryReportError', reason: 'not_found' });
  });

  it('refuses malformed answers: a percentage over 100, a bad date, a count that is no integer', async () => {
    const bad: Array<[string, FakeDeliveryDataRow]> = [
      ['percentage', { date: googleDate(YESTERDAY_LA), data: { messageOutcomePercents: { delivered: 150 } } }],
      ['date', { date: { year: 2026, month: 13, day: 40 }, data: {} }],
      ['count', { date: googleDate(YESTERDAY_LA), data: { countMessagesAccepted: '-3' } }],
    ];
    for (const [what, row] of bad) {
      fcmData.setDeliveryData(PROJECT, '1:1:android:bad', [row]);
      const source = fcmDeliveryData({
        project: PROJECT,
        appId: '1:1:android:bad',
        getAccessToken: () => fcmData.accessToken,
        baseUrl: fcmData.url,
      });
      await assert.rejects(source.fetchLatest(), { reason: 'malformed' }, what);
    }
    fcmData.setDeliveryData(PROJECT, '1:1:android:today', [FCM_ROWS[0] as FakeDeliveryDataRow]);
    const onlyToday = fcmDeliveryData({
      project: PROJECT,
      appId: '1:1:android:today',
      getAccessToken: () => fcmData.accessToken,
      baseUrl: fcmData.url,
    });
    assert.equal(await onlyToday.fetchLatest(), undefined, 'no complete day yet');
  });

  it('checks its options when created', () => {
    const ok = { project: PROJECT, appId: APP_ID, getAccessToken: () => 't' };
    assert.throws(() => fcmDeliveryData({ ...ok, project: 'My Project' }), /options.project/);
    assert.throws(() => fcmDeliveryData({ ...ok, appId: 'com.example.app' }), /options.appId/);
    assert.throws(() => fcmDeliveryData({ ...ok, app: 'bad label!' }), /options.app /);
    assert.throws(() => fcmDeliveryData({ ...ok, baseUrl: 'http://fcmdata.example.com' }), /https URL/);
    assert.throws(() => fcmDeliveryData({ project: PROJECT, appId: APP_ID }), /exactly one of credential/);
    assert.throws(() => fcmDeliveryData({ ...ok, credential: {} as never }), /exactly one of credential/);
    assert.throws(
      () => fcmDeliveryData({ project: PROJECT, appId: APP_ID, credential: {} as never }),
      /getAccessToken\(\) method/,
    );
    assert.throws(() => fcmDeliveryData({ ...ok, bogus: 1 } as never), /unknown option "bogus"/);
  });
});

describe('APNs delivery metrics importer', () => {
  const expected = {
    delivered: 0.6,
    delivered_from_storage: 0.1,
    stored_device_offline: 0.12,
    stored_power_considerations: 0.03,
    discarded_token_unregistered: 0.09,
    discarded_expired: 0.01,
    discarded_disabled: 0,
    other: 0.05,
  };
  const round = (outcomes: Readonly<Record<string, number>> | undefined) =>
    Object.fromEntries(Object.entries(outcomes ?? {}).map(([k, v]) => [k, Number(v.toFixed(6))]));

  it('reads the export from a URL with a bearer token or basic auth, a file and a string, the en dash and its look-alikes', async () => {
    const file = path.join(dir, 'metrics.csv');
    writeFileSync(file, `\ufeff${APNS_CSV}`);
    const sources = [
      apnsDeliveryMetrics({ app: BUNDLE, url: apnsExport.exportUrl(BUNDLE), auth: { bearer: apnsExport.token } }),
      apnsDeliveryMetrics({
        app: BUNDLE,
        url: apnsExport.exportUrl(BUNDLE),
        auth: { bearer: async () => apnsExport.token },
      }),
      apnsDeliveryMetrics({
        app: BUNDLE,
        url: apnsExport.exportUrl(BUNDLE),
        auth: { username: apnsExport.username, password: apnsExport.password },
      }),
      apnsDeliveryMetrics({ app: BUNDLE, file }),
      apnsDeliveryMetrics({ app: BUNDLE, text: APNS_CSV.replaceAll('\r\n', '\n') }),
    ];
    for (const source of sources) {
      const report = await source.fetchLatest();
      assert.deepEqual(
        [report?.provider, report?.app, report?.date, report?.messages],
        ['apns', BUNDLE, UTC_YESTERDAY, 1000],
      );
      assert.deepEqual(round(report?.outcomes), expected);
    }
  });

  it('a wrong token or password is an auth error; a missing file not_found', async () => {
    const before = apnsExport.stats.unauthorized;
    for (const auth of [{ bearer: 'wrong' }, { username: apnsExport.username, password: 'wrong' }]) {
      const source = apnsDeliveryMetrics({ app: BUNDLE, url: apnsExport.exportUrl(BUNDLE), auth });
      await assert.rejects(source.fetchLatest(), { reason: 'auth', status: 401 });
    }
    await assert.rejects(apnsDeliveryMetrics({ app: BUNDLE, url: apnsExport.exportUrl(BUNDLE) }).fetchLatest(), {
      reason: 'auth',
    });
    assert.equal(apnsExport.stats.unauthorized, before + 3);
    await assert.rejects(apnsDeliveryMetrics({ app: BUNDLE, file: path.join(dir, 'absent.csv') }).fetchLatest(), {
      reason: 'not_found',
    });
  });

  it('names the line of a malformed export and never reads a partial one', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /is empty/],
      ['Push Type,State,Day,Number\r\nalert,x,2026-01-01,1\r\n', /no header with Status, Date and Count/],
      [`Push Type,Status,Date (UTC),Count\nalert,Delivered to Device,${UTC_YESTERDAY}\n`, /line 2 has 3 fields/],
      [
        `Push Type,Status,Date (UTC),Count\nalert,Delivered to Device,${UTC_YESTERDAY},12a\n`,
        /line 2 has no valid count/,
      ],
      ['Push Type,Status,Date (UTC),Count\nalert,Delivered to Device,2026-02-30,1\n', /line 2 has no valid date/],
      [`Push Type,Status,Date (UTC),Count\nalert,"Delivered to Device,${UTC_YESTERDAY},1\n`, /quote opened on line 2/],
      [
        `Push Type,Status,Date (UTC),Count\nalert,${'x'.repeat(101)},${UTC_YESTERDAY},1\n`,
        /line 2 has a status over 100/,
      ],
    ];
    for (const [csv, message] of cases)
      assert.throws(
        () => parseApnsDeliveryMetrics(csv, BUNDLE),
        (error: unknown) => {
          assert.ok(error instanceof DeliveryReportError, String(error));
          assert.equal(error.reason, 'malformed');
          assert.match(error.message, message);
          return true;
        },
      );
  });

  it('reads quoted fields with line breaks, US dates, thousands separators, and no "Received by APNs" row', () => {
    const [month, day, year] = [UTC_YESTERDAY.slice(5, 7), UTC_YESTERDAY.slice(8), UTC_YESTERDAY.slice(0, 4)];
    const csv = [
      'Status,Count,Date',
      `Delivered to Device,"1,500",${Number(month)}/${Number(day)}/${year}`,
      `"Discarded – Token
Unregistered","500",${UTC_YESTERDAY}T00:00:00Z`,
    ].join('\r\n');
    const report = parseApnsDeliveryMetrics(csv, BUNDLE);
    assert.equal(report?.messages, 2000);
    assert.equal(report?.outcomes.delivered, 0.75);
    assert.equal(report?.outcomes.discarded_token_unregistered, 0.25);
  });

  it('checks its options when created', () => {
    assert.throws(() => apnsDeliveryMetrics({ app: BUNDLE } as never), /exactly one of file/);
    assert.throws(() => apnsDeliveryMetrics({ app: BUNDLE, file: 'a', text: 'b' }), /exactly one of file/);
    assert.throws(() => apnsDeliveryMetrics({ app: 'bad app', text: '' }), /options.app/);
    assert.throws(() => apnsDeliveryMetrics({ app: BUNDLE, text: '', auth: { bearer: 'x' } }), /url only/);
    assert.throws(() => apnsDeliveryMetrics({ app: BUNDLE, url: 'http://example.com/x.csv' }), /https URL/);
    assert.throws(
      () => apnsDeliveryMetrics({ app: BUNDLE, url: 'https://u:p@example.com/x.csv' }),
      /credentials in the URL/,
    );
    assert.throws(
      () =>
        apnsDeliveryMetrics({ app: BUNDLE, url: 'https://example.com/x.csv', auth: { username: 'a:b', password: '' } }),
      /username without/,
    );
  });
});

describe('startDeliveryReportPoller', () => {
  it('sets the gauges on the telemetry registry, counts failures by reason, and /metrics shows both', async () => {
    const telemetry = new PushTelemetry();
    const errors: string[] = [];
    const poller = startDeliveryReportPoller({
      telemetry,
      runOnStart: false,
      sources: [
        fcmDeliveryData({
          project: PROJECT,
          appId: APP_ID,
          app: 'com.example.android',
          getAccessToken: () => fcmData.accessToken,
          baseUrl: fcmData.url,
        }),
        apnsDeliveryMetrics({ app: BUNDLE, url: apnsExport.exportUrl(BUNDLE), auth: { bearer: apnsExport.token } }),
        apnsDeliveryMetrics({ app: 'com.example.broken', text: 'Status,Date,Count\n"unterminated' }),
      ],
      onError: (error, source) => {
        errors.push(`${source.app} ${error.reason}`);
        throw new Error('a throwing handler changes nothing');
      },
    });
    const run = await poller.runNow();
    assert.deepEqual(run.reports.map((r) => r.app).sort(), ['com.example.android', BUNDLE]);
    assert.deepEqual(errors, ['com.example.broken malformed']);
    await poller.runNow();
    await poller.stop();
    const { samples } = await scrape(telemetry);
    assert.equal(ratios(samples, 'fcm', 'com.example.android').delivered, 0.8);
    assert.equal(Object.keys(ratios(samples, 'fcm', 'com.example.android')).length, 12);
    assert.deepEqual(ratios(samples, 'apns', BUNDLE), expectedApns());
    assert.equal(
      valueOf(samples, 'push_provider_delivery_report_timestamp_seconds', { provider: 'apns', app: BUNDLE }),
      Date.parse(`${UTC_YESTERDAY}T00:00:00Z`) / 1000,
    );
    assert.equal(
      valueOf(samples, 'push_provider_delivery_report_messages', { provider: 'fcm', app: 'com.example.android' }),
      400,
    );
    assert.equal(valueOf(samples, ERRORS, { provider: 'apns', app: 'com.example.broken', reason: 'malformed' }), 2);
    assert.equal(
      valueOf(samples, ERRORS, { provider: 'apns', app: BUNDLE, reason: 'auth' }),
      0,
      'every reason starts at 0',
    );
    // Nothing from the export's text reached a label.
    assert.ok(!samples.some((s) => Object.values(s.labels).some((v) => /script|Quota|Exceeded/.test(v))));
    // The contract's metrics are still there, beside the report gauges.
    assert.ok(samples.some((s) => s.name === 'push_telemetry_info'));
  });

  it('every worker of a cluster polling the same report: the primary shows it once, not summed', async () => {
    // What startClusterMetricsServer's primary does with the workers' registries (prom-client's AggregatorRegistry).
    const workers = [new PushTelemetry(), new PushTelemetry(), new PushTelemetry()];
    for (const telemetry of workers) {
      const poller = startDeliveryReportPoller({
        telemetry,
        runOnStart: false,
        sources: [
          apnsDeliveryMetrics({ app: BUNDLE, url: apnsExport.exportUrl(BUNDLE), auth: { bearer: apnsExport.token } }),
        ],
      });
      await poller.runNow();
      await poller.stop();
    }
    const aggregated = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((t) => t.registry.getMetricsAsJSON())),
    );
    const samples = parseExposition(await aggregated.metrics());
    assert.deepEqual(ratios(samples, 'apns', BUNDLE), expectedApns());
    assert.equal(
      valueOf(samples, 'push_provider_delivery_report_timestamp_seconds', { provider: 'apns', app: BUNDLE }),
      Date.parse(`${UTC_YESTERDAY}T00:00:00Z`) / 1000,
    );
  });

  it('never overlaps runs, polls on its interval with jitter, and stop() waits for the run under way', async () => {
    let calls = 0;
    let concurrent = 0;
    let most = 0;
    const slow: DeliveryReportSource = {
      provider: 'apns',
      app: 'com.example.slow',
      async fetchLatest() {
        calls++;
        most = Math.max(most, ++concurrent);
        await new Promise((resolve) => setTimeout(resolve, 300));
        concurrent--;
        return parseApnsDeliveryMetrics(APNS_CSV, 'com.example.slow');
      },
    };
    const poller = startDeliveryReportPoller({
      telemetry: new PushTelemetry(),
      sources: [slow],
      intervalMs: 1000,
      jitter: 0.5,
    });
    const [a, b] = [poller.runNow(), poller.runNow()];
    assert.equal(a, b, 'a second runNow joins the run under way');
    await a;
    await new Promise((resolve) => setTimeout(resolve, 1700));
    const stopping = poller.runNow();
    await poller.stop();
    assert.equal(concurrent, 0, 'stop() waited for the run');
    assert.equal(most, 1);
    // The run on start (joined by both runNow calls), at least one timed run within 1.7 s, and the last runNow.
    assert.ok(calls >= 3 && calls <= 4, String(calls));
    assert.equal((await stopping).reports.length, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.ok(calls <= 4, 'nothing runs after stop()');
  });

  it('rejects bad options when started', () => {
    const telemetry = new PushTelemetry();
    const source = apnsDeliveryMetrics({ app: BUNDLE, text: APNS_CSV });
    assert.throws(() => startDeliveryReportPoller({ telemetry, sources: [] }), /non-empty array/);
    assert.throws(() => startDeliveryReportPoller({ telemetry, sources: [source, source] }), /overwrite each other/);
    assert.throws(() => startDeliveryReportPoller({ telemetry, sources: [source], intervalMs: 10 }), /intervalMs/);
    assert.throws(() => startDeliveryReportPoller({ telemetry, sources: [source], jitter: 1 }), /jitter/);
    assert.throws(() => startDeliveryReportPoller({ telemetry, sources: [{} as never] }), /sources\[0\]/);
    assert.throws(() => startDeliveryReportPoller({ telemetry: {} as never, sources: [source] }), /PushTelemetry/);
  });
});

describe('the simulator', () => {
  it('starts both delivery report fakes with deliveryReports: true, and closes them', async () => {
    const simulator = await startSimulator({ providers: [], deliveryReports: true });
    const fakes = simulator.deliveryReports;
    assert.ok(fakes);
    fakes.apnsMetrics.setExport(BUNDLE, APNS_CSV);
    const report = await apnsDeliveryMetrics({
      app: BUNDLE,
      url: fakes.apnsMetrics.exportUrl(BUNDLE),
      auth: { bearer: fakes.apnsMetrics.token },
    }).fetchLatest();
    assert.equal(report?.messages, 1000);
    await simulator.close();
    await assert.rejects(fetch(fakes.fcmData.tokenUrl, { method: 'POST' }));
  });
});

function expectedApns(): Record<string, number> {
  return {
    delivered: 0.6,
    delivered_from_storage: 0.1,
    stored_device_offline: 0.12,
    stored_power_considerations: 0.03,
    discarded_token_unregistered: 0.09,
    discarded_expired: 0.01,
    discarded_disabled: 0,
    other: 0.05,
  };
}
