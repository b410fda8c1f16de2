import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as units from '@grafana/grafana-foundation-sdk/units';
import type { AnnotationQuery, DashboardLink, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DASHBOARD_TAG, DASHBOARD_UIDS, generateDashboards } from '../src/monitoring/dashboards/index.js';
import { DEFAULT_RUNBOOK_URL_BASE } from '../src/monitoring/config.js';
import {
  everyTarget,
  fixedWindowReason,
  panelsOf,
  QUERY_VARIABLES,
  targetsOf,
  type AnyPanel,
} from './dashboard-model.js';

/**
 * dashboard-linter's rules (research/alerting-and-dashboards.md), over every panel and target of the generated
 * dashboards. Exclusions, as a `.lint` file would hold them:
 * - template-instance-rule, target-instance-rule: no instance variable. The SLO and burn-rate series are recorded
 *   by (job, provider, app), so an instance filter could not apply to them; provider and app are the label
 *   variables every query filters by instead, and they are checked here like the linter checks instance.
 * - target-rate-interval-rule: the panels in FIXED_WINDOW_PANELS (dashboard-model.ts), each with its reason.
 * PromQL validity is checked for real by the query test, which sends every expression to Prometheus.
 */

const dashboards = generateDashboards();
const all = Object.values(dashboards);
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const GRAFANA_UNITS = new Set<string>(
  Object.values(units as Record<string, unknown>).filter((value): value is string => typeof value === 'string'),
);
const COUNTER = /(?:_total|_bucket|_count|_sum)$/;

function variable(dashboard: (typeof all)[number], name: string): VariableModel {
  const found = dashboard.templating.list?.find((v) => v.name === name);
  assert.ok(found, `${dashboard.uid}: variable ${name}`);
  return found;
}

/** Every `name{…}` selector of an expression, with where it sits. */
function selectors(expr: string): Array<{ metric: string; matchers: string; before: string; after: string }> {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({
    metric: m[1] as string,
    matchers: m[2] as string,
    before: expr.slice(0, m.index),
    after: expr.slice((m.index ?? 0) + m[0].length),
  }));
}

function forEachPanel(fn: (panel: AnyPanel, dashboard: string) => void): void {
  for (const dashboard of all) for (const panel of panelsOf(dashboard)) fn(panel, dashboard.uid ?? '');
}

