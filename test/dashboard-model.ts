import type { Dashboard, Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';

/**
 * Reads the generated dashboards the way Grafana and dashboard-linter do: panels (rows included, and panels inside
 * collapsed rows), their targets, and the variables a query may use. Shared by the lint and query tests, with the
 * documented exceptions both of them honour.
 */

export interface PromTarget {
  readonly refId?: string;
  readonly expr: string;
  readonly legendFormat?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly instant?: boolean;
  readonly format?: string;
}

export type AnyPanel = (Panel | RowPanel) & { readonly type: string };

export function panelsOf(dashboard: Dashboard): AnyPanel[] {
  return (dashboard.panels ?? []).flatMap((panel) => [
    panel as AnyPanel,
    ...(panel.type === 'row' ? ((panel as RowPanel).panels as AnyPanel[]) : []),
  ]);
}

export function targetsOf(panel: AnyPanel): PromTarget[] {
  return panel.type === 'row' ? [] : (((panel as Panel).targets ?? []) as unknown as PromTarget[]);
}

export interface Located {
  readonly dashboard: string;
  readonly panel: string;
  readonly panelType: string;
  readonly target: PromTarget;
}

export function everyTarget(dashboards: Iterable<Dashboard>): Located[] {
  return [...dashboards].flatMap((dashboard) =>
    panelsOf(dashboard).flatMap((panel) =>
      targetsOf(panel).map((target) => ({
        dashboard: dashboard.uid ?? '',
        panel: panel.title ?? '',
        panelType: panel.type,
        target,
      })),
    ),
  );
}

/** The variables a query may reference; anything else is a typo Grafana would send to Prometheus verbatim. */
export const QUERY_VARIABLES = ['__rate_interval', 'job', 'provider', 'app', 'group'] as const;

/** Replaces `$name` and `${name}` with values; throws on a variable it has no value for. */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for variable $${name} in ${expr}`);
    return value;
  });
}

/**
 * Targets that deliberately do not use `$__rate_interval`, like dashboard-linter `.lint` exclusions: each with the
 * reason. Keyed by dashboard uid and panel title (burn-rate panels by prefix, one per alert tier), and by refId
 * where only one target of a panel is exempt.
 */
export const FIXED_WINDOW_PANELS: ReadonlyArray<{
  readonly dashboard: string;
  readonly panel: RegExp;
  readonly refId?: string;
  readonly reason: string;
}> = [
  {
    dashboard: 'push-slo-alerts',
    panel: /^Burn rate /,
    reason: "the alert tiers' fixed windows, read from the recording rules the alerts use",
  },
  {
    dashboard: 'push-slo-alerts',
    panel: /^Error budget remaining /,
    reason: 'the SLO period is the window by definition',
  },
  { dashboard: 'push-overview', panel: /^Calls in flight$/, reason: 'a gauge read as-is: no counter, no range' },
  {
    dashboard: 'push-provider-health',
    panel: /^Time since last accepted message$/,
    reason: 'a timestamp gauge read as-is',
  },
  {
    dashboard: 'push-provider-health',
    panel: /^Calls in flight vs completed$/,
    refId: 'A',
    reason: 'a gauge read as-is: no counter, no range (B, the completions, is a rate)',
  },
  {
    dashboard: 'push-overview',
    panel: /^Recipients over the send cap, and unregistered$/,
    refId: 'A',
    reason: 'a 24 h snapshot gauge read as-is (B, the unregistered share, is a rate)',
  },
  { dashboard: 'push-overview', panel: /^Push alerts firing$/, reason: 'ALERTS is a state series, not a counter' },
  {
    dashboard: 'push-delivery',
    panel: /^Confirmed delivery vs usual$/,
    refId: 'B',
    reason:
      "PushConfirmedDeliveryLow's baseline: the ratio over the past day, whatever the viewer's range (A is a rate)",
  },
  {
    dashboard: 'push-delivery',
    panel: /^Provider-reported (outcomes|delays)$|^Provider report age$/,
    reason: 'daily report gauges read as-is: no counter, no range',
  },
  { dashboard: 'push-slo-alerts', panel: /^Push alerts /, reason: 'ALERTS is a state series, not a counter' },
];

export function fixedWindowReason(
  located: Pick<Located, 'dashboard' | 'panel'> & { readonly target?: Pick<PromTarget, 'refId'> },
): string | undefined {
  return FIXED_WINDOW_PANELS.find(
    (entry) =>
      entry.dashboard === located.dashboard &&
      entry.panel.test(located.panel) &&
      (entry.refId === undefined || entry.refId === located.target?.refId),
  )?.reason;
}
