import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboardFiles, DASHBOARD_UIDS, generateDashboards } from '../src/monitoring/dashboards/index.js';
import { overviewDashboard } from '../src/monitoring/dashboards/overview.js';
import { providerHealthDashboard } from '../src/monitoring/dashboards/provider-health.js';
import { sloAlertsDashboard } from '../src/monitoring/dashboards/slo-alerts.js';
import { deliveryDashboard } from '../src/monitoring/dashboards/delivery.js';
import { resolveMonitoringConfig } from '../src/monitoring/config.js';
import { everyTarget, panelsOf } from './dashboard-model.js';

function withoutFunctions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutFunctions);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => typeof v !== 'function')
      .map(([k, v]) => [k, withoutFunctions(v)]),
  );
}

const directory = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');

describe('dashboards/*.json: the committed default output', () => {
  it('is exactly what the generator writes (run `npm run generate:dashboards` after changing src/monitoring/dashboards)', async () => {
    const expected = dashboardFiles(generateDashboards());
    const committed = (await readdir(directory)).filter((file) => file.endsWith('.json')).sort();
    assert.deepEqual(committed, Object.keys(expected).sort(), 'the dashboards/ files');
    for (const [file, json] of Object.entries(expected)) {
      assert.equal(
        await readFile(path.join(directory, file), 'utf8'),
        json,
        `dashboards/${file} drifted from the generator`,
      );
    }
  });

  it("round-trips: each file parses into exactly what the SDK builders produce, bar the SDK's marker methods", async () => {
    const resolved = resolveMonitoringConfig();
    const builders = {
      overview: overviewDashboard,
      providerHealth: providerHealthDashboard,
      slo: sloAlertsDashboard,
      delivery: deliveryDashboard,
    };
    for (const [key, uid] of Object.entries(DASHBOARD_UIDS)) {
      const parsed: unknown = JSON.parse(await readFile(path.join(directory, `${uid}.json`), 'utf8'));
      const raw = builders[key as keyof typeof builders](resolved);
      // Strict, on the builders' own object: an undefined field, a NaN or a Date would make the two differ; only the
      // methods the SDK hangs on queries (`_implementsDataqueryVariant`), which JSON cannot hold, are set aside.
      assert.deepStrictEqual(parsed, withoutFunctions(raw));
      assert.deepStrictEqual(parsed, generateDashboards()[key as keyof typeof builders]);
    }
  });

  it("keeps the SDK's own defaults: each dashboard starts from what DashboardBuilder gives and only adds to it", () => {
    const sdkDefaults = new DashboardBuilder('x').build();
    for (const dashboard of Object.values(generateDashboards())) {
      for (const [field, value] of Object.entries(sdkDefaults)) {
        if (!['title', 'templating', 'annotations'].includes(field))
          assert.deepEqual(dashboard[field as keyof typeof dashboard], field === 'graphTooltip' ? 1 : value, field);
      }
    }
  });

  it('builds a fresh object per call, so a caller may change one without touching the next', () => {
    const first = generateDashboards();
    first.overview.title = 'changed';
    assert.equal(generateDashboards().overview.title, 'Push notifications / Overview');
  });
});

describe('generateDashboards(config)', () => {
  it('carries the shared config into titles, selectors, filters, the datasource default, the SLO and the runbooks', () => {
    const custom = generateDashboards({
      selector: 'job="mobile-push"',
      labelFilters: 'cluster="eu-1"',
      sloTarget: 0.999,
      sloPeriod: '28d',
      titlePrefix: 'Mobile',
      datasource: 'Prometheus EU',
      runbookUrlBase: 'https://runbooks.example.com/push/',
    });
    assert.equal(custom.overview.title, 'Mobile / Overview');
    assert.deepEqual(custom.overview.templating.list?.[0]?.current, {
      selected: true,
      text: 'Prometheus EU',
      value: 'Prometheus EU',
    });
    const json = JSON.stringify(custom);
    assert.ok(!json.includes('job=\\"push-sender\\"'), 'the default selector is gone');
    assert.ok(!json.includes('github.com'));
    for (const { dashboard, panel, target } of everyTarget(Object.values(custom))) {
      for (const [, metric, matchers] of target.expr.matchAll(/(push_\w+)\{([^}]*)\}/g)) {
        assert.ok(matchers?.startsWith('job="mobile-push", cluster="eu-1", '), `${dashboard}: ${panel}: ${metric}`);
      }
    }
    const slo = panelsOf(custom.slo).map((p) => p.title);
    assert.ok(slo.includes('SLI vs 99.9% target') && slo.includes('Error budget remaining (28d)'), slo.join(', '));
    // 2% of 28 days in 1 h is 13.44: the factor follows the period.
    assert.ok(slo.includes('Burn rate 1h & 5m vs 13.44× (page)'), slo.join(', '));
    assert.ok(everyTarget([custom.slo]).some((t) => t.target.expr.includes('/ 0.001')));
    assert.ok(json.includes('https://runbooks.example.com/push/push-error-budget-burn.md'));
    // The held-verdicts panel follows the config like every other: its runbook and its selector.
    const held = everyTarget([custom.overview]).find((t) => t.panel === 'Invalid-token verdicts held');
    assert.match(held?.target.expr ?? '', /push_invalid_tokens_held_total\{job="mobile-push", cluster="eu-1", /);
    assert.ok(json.includes('https://runbooks.example.com/push/push-invalid-tokens-held.md'));
  });

  it('rejects a bad config with the shared TypeError', () => {
    assert.throws(() => generateDashboards({ sloTarget: 2 }), /config.sloTarget/);
    assert.throws(() => generateDashboards({ bogus: 1 } as never), /unknown option "bogus"/);
  });
});
