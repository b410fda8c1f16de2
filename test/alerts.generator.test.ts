import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  ALERTING_GROUP,
  generateAlertRules,
  RECORDING_GROUP,
  toPrometheusRule,
  toPrometheusRuleYaml,
  toPrometheusRulesYaml,
  type AlertingRule,
  type RuleGroup,
} from '../src/monitoring/alerts/index.js';
import { toYaml } from '../src/monitoring/alerts/yaml.js';
import { ALERT_NAMES, DEFAULT_RUNBOOK_URL_BASE, type MonitoringConfig } from '../src/monitoring/config.js';
import { RECORDED, recordingRules } from '../src/monitoring/promql.js';
import { resolveMonitoringConfig } from '../src/monitoring/config.js';
import { generatedFiles, OUTPUTS } from '../scripts/generate-alerts.js';

/** The generator without Prometheus: shapes, config overrides, errors, the writers, and the committed files. */

/**
 * Alerts that are no ratio, so no traffic guard: a missing sender, held verdicts that wait for a person, and the two
 * silences (a stall is the absence of traffic; a hang counts none). PushRecipientsOverSendCap is guarded by recipients
 * in the last 24 h instead of messages per second (its own test below).
 */
const UNGUARDED: readonly string[] = [
  'PushSenderDown',
  'PushSendingStalled',
  'PushProviderHung',
  'PushInvalidTokensHeld',
  'PushRecipientsOverSendCap',
];

function alertsOf(groups: readonly RuleGroup[]): AlertingRule[] {
  return groups.flatMap((group) => group.rules).filter((rule): rule is AlertingRule => 'alert' in rule);
}

function rule(groups: readonly RuleGroup[], name: string): AlertingRule {
  const found = alertsOf(groups).find((r) => r.alert === name);
  assert.ok(found, name);
  return found;
}

/** Parses as Prometheus and Alertmanager do: YAML 1.1, where `on` is a boolean and 1_000 a number. */
function parse11(text: string): unknown {
  return parse(text, { version: '1.1' });
}

