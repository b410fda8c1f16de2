import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALERTING_GROUP, generateAlertRules, RECORDING_GROUP, toPrometheusRule, toPrometheusRuleYaml, toPrometheusRulesYaml, type AlertingRule, type RuleGroup } from '../src/monitoring/alerts/index.js';
import { toYaml } from '../src/monitoring/alerts/yaml.js';
import { ALERT_NAMES, DEFAULT_RUNBOOK_URL_BASE, type MonitoringConfig } from '../src/monitoring/config.js';
import { RECORDED, recordingRules } from '../src/monitoring/promql.js';
import { resolveMonitoringConfig } from '../src/monitoring/config.js';
import { generatedFiles, OUTPUTS } from '../scripts/generate-alerts.js';

/** The generator without Prometheus: shapes, config overrides, errors, the writers, and the committed files. */

/** Alerts that are no ratio, so no traffic guard: a missing sender, and held verdicts that wait for a person. */
const UNGUARDED: readonly string[] = ['PushSenderDown', 'PushInvalidTokensHeld'];

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

  it('returns the shared recording rules, then the ten alerts (four burn-rate tiers)', () => {
    assert.deepEqual(groups.map((g) => g.name), [RECORDING_GROUP, ALERTING_GROUP]);
    assert.deepEqual(groups[0]?.rules, recordingRules(resolveMonitoringConfig()));
    assert.deepEqual([...new Set(alerts.map((a) => a.alert))], [...ALERT_NAMES]);
    assert.deepEqual(alerts.filter((a) => a.alert === 'PushErrorBudgetBurn').map((a) => [a.labels.tier, a.labels.severity]), [
      ['1h', 'critical'],
      ['6h', 'critical'],
      ['1d', 'warning'],
      ['3d', 'warning'],
    ]);
    // Recording rule names are a contract with the dashboards: the original ones are still there.
    const recorded = new Set(groups[0]?.rules.map((r) => ('record' in r ? r.record : '')));
    for (const name of [RECORDED.messagesRate, RECORDED.failedRate, RECORDED.providerErrorRatio, RECORDED.sloErrorRatio('1h'), RECORDED.latency('p99')]) assert.ok(recorded.has(name), name);
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
    assert.deepEqual([...critical].sort(), ['PushCredentialsRejected', 'PushErrorBudgetBurn', 'PushProviderOutage', 'PushSenderDown']);
    // unregistered/invalid_token appear only in the invalid-token alert, a warning, and as exclusions from the SLO.
    for (const alert of alerts.filter((a) => a.labels.severity === 'critical')) assert.doesNotMatch(alert.expr, /error_type=~"[^"]*(unregistered|invalid_token)/, alert.alert);
  });

  it('keeps every per-provider ratio per (job, provider, app) and guards it with minimum traffic', () => {
    for (const alert of alerts.filter((a) => !UNGUARDED.includes(a.alert))) {
      assert.match(alert.expr, /and on \(job, provider, app\)\n\s*\S.* >= 0\.1$/m, `${alert.alert} has a traffic guard`);
      for (const by of alert.expr.matchAll(/sum by \(([^)]*)\)/g)) assert.equal(by[1], 'job, provider, app', alert.alert);
    }
  });

  it('tickets held invalid-token verdicts per (job, provider, app) as soon as the counter moves, with no traffic guard or threshold', () => {
    const held = rule(groups, 'PushInvalidTokensHeld');
    assert.equal(held.expr, 'sum by (job, provider, app) (increase(push_invalid_tokens_held_total{job="push-sender"}[15m])) > 0');
    assert.deepEqual([held.for, held.labels], ['1m', { severity: 'warning' }]);
    assert.equal(held.annotations.runbook_url, `${DEFAULT_RUNBOOK_URL_BASE}push-invalid-tokens-held.md`);
    // On-call must learn from the ticket itself that resolving it settles nothing: the hold waits in the process.
    assert.match(held.annotations.description, /release\(\) or discard\(\) on telemetry\.heldInvalidTokens\(\)/);
    assert.match(held.annotations.description, /\/healthz/);
    // It follows the alert before it in ALERT_NAMES, so the committed file reads surge, then held.
    const names = alerts.map((a) => a.alert);
    assert.equal(names.indexOf('PushInvalidTokensHeld'), names.indexOf('PushInvalidTokenSurge') + 1);

    const tuned = generateAlertRules({ selector: 'job="notifier"', labelFilters: 'cluster="eu-1"', alerts: { PushInvalidTokensHeld: { for: '5m', severity: 'info' } } });
    const tunedHeld = rule(tuned, 'PushInvalidTokensHeld');
    assert.equal(tunedHeld.expr, 'sum by (job, provider, app) (increase(push_invalid_tokens_held_total{job="notifier", cluster="eu-1"}[15m])) > 0');
    assert.deepEqual([tunedHeld.for, tunedHeld.labels.severity], ['5m', 'info']);
    assert.ok(!alertsOf(generateAlertRules({ alerts: { PushInvalidTokensHeld: { disabled: true } } })).some((a) => a.alert === 'PushInvalidTokensHeld'));
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
        assert.match(selector[0], /namespace="push", job=~"sender-\.\*", cluster="eu-1"/, `${'alert' in r ? r.alert : r.record}: ${selector[0]}`);
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
    assert.deepEqual(burn.map((b) => [b.for, b.labels.severity]), Array(4).fill(['5m', 'info']));
    // 28 days: 2% in 1h is 13.44×, over a 0.1% budget.
    assert.match(burn[0]?.expr ?? '', /push:slo_errors:ratio_rate1h \/ 0\.001 > 13\.44\n/);
    assert.match(burn[0]?.annotations.description ?? '', /99\.9% SLO over 28d/);
    // The committed defaults are untouched by a tuned call.
    assert.deepEqual(generateAlertRules(), groups);
  });

  it('rejects bad config with a TypeError naming the option', () => {
    const cases: Array<[MonitoringConfig, RegExp]> = [
      [{ alerts: { PushSenderDown: { threshold: 2 } } }, /^config\.alerts\.PushSenderDown\.threshold: /],
      [{ alerts: { PushErrorBudgetBurn: { threshold: 14 } } }, /^config\.alerts\.PushErrorBudgetBurn\.threshold: .*sloTarget/],
      [{ alerts: { PushInvalidTokensHeld: { threshold: 10 } } }, /^config\.alerts\.PushInvalidTokensHeld\.threshold: .*fires on a state/],
      [{ alerts: { PushProviderOutage: { threshold: 50 } } }, /^config\.alerts\.PushProviderOutage\.threshold must be a ratio/],
      [{ alerts: { PushLatencyHigh: { for: '5 minutes' } } }, /^config\.alerts\.PushLatencyHigh\.for /],
      [{ alerts: { PushOutage: {} } as never }, /config\.alerts: unknown option "PushOutage"/],
      [{ extraLabels: { severity: 'page' } }, /^config\.extraLabels\.severity: /],
      [{ extraLabels: { provider: 'x' } }, /^config\.extraLabels\.provider: /],
      [{ sloTarget: 99.5 }, /^config\.sloTarget /],
      [{ selector: 'push-sender' }, /^config\.selector /],
      [{ minMessagesPerSecond: -1 }, /^config\.minMessagesPerSecond /],
    ];
    for (const [config, message] of cases) assert.throws(() => generateAlertRules(config), { name: 'TypeError', message }, JSON.stringify(config));
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
      metadata: { name: 'push-telemetry', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'push-telemetry', release: 'prometheus' } },
      spec: { groups },
    });
    assert.deepEqual(parse11(toPrometheusRuleYaml(groups, { namespace: 'monitoring', labels: { release: 'prometheus' } })), JSON.parse(JSON.stringify(manifest)));
    assert.equal(toPrometheusRule(groups).metadata.namespace, undefined);
  });

  it('reject bad PrometheusRule options with a TypeError naming the option', () => {
    assert.throws(() => toPrometheusRule(groups, { name: 'Push_Rules' }), { name: 'TypeError', message: /^options\.name / });
    assert.throws(() => toPrometheusRule(groups, { namespace: 'a'.repeat(64) }), { name: 'TypeError', message: /^options\.namespace / });
    assert.throws(() => toPrometheusRule(groups, { labels: { release: 'has space' } }), { name: 'TypeError', message: /^options\.labels\.release / });
    assert.throws(() => toPrometheusRule(groups, { namespce: 'x' } as never), { name: 'TypeError', message: /unknown option "namespce"/ });
  });

  it('write any string so a YAML 1.1 reader gets it back unchanged', () => {
    const hostile = [
      '', ' ', 'on', 'No', 'y', '~', 'null', '1_000', '0x1f', '12:30', '1e3', '.5', '-1', '+1', '.inf', '5m', '1h30m', 'a: b', 'a #b', '#c', '- x', '? q', '*ref', '&anchor',
      '!tag', '%d', '@at', '`tick', '"quoted"', "it's", 'back\\slash', 'tab\there', 'line\nbreak', '  leading\nspaces', 'trailing \nspace', 'blank\n\nline', 'ends\n',
      'sep\u2028ar\u2029ators', 'del\u007f', 'bom\ufeff', 'emoji 🚀', '{{ $labels.provider }}', 'job=~"a|b", x!="\\\\d"', 'https://example.com/a?b=c#d', 'key:',
    ];
    const value = { list: hostile, map: Object.fromEntries(hostile.filter((k) => k !== '').map((k) => [k, k])), nested: [{ a: [] }, {}, [[1, true]], { b: { c: 0.1 } }] };
    assert.deepEqual(parse11(toYaml(value)), value);
    assert.deepEqual(parse(toYaml(value)), value, 'and a YAML 1.2 reader too');
  });
});

describe('the committed files', () => {
  it('alerts/push-alerts.yaml and the PrometheusRule are what the generator produces (npm run generate:alerts)', () => {
    const expected = generatedFiles();
    for (const [name, url] of Object.entries(OUTPUTS)) {
      assert.equal(readFileSync(url, 'utf8'), expected[name as keyof typeof OUTPUTS], `${url.pathname} is stale: run npm run generate:alerts`);
    }
  });
});