describe('dashboard-linter rules: dashboards and variables', () => {
  it('keeps the stable uids, the shared tag and the SDK schema version', () => {
    assert.deepEqual(
      all.map((d) => d.uid),
      Object.values(DASHBOARD_UIDS),
    );
    assert.deepEqual(
      all.map((d) => d.title),
      [
        'Push notifications / Overview',
        'Push notifications / Provider health',
        'Push notifications / SLO & alerts',
        'Push notifications / Delivery',
      ],
    );
    for (const dashboard of all) {
      assert.ok(dashboard.tags?.includes(DASHBOARD_TAG));
      assert.equal(dashboard.schemaVersion, 42);
      assert.ok((dashboard.description ?? '').length > 40, `${dashboard.uid}: description`);
    }
  });

  it('template-datasource-rule: exactly one Prometheus datasource variable named datasource', () => {
    for (const dashboard of all) {
      const datasources = dashboard.templating.list?.filter((v) => v.type === 'datasource') ?? [];
      assert.equal(datasources.length, 1, dashboard.uid);
      assert.deepEqual(
        [datasources[0]?.name, datasources[0]?.label, datasources[0]?.query],
        ['datasource', 'Data source', 'prometheus'],
      );
    }
  });

  it('template-job-rule: a multi-select job query on $datasource with allValue .+', () => {
    for (const dashboard of all) {
      const job = variable(dashboard, 'job');
      assert.deepEqual(
        [job.type, job.label, job.datasource, job.multi, job.includeAll, job.allValue],
        ['query', 'Job', DATASOURCE, true, true, '.+'],
        dashboard.uid,
      );
    }
  });

  it('label variables (provider, app, group): multi, All, and .* so that series without the label still match; group only where a query uses it', () => {
    for (const dashboard of all) {
      // The Delivery dashboard's receipts and provider reports carry no group label: no picker that filters nothing.
      const group = JSON.stringify(dashboard.panels).includes('$group');
      assert.equal(group, dashboard.uid !== 'push-delivery', `${dashboard.uid} queries by $group`);
      const labels = group ? ['provider', 'app', 'group'] : ['provider', 'app'];
      for (const name of labels) {
        const v = variable(dashboard, name);
        assert.deepEqual(
          [v.type, v.datasource, v.multi, v.includeAll, v.allValue],
          ['query', DATASOURCE, true, true, '.*'],
          `${dashboard.uid} ${name}`,
        );
      }
      assert.deepEqual(
        dashboard.templating.list?.map((v) => v.name),
        ['datasource', 'job', ...labels],
      );
    }
  });

  it('template-on-time-change-reload-rule and template-label-promql-rule: query variables reload and use label_values(selector, label)', () => {
    for (const dashboard of all) {
      for (const v of dashboard.templating.list?.filter((v) => v.type === 'query') ?? []) {
        assert.equal(v.refresh, 2, `${dashboard.uid} ${v.name}`);
        assert.match(String(v.query), new RegExp(`^label_values\\(push_\\w+\\{[^}]*\\}, ${v.name}\\)$`));
      }
    }
  });

  it('links the three dashboards to each other (by tag, keeping time and variables) and to the runbooks', () => {
    for (const dashboard of all) {
      const links = dashboard.links as DashboardLink[];
      const byTag = links.find((link) => link.type === 'dashboards');
      assert.deepEqual(
        [byTag?.tags, byTag?.includeVars, byTag?.keepTime],
        [[DASHBOARD_TAG], true, true],
        dashboard.uid,
      );
      assert.ok(
        links.some((link) => link.type === 'link' && link.url === DEFAULT_RUNBOOK_URL_BASE),
        `${dashboard.uid}: runbooks link`,
      );
    }
    const runbookLinks = all.flatMap((d) => panelsOf(d).flatMap((p) => (p as { links?: DashboardLink[] }).links ?? []));
    assert.ok(runbookLinks.length >= 9);
    for (const link of runbookLinks)
      assert.match(
        link.url ?? '',
        /^https:\/\/github\.com\/push-telemetry\/push-telemetry\/blob\/main\/docs\/runbooks\/push(-[a-z]+)+\.md$/,
      );
  });

  it('marks firing Push* alerts on the time series panels (an ALERTS annotation on $datasource)', () => {
    for (const dashboard of all) {
      const annotations = (dashboard.annotations.list ?? []) as Array<AnnotationQuery & { expr?: string }>;
      assert.equal(annotations.length, 1);
      assert.deepEqual(annotations[0]?.datasource, DATASOURCE);
      assert.match(annotations[0]?.expr ?? '', /^ALERTS\{alertname=~"Push\.\+".*alertstate="firing"\}$/);
    }
  });
});