describe('generateAlertRules()', () => {
  const groups = generateAlertRules();
  const alerts = alertsOf(groups);

  it('returns the shared recording rules, then the twelve alerts (four burn-rate tiers)', () => {
    assert.deepEqual(
      groups.map((g) => g.name),
      [RECORDING_GROUP, ALERTING_GROUP],
    );
    assert.deepEqual(groups[0]?.rules, recordingRules(resolveMonitoringConfig()));
    assert.deepEqual([...new Set(alerts.map((a) => a.alert))], [...ALERT_NAMES]);
    assert.deepEqual(
      alerts.filter((a) => a.alert === 'PushErrorBudgetBurn').map((a) => [a.labels.tier, a.labels.severity]),
      [
        ['1h', 'critical'],
        ['6h', 'critical'],
        ['1d', 'warning'],
        ['3d', 'warning'],
      ],
    );
    // Recording rule names are a contract with the dashboards: the original ones are still there.
    const recorded = new Set(groups[0]?.rules.map((r) => ('record' in r ? r.record : '')));
    for (const name of [
      RECORDED.messagesRate,
      RECORDED.failedRate,
      RECORDED.providerErrorRatio,
      RECORDED.sloErrorRatio('1h'),
      RECORDED.latency('p99'),
    ])
      assert.ok(recorded.has(name), name);
  });

  it('gives every alert a severity, a summary, a description with the value and a runbook that exists', () => {
    for (const alert of alerts) {
      assert.ok(['critical', 'warning', 'info'].includes(alert.labels.severity as string), alert.alert);
      assert.ok(alert.annotations.summary.length > 0);
      assert.match(alert.annotations.description, /\{\{ \$value/, `${alert.alert} description shows the value`);
      const file = alert.annotations.runbook_url.slice(DEFAULT_RUNBOOK_URL_BASE.length);
      assert.equal(alert.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}${file}`);
      assert.ok(existsSync(new URL(`../docs/runbooks/${file}`, import.meta.url)), `docs/runbooks/${file}`);
    }
  });

  it('pages for outages, credentials, a down sender and the fast burn tiers; audience churn never pages', () => {
    const critical = new Set(alerts.filter((a) => a.labels.severity === 'critical').map((a) => a.alert));
    assert.deepEqual([...critical].sort(), [
      'PushCredentialsRejected',
      'PushErrorBudgetBurn',
      'PushProviderHung',
      'PushProviderOutage',
      'PushSenderDown',
      'PushSendingStalled',
    ]);
    // unregistered/invalid_token appear only in the invalid-token alert, a warning, and as exclusions from the SLO.
    for (const alert of alerts.filter((a) => a.labels.severity === 'critical'))
      assert.doesNotMatch(alert.expr, /error_type=~"[^"]*(unregistered|invalid_token)/, alert.alert);
  });

  it('keeps every per-provider ratio per (job, provider, app) and guards it with minimum traffic', () => {
    for (const alert of alerts.filter((a) => !UNGUARDED.includes(a.alert))) {
      assert.match(
        alert.expr,
        /and on \(job, provider, app\)\n\s*\S.* >= 0\.1$/m,
        `${alert.alert} has a traffic guard`,
      );
      for (const by of alert.expr.matchAll(/sum by \(([^)]*)\)/g))
        assert.equal(by[1], 'job, provider, app', alert.alert);
    }
  });

  it('tickets held invalid-token verdicts per (job, provider, app) as soon as the counter moves, with no traffic guard or threshold', () => {
    const held = rule(groups, 'PushInvalidTokensHeld');
    assert.equal(
      held.expr,
      'sum by (job, provider, app) (increase(push_invalid_tokens_held_total{job="push-sender"}[15m])) > 0',
    );
    assert.deepEqual([held.for, held.labels], ['1m', { severity: 'warning' }]);
    assert.equal(held.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-invalid-tokens-held.md`);
    // On-call must learn from the ticket itself that resolving it settles nothing: the hold waits in the process.
    assert.match(held.annotations.description, /release\(\) or discard\(\) on telemetry\.heldInvalidTokens\(\)/);
    assert.match(held.annotations.description, /\/healthz/);
    // It follows the alert before it in ALERT_NAMES, so the committed file reads surge, then held.
    const names = alerts.map((a) => a.alert);
    assert.equal(names.indexOf('PushInvalidTokensHeld'), names.indexOf('PushInvalidTokenSurge') + 1);

    const tuned = generateAlertRules({
      selector: 'job="notifier"',
      labelFilters: 'cluster="eu-1"',
      alerts: { PushInvalidTokensHeld: { for: '5m', severity: 'info' } },
    });
    const tunedHeld = rule(tuned, 'PushInvalidTokensHeld');
    assert.equal(
      tunedHeld.expr,
      'sum by (job, provider, app) (increase(push_invalid_tokens_held_total{job="notifier", cluster="eu-1"}[15m])) > 0',
    );
    assert.deepEqual([tunedHeld.for, tunedHeld.labels.severity], ['5m', 'info']);
    assert.ok(
      !alertsOf(generateAlertRules({ alerts: { PushInvalidTokensHeld: { disabled: true } } })).some(
        (a) => a.alert === 'PushInvalidTokensHeld',
      ),
    );
  });

  it('pages a hang per (job, provider, app) from calls held in flight by any one process with none of its calls completing', () => {
    const hung = rule(groups, 'PushProviderHung');
    assert.equal(
      hung.expr,
      'sum by (job, provider, app) (\n' +
        '  min_over_time(push_requests_in_flight{job="push-sender"}[5m]) > 0\n' +
        '  unless on (job, instance, provider, app)\n' +
        '    sum by (job, instance, provider, app) (increase(push_request_duration_seconds_count{job="push-sender"}[5m])) > 0\n' +
        ')',
    );
    assert.deepEqual([hung.for, hung.labels], ['2m', { severity: 'critical' }]);
    assert.equal(hung.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-provider-hung.md`);
    assert.match(
      hung.annotations.description,
      /^At least \{\{ \$value \| printf "%\.0f" \}\} calls of \{\{ \$labels\.provider \}\}/,
    );
  });

  it('pages a stall from the recorded stop of steady traffic, silence since, and a job still scraped; the threshold is the steady floor', () => {
    const stalled = rule(groups, 'PushSendingStalled');
    assert.equal(
      stalled.expr,
      'last_over_time(push:messages:steady_stop[1d]) > 0\n' +
        'unless on (job, provider, app)\n  max_over_time(push:messages:rate5m[15m]) > 0\n' +
        'and on (job)\n  group by (job) (max_over_time(push_telemetry_info{job="push-sender"}[5m]))',
    );
    assert.deepEqual([stalled.for, stalled.labels], ['5m', { severity: 'critical' }]);
    assert.equal(stalled.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-sending-stalled.md`);
    // Its state rules follow push:messages:rate5m in the recording group, which evaluates in order.
    const records = (groups[0]?.rules ?? []).map((r) => ('record' in r ? r.record : ''));
    assert.deepEqual(records.slice(-2), [RECORDED.steadyRate, RECORDED.steadyStop]);
    assert.ok(records.indexOf(RECORDED.messagesRate) < records.indexOf(RECORDED.steadyRate));
    const steady = (rules: readonly RuleGroup[]) =>
      rules[0]?.rules.find((r) => 'record' in r && r.record === RECORDED.steadyRate)?.expr;
    assert.equal(
      steady(groups),
      'quantile_over_time(0.5, push:messages:rate5m[3h])\n' +
        'and on (job, provider, app)\n  min_over_time(push:messages:rate5m[3h]) >= 0.02\n' +
        'and on (job, provider, app)\n  count_over_time(push:messages:rate5m[3h]) > count_over_time(push:messages:rate5m[2h45m])',
    );
    // Every window is a range selector (no offset, no constant in seconds), so a test can scale them all at once.
    for (const expr of [stalled.expr, rule(groups, 'PushProviderHung').expr, steady(groups) ?? ''])
      assert.doesNotMatch(expr, /offset|\d{3,}/);

    const tuned = generateAlertRules({
      selector: 'job="notifier"',
      alerts: { PushSendingStalled: { threshold: 0.5, for: '10m' }, PushProviderHung: { severity: 'warning' } },
    });
    assert.match(steady(tuned) ?? '', /min_over_time\(push:messages:rate5m\[3h\]\) >= 0\.5\n/);
    assert.match(rule(tuned, 'PushSendingStalled').annotations.description, /never under 0\.5\/s in any 5 minutes/);
    assert.match(rule(tuned, 'PushSendingStalled').expr, /push_telemetry_info\{job="notifier"\}\[5m\]/);
    assert.deepEqual(
      [rule(tuned, 'PushSendingStalled').for, rule(tuned, 'PushProviderHung').labels.severity],
      ['10m', 'warning'],
    );
    // Switched off, the alert takes its state rules with it; the hang needs none.
    const off = generateAlertRules({ alerts: { PushSendingStalled: { disabled: true } } });
    assert.ok(!alertsOf(off).some((a) => a.alert === 'PushSendingStalled'));
    assert.ok(
      !off[0]?.rules.some(
        (r) => 'record' in r && ([RECORDED.steadyRate, RECORDED.steadyStop] as readonly string[]).includes(r.record),
      ),
    );
    assert.equal(off[0]?.rules.length, (groups[0]?.rules.length ?? 0) - 2);
  });

  it('applies selector, filters, thresholds, for, severities, SLO, guard, runbook base and extra labels from the config', () => {
    const config: MonitoringConfig = {
      selector: 'namespace="push", job=~"sender-.*"',
      labelFilters: 'cluster="eu-1"',
      sloTarget: 0.999,
      sloPeriod: '28d',
      minMessagesPerSecond: 2,
      runbookUrlBase: 'https://wiki.example.com/push/',
      extraLabels: { team: 'mobile', on: 'yes' },
      alerts: {
        PushLatencyHigh: { threshold: 1, for: '15m', severity: 'critical' },
        PushProviderOutage: { threshold: 0.8 },
        PushErrorBudgetBurn: { for: '5m', severity: 'info' },
        PushRateLimited: { disabled: true },
      },
    };
    const tuned = generateAlertRules(config);
    for (const r of tuned.flatMap((g) => g.rules)) {
      for (const selector of r.expr.matchAll(/push_\w+\{([^}]*)\}|up\{([^}]*)\}/g)) {
        assert.match(
          selector[0],
          /namespace="push", job=~"sender-\.\*", cluster="eu-1"/,
          `${'alert' in r ? r.alert : r.record}: ${selector[0]}`,
        );
      }
      assert.doesNotMatch(r.expr, /job="push-sender"/);
    }
    const tunedAlerts = alertsOf(tuned);
    assert.ok(!tunedAlerts.some((a) => a.alert === 'PushRateLimited'));
    for (const a of tunedAlerts) {
      assert.equal(a.labels.team, 'mobile');
      assert.equal(a.labels.on, 'yes');
      assert.ok(a.annotations.runbook_url.startsWith('https://wiki.example.com/push/push-'));
      if (!UNGUARDED.includes(a.alert)) assert.match(a.expr, />= 2$/m);
    }
    const latency = rule(tuned, 'PushLatencyHigh');
    assert.deepEqual([latency.for, latency.labels.severity], ['15m', 'critical']);
    assert.match(latency.expr, /p99_rate5m > 1\n/);
    assert.match(latency.annotations.description, /alert above 1s/);
    assert.equal((rule(tuned, 'PushProviderOutage').expr.match(/> 0\.8\n/g) ?? []).length, 2);
    const burn = tunedAlerts.filter((a) => a.alert === 'PushErrorBudgetBurn');
    assert.deepEqual(
      burn.map((b) => [b.for, b.labels.severity]),
      Array(4).fill(['5m', 'info']),
    );
    // 28 days: 2% in 1h is 13.44×, over a 0.1% budget.
    assert.match(burn[0]?.expr ?? '', /push:slo_errors:ratio_rate1h \/ 0\.001 > 13\.44\n/);
    assert.match(burn[0]?.annotations.description ?? '', /99\.9% SLO over 28d/);
    // The committed defaults are untouched by a tuned call.
    assert.deepEqual(generateAlertRules(), groups);
  });

  it('rejects bad config with a TypeError naming the option', () => {
    const cases: Array<[MonitoringConfig, RegExp]> = [
      [{ alerts: { PushSenderDown: { threshold: 2 } } }, /^config\.alerts\.PushSenderDown\.threshold: /],
      [
        { alerts: { PushErrorBudgetBurn: { threshold: 14 } } },
        /^config\.alerts\.PushErrorBudgetBurn\.threshold: .*sloTarget/,
      ],
      [
        { alerts: { PushInvalidTokensHeld: { threshold: 10 } } },
        /^config\.alerts\.PushInvalidTokensHeld\.threshold: .*fires on a state/,
      ],
      [
        { alerts: { PushProviderHung: { threshold: 1 } } },
        /^config\.alerts\.PushProviderHung\.threshold: .*fires on a state/,
      ],
      [
        { alerts: { PushSendingStalled: { threshold: 0 } } },
        /^config\.alerts\.PushSendingStalled\.threshold must be a number > 0/,
      ],
      [
        { alerts: { PushProviderOutage: { threshold: 50 } } },
        /^config\.alerts\.PushProviderOutage\.threshold must be a ratio/,
      ],
      [{ alerts: { PushLatencyHigh: { for: '5 minutes' } } }, /^config\.alerts\.PushLatencyHigh\.for /],
      [{ alerts: { PushOutage: {} } as never }, /config\.alerts: unknown option "PushOutage"/],
      [{ extraLabels: { severity: 'page' } }, /^config\.extraLabels\.severity: /],
      [{ extraLabels: { provider: 'x' } }, /^config\.extraLabels\.provider: /],
      [{ sloTarget: 99.5 }, /^config\.sloTarget /],
      [{ selector: 'push-sender' }, /^config\.selector /],
      [{ minMessagesPerSecond: -1 }, /^config\.minMessagesPerSecond /],
    ];
    for (const [config, message] of cases)
      assert.throws(() => generateAlertRules(config), { name: 'TypeError', message }, JSON.stringify(config));
  });
});

describe('the writers', () => {
  const groups = generateAlertRules({ extraLabels: { team: 'mobile' } });

  it('write a rules file that parses back to the groups, with no group-level labels (Prometheus 2.42 rejects them)', () => {
    const text = toPrometheusRulesYaml(groups);
    assert.match(text, /^# Generated by push-telemetry/);
    const parsed = parse11(text) as { groups: Array<Record<string, unknown>> };
    assert.deepEqual(parsed, JSON.parse(JSON.stringify({ groups })));
    for (const group of parsed.groups) assert.deepEqual(Object.keys(group), ['name', 'rules']);
  });

  it('build a PrometheusRule manifest around the same groups', () => {
    const manifest = toPrometheusRule(groups, { namespace: 'monitoring', labels: { release: 'prometheus' } });
    assert.deepEqual(manifest, {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'push-telemetry',
        namespace: 'monitoring',
        labels: { 'app.kubernetes.io/name': 'push-telemetry', release: 'prometheus' },
      },
      spec: { groups },
    });
    assert.deepEqual(
      parse11(toPrometheusRuleYaml(groups, { namespace: 'monitoring', labels: { release: 'prometheus' } })),
      JSON.parse(JSON.stringify(manifest)),
    );
    assert.equal(toPrometheusRule(groups).metadata.namespace, undefined);
  });

  it('reject bad PrometheusRule options with a TypeError naming the option', () => {
    assert.throws(() => toPrometheusRule(groups, { name: 'Push_Rules' }), {
      name: 'TypeError',
      message: /^options\.name /,
    });
    assert.throws(() => toPrometheusRule(groups, { namespace: 'a'.repeat(64) }), {
      name: 'TypeError',
      message: /^options\.namespace /,
    });
    assert.throws(() => toPrometheusRule(groups, { labels: { release: 'has space' } }), {
      name: 'TypeError',
      message: /^options\.labels\.release /,
    });
    assert.throws(() => toPrometheusRule(groups, { namespce: 'x' } as never), {
      name: 'TypeError',
      message: /unknown option "namespce"/,
    });
  });

  it('write any string so a YAML 1.1 reader gets it back unchanged', () => {
    const hostile = [
      '',
      ' ',
      'on',
      'No',
      'y',
      '~',
      'null',
      '1_000',
      '0x1f',
      '12:30',
      '1e3',
      '.5',
      '-1',
      '+1',
      '.inf',
      '5m',
      '1h30m',
      'a: b',
      'a #b',
      '#c',
      '- x',
      '? q',
      '*ref',
      '&anchor',
      '!tag',
      '%d',
      '@at',
      '`tick',
      '"quoted"',
      "it's",
      'back\\slash',
      'tab\there',
      'line\nbreak',
      '  leading\nspaces',
      'trailing \nspace',
      'blank\n\nline',
      'ends\n',
      'sep\u2028ar\u2029ators',
      'del\u007f',
      'bom\ufeff',
      'emoji 🚀',
      '{{ $labels.provider }}',
      'job=~"a|b", x!="\\\\d"',
      'https://example.com/a?b=c#d',
      'key:',
    ];
    const value = {
      list: hostile,
      map: Object.fromEntries(hostile.filter((k) => k !== '').map((k) => [k, k])),
      nested: [{ a: [] }, {}, [[1, true]], { b: { c: 0.1 } }],
    };
    assert.deepEqual(parse11(toYaml(value)), value);
    assert.deepEqual(parse(toYaml(value)), value, 'and a YAML 1.2 reader too');
  });
});

describe('the committed files', () => {
  it('alerts/push-alerts.yaml and the PrometheusRule are what the generator produces (npm run generate:alerts)', () => {
    const expected = generatedFiles();
    for (const [name, url] of Object.entries(OUTPUTS)) {
      assert.equal(
        readFileSync(url, 'utf8'),
        expected[name as keyof typeof OUTPUTS],
        `${url.pathname} is stale: run npm run generate:alerts`,
      );
    }
  });
});