describe('dashboard-linter rules: every panel', () => {
  it('panel-datasource-rule: every panel (rows too) and every target uses ${datasource}, never a fixed uid', () => {
    forEachPanel((panel, dashboard) => {
      assert.deepEqual(panel.datasource, DATASOURCE, `${dashboard}: ${panel.title}`);
      for (const target of targetsOf(panel))
        assert.deepEqual(target.datasource, DATASOURCE, `${dashboard}: ${panel.title} ${target.refId}`);
    });
    const uids = [...JSON.stringify(all).matchAll(/"uid":"([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(new Set(uids), new Set(['${datasource}', ...Object.values(DASHBOARD_UIDS)]));
  });

  it('panel-title-description-rule: a title and a description that says how to read the panel', () => {
    forEachPanel((panel, dashboard) => {
      assert.ok((panel.title ?? '').length > 0, `${dashboard}: a panel without title`);
      if (panel.type !== 'row')
        assert.ok(
          ((panel as { description?: string }).description ?? '').length >= 60,
          `${dashboard}: ${panel.title}: description`,
        );
    });
  });

  it('panel-units-rule: every panel has a unit Grafana knows', () => {
    forEachPanel((panel, dashboard) => {
      if (panel.type === 'row') return;
      const unit = (panel as { fieldConfig?: { defaults?: { unit?: string } } }).fieldConfig?.defaults?.unit;
      assert.ok(unit !== undefined && GRAFANA_UNITS.has(unit), `${dashboard}: ${panel.title}: unit ${unit}`);
    });
  });

  it('legends: visible on every time series and heatmap, and every target names its series', () => {
    forEachPanel((panel, dashboard) => {
      const options = (
        panel as { options?: { legend?: { showLegend?: boolean; displayMode?: string; show?: boolean } } }
      ).options;
      if (panel.type === 'timeseries')
        assert.ok(
          options?.legend?.showLegend === true && options.legend.displayMode !== 'hidden',
          `${dashboard}: ${panel.title}`,
        );
      if (panel.type === 'heatmap') assert.equal(options?.legend?.show, true, `${dashboard}: ${panel.title}`);
      for (const target of targetsOf(panel))
        assert.ok((target.legendFormat ?? '').length > 0, `${dashboard}: ${panel.title} ${target.refId}`);
    });
  });

  it('sets the ids and refIds the SDK leaves unset, unique, on a grid without overlaps', () => {
    for (const dashboard of all) {
      const panels = panelsOf(dashboard);
      const ids = panels.map((panel) => panel.id);
      assert.ok(
        ids.every((id) => Number.isInteger(id) && (id as number) > 0),
        dashboard.uid,
      );
      assert.equal(new Set(ids).size, ids.length, dashboard.uid);
      for (const panel of panels)
        assert.deepEqual(
          targetsOf(panel).map((t) => t.refId),
          targetsOf(panel).map((_, i) => String.fromCharCode(65 + i)),
        );
      const cells = new Set<string>();
      for (const { gridPos: g, title } of panels) {
        assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${dashboard.uid}: ${title}`);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            assert.ok(!cells.has(`${x},${y}`), `${dashboard.uid}: ${title} overlaps at ${x},${y}`);
            cells.add(`${x},${y}`);
          }
      }
    }
  });

  it('shows held invalid-token verdicts on the Overview beside the stale tokens, in their unit, linking the PushInvalidTokensHeld runbook', () => {
    const panels = panelsOf(dashboards.overview);
    const stale = panels.find((p) => p.title === 'Stale tokens (unregistered + invalid_token)');
    const held = panels.find((p) => p.title === 'Invalid-token verdicts held') as AnyPanel & {
      links?: DashboardLink[];
      fieldConfig?: { defaults?: { unit?: string } };
    };
    assert.ok(stale?.gridPos && held?.gridPos);
    assert.deepEqual(
      [held.gridPos.y, held.gridPos.x, held.gridPos.h],
      [stale.gridPos.y, stale.gridPos.x + stale.gridPos.w, stale.gridPos.h],
      'on the same row, right of the stale tokens',
    );
    assert.equal(
      held.fieldConfig?.defaults?.unit,
      (stale as { fieldConfig?: { defaults?: { unit?: string } } }).fieldConfig?.defaults?.unit,
    );
    assert.deepEqual(
      targetsOf(held).map((t) => [t.expr, t.legendFormat]),
      [
        [
          'sum by (provider, app) (rate(push_invalid_tokens_held_total{job="push-sender", job=~"$job", provider=~"$provider", app=~"$app"}[$__rate_interval]))',
          '{{provider}} {{app}}',
        ],
      ],
    );
    assert.deepEqual(
      held.links?.map((link) => link.url),
      [`${DEFAULT_RUNBOOK_URL_BASE}push-invalid-tokens-held.md`],
    );
    // The SLO dashboard's alert table links every runbook, the new one included.
    const table = panelsOf(dashboards.slo).find((p) => p.title === 'Push alerts firing and pending') as {
      links?: DashboardLink[];
    };
    assert.ok(table.links?.some((link) => link.url === `${DEFAULT_RUNBOOK_URL_BASE}push-invalid-tokens-held.md`));
  });

  it('repeats the Provider health row by provider, with its panels after it (an expanded row)', () => {
    const [row, ...rest] = panelsOf(dashboards.providerHealth);
    assert.deepEqual(
      [
        row?.type,
        (row as { repeat?: string }).repeat,
        (row as { collapsed?: boolean }).collapsed,
        (row as { panels?: unknown[] }).panels,
      ],
      ['row', 'provider', false, []],
    );
    assert.deepEqual(
      rest.map((p) => p.title),
      [
        'Provider-owned error ratio',
        'Time since last accepted message',
        'Calls in flight vs completed',
        'Request outcome',
        'Latency heatmap',
        'Rate limiting',
        'Receipts',
      ],
    );
  });

  it('shows calls in flight against completions beside the time since the last accepted message, linking the hang and stall runbooks', () => {
    type Linked = AnyPanel & {
      links?: DashboardLink[];
      fieldConfig?: { defaults?: { unit?: string }; overrides?: unknown[] };
    };
    const panels = panelsOf(dashboards.providerHealth) as Linked[];
    const since = panels.find((p) => p.title === 'Time since last accepted message');
    const calls = panels.find((p) => p.title === 'Calls in flight vs completed');
    assert.ok(since?.gridPos && calls?.gridPos);
    assert.deepEqual(
      [calls.gridPos.y, calls.gridPos.x, calls.gridPos.h],
      [since.gridPos.y, since.gridPos.x + since.gridPos.w, since.gridPos.h],
      'on the first line, right of the time since the last accepted message',
    );
    const filters = 'job="push-sender", job=~"$job", provider=~"$provider", app=~"$app"';
    assert.deepEqual(
      targetsOf(calls).map((t) => [t.expr, t.legendFormat]),
      [
        [`sum by (provider, app) (push_requests_in_flight{${filters}})`, 'in flight {{provider}} {{app}}'],
        [
          `sum by (provider, app) (rate(push_request_duration_seconds_count{${filters}, group=~"$group"}[$__rate_interval]))`,
          'completed/s {{provider}} {{app}}',
        ],
      ],
    );
    // Two units on one panel: calls on the left, the completions' rate on a right axis of its own.
    const rightAxis = '^completed/s ';
    assert.equal(calls.fieldConfig?.defaults?.unit, 'short');
    assert.deepEqual(calls.fieldConfig?.overrides, [
      {
        matcher: { id: 'byRegexp', options: rightAxis },
        properties: [
          { id: 'custom.axisPlacement', value: 'right' },
          { id: 'unit', value: 'reqps' },
        ],
      },
    ]);
    // Grafana matches the regex against the series names: the completions', never the in-flight ones.
    const [inFlight, completed] = targetsOf(calls).map((t) => (t.legendFormat ?? '').replace('{{provider}}', 'fcm'));
    assert.ok(new RegExp(rightAxis).test(completed ?? '') && !new RegExp(rightAxis).test(inFlight ?? ''));
    assert.deepEqual(
      calls.links?.map((link) => link.url),
      [`${DEFAULT_RUNBOOK_URL_BASE}push-provider-hung.md`, `${DEFAULT_RUNBOOK_URL_BASE}push-sending-stalled.md`],
    );
    assert.deepEqual(
      since.links?.map((link) => link.url),
      [`${DEFAULT_RUNBOOK_URL_BASE}push-sending-stalled.md`],
    );
    assert.deepEqual(
      targetsOf(since).map((t) => t.expr),
      [`time() - max by (provider, app) (push_last_success_timestamp_seconds{${filters}})`],
    );
    // The SLO dashboard's alert table links every runbook, the two new ones included.
    const table = panelsOf(dashboards.slo).find((p) => p.title === 'Push alerts firing and pending') as Linked;
    for (const file of ['push-provider-hung', 'push-sending-stalled'])
      assert.ok(
        table.links?.some((link) => link.url === `${DEFAULT_RUNBOOK_URL_BASE}${file}.md`),
        file,
      );
  });
});

describe('the Delivery dashboard', () => {
  const panels = panelsOf(dashboards.delivery) as Array<AnyPanel & { links?: DashboardLink[] }>;
  const filters = 'job="push-sender", job=~"$job", provider=~"$provider", app=~"$app"';

  it('draws the funnel sent → accepted → delivered → displayed → opened per provider, from the messages and receipts counters', () => {
    const funnel = panels.find((p) => p.title === 'Delivery funnel') as AnyPanel;
    assert.deepEqual(
      targetsOf(funnel).map((t) => t.legendFormat),
      ['sent', 'accepted', 'delivered', 'displayed', 'opened'].map((stage) => `{{provider}} ${stage}`),
    );
    assert.deepEqual(
      targetsOf(funnel).map((t) => /\(rate\((\w+)\{[^}]*?(?:, (outcome|event)="(\w+)")?\}/.exec(t.expr)?.slice(1)),
      [
        ['push_messages_total', undefined, undefined],
        ['push_messages_total', 'outcome', 'accepted'],
        ['push_device_receipts_total', 'event', 'delivered'],
        ['push_device_receipts_total', 'event', 'displayed'],
        ['push_device_receipts_total', 'event', 'opened'],
      ],
    );
  });

  it("draws PushConfirmedDeliveryLow's line (half the mean recorded hourly ratio of the past day) beside the ratio, linking its runbook", () => {
    const ratio = panels.find((p) => p.title === 'Confirmed delivery vs usual');
    assert.ok(ratio);
    const [now, line] = targetsOf(ratio).map((t) => t.expr);
    // Only where devices posted a receipt in the past day: the endpoint shows every allowed pair at 0 from the start.
    assert.equal(
      now,
      [
        `(sum by (job, provider, app) (rate(push_device_receipts_total{${filters}, event="delivered"}[$__rate_interval]))`,
        'and on (job, provider, app)',
        `sum by (job, provider, app) (increase(push_device_receipts_total{${filters}}[1d])) > 0)`,
        '/',
        `(sum by (job, provider, app) (rate(push_messages_total{${filters}, outcome="accepted"}[$__rate_interval])) > 0)`,
      ].join('\n'),
    );
    assert.equal(
      line,
      '0.5 * avg_over_time(push:confirmed_delivery:ratio_rate1h{job=~"$job", provider=~"$provider", app=~"$app"}[1d])',
    );
    assert.deepEqual(
      ratio.links?.map((link) => link.url),
      [`${DEFAULT_RUNBOOK_URL_BASE}push-confirmed-delivery-low.md`],
    );
  });

  it("shows the providers' report gauges as they are, drop reasons apart from FCM's overlapping delays", () => {
    const expr = (title: string) => targetsOf(panels.find((p) => p.title === title) as AnyPanel)[0]?.expr;
    assert.equal(
      expr('Provider-reported outcomes'),
      `max by (provider, app, outcome) (push_provider_delivery_ratio{${filters}, outcome!~"delivered_no_delay|delayed_.*"})`,
    );
    assert.equal(
      expr('Provider report age'),
      `time() - max by (provider, app) (push_provider_delivery_report_timestamp_seconds{${filters}})`,
    );
  });
});

describe('dashboard-linter rules: every target', () => {
  const targets = everyTarget(all);

  it('covers every panel the issue lists', () => {
    assert.equal(new Set(targets.map((t) => `${t.dashboard} ${t.panel}`)).size, 16 + 7 + 8 + 12);
    assert.ok(targets.length >= 35);
  });

  it('target-promql-rule (static part): balanced brackets and only the dashboard variables', () => {
    for (const { dashboard, panel, target } of targets) {
      const where = `${dashboard}: ${panel}: ${target.expr}`;
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const)
        assert.equal(target.expr.split(open).length, target.expr.split(close).length, where);
      for (const [, name] of target.expr.matchAll(/\$\{?(\w+)/g))
        assert.ok((QUERY_VARIABLES as readonly string[]).includes(name as string), `${where}: $${name}`);
    }
  });

  it('target-rate-interval-rule: every range is $__rate_interval, except the documented fixed windows', () => {
    // The Delivery dashboard's device stages keep only the pairs whose devices posted a receipt in the past day
    // (the endpoint shows every allowed pair at 0): a filter, not the stage's own rate.
    const postedInThePastDay = /increase\(push_device_receipts_total\{[^}]*\}\[1d\]\)\) > 0/g;
    for (const located of targets) {
      const expr = located.target.expr.replace(postedInThePastDay, '');
      const ranges = [...expr.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]);
      const reason = fixedWindowReason(located);
      if (reason === undefined) {
        assert.ok(
          ranges.length > 0,
          `${located.dashboard}: ${located.panel}: uses no $__rate_interval and has no documented exception`,
        );
        assert.ok(
          ranges.every((range) => range === '$__rate_interval'),
          `${located.dashboard}: ${located.panel}: ${ranges.join(', ')}`,
        );
      } else {
        assert.ok(
          !located.target.expr.includes('$__rate_interval'),
          `${located.dashboard}: ${located.panel} is listed as fixed-window (${reason}) but uses $__rate_interval`,
        );
      }
    }
  });

  it('target-counter-agg-rule: every counter (_total, _bucket, _count) sits directly in rate, irate or increase', () => {
    for (const { dashboard, panel, target } of targets) {
      for (const selector of selectors(target.expr).filter((s) => COUNTER.test(s.metric))) {
        assert.match(
          selector.before,
          /(?:^|[^a-z_])(?:rate|irate|increase)\(\s*$/,
          `${dashboard}: ${panel}: ${selector.metric}`,
        );
        assert.match(selector.after, /^\[[^\]]+\]\)/, `${dashboard}: ${panel}: ${selector.metric}`);
      }
    }
  });

  it('target-job-rule and label filters: every selector filters by $job, $provider and $app (and the config selector on raw series)', () => {
    for (const { dashboard, panel, target } of targets) {
      const found = selectors(target.expr);
      assert.ok(found.length > 0, `${dashboard}: ${panel}`);
      for (const { metric, matchers } of found) {
        const where = `${dashboard}: ${panel}: ${metric}{${matchers}}`;
        // An alert may lack job, provider and app, a refused receipt provider and app: their pickers also match ''.
        const optional = (name: string) =>
          metric === 'ALERTS' || (metric === 'push_device_receipts_rejected_total' && name !== 'job') ? '|' : '';
        for (const name of ['job', 'provider', 'app'])
          assert.ok(matchers.includes(`${name}=~"$${name}${optional(name)}"`), `${where} lacks $${name}`);
        if (metric.startsWith('push_'))
          assert.ok(matchers.startsWith('job="push-sender"'), `${where} lacks the config selector`);
        else assert.ok(metric === 'ALERTS' || metric.startsWith('push:'), `${where}: an unexpected series`);
      }
    }
  });

  it("reads the SLO burn rates from the alert generator's recording rules", () => {
    const burn = targets.filter((t) => t.panel.startsWith('Burn rate '));
    assert.deepEqual(
      burn.map((t) => /^push:slo_errors:ratio_rate(\w+)\{/.exec(t.target.expr)?.[1]),
      ['1h', '5m', '6h', '30m', '1d', '2h', '3d', '6h'],
    );
  });
});
