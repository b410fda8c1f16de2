/**
 * The Alertmanager routing of alerts/alertmanager.example.yml as data, for the AlertmanagerConfig: severity picks the
 * receiver (critical pages, warning tickets, info stays on the dashboards), and the inhibitions keep one page per
 * incident. Matchers are written as in that file; test/kubernetes.test.ts fails when the two disagree.
 */

export type ReceiverName = 'oncall-pagerduty' | 'oncall-webhook' | 'push-tickets' | 'blackhole';

export interface RouteSpec {
  readonly matchers: readonly string[];
  readonly receiver: ReceiverName;
  readonly repeatInterval?: string;
  /** Keep matching after this route, so the next page receiver gets the alert too. */
  readonly continue?: boolean;
}

export interface InhibitionSpec {
  readonly sourceMatchers: readonly string[];
  readonly targetMatchers: readonly string[];
  readonly equal: readonly string[];
}

export const ROUTING = {
  receiver: 'push-tickets',
  groupBy: ['alertname', 'provider'],
  groupWait: '30s',
  groupInterval: '5m',
  repeatInterval: '12h',
  routes: [
    { matchers: ['severity="critical"'], receiver: 'oncall-pagerduty', repeatInterval: '1h', continue: true },
    { matchers: ['severity="critical"'], receiver: 'oncall-webhook', repeatInterval: '1h' },
    { matchers: ['severity="warning"'], receiver: 'push-tickets' },
    { matchers: ['severity="info"'], receiver: 'blackhole' },
  ],
} as const satisfies {
  readonly receiver: ReceiverName;
  readonly groupBy: readonly string[];
  readonly groupWait: string;
  readonly groupInterval: string;
  readonly repeatInterval: string;
  readonly routes: readonly RouteSpec[];
};

export const INHIBITIONS: readonly InhibitionSpec[] = [
  {
    sourceMatchers: ['alertname="PushProviderOutage"'],
    targetMatchers: ['alertname=~"PushProviderErrorRateHigh|PushLatencyHigh|PushErrorBudgetBurn"'],
    equal: ['job', 'provider'],
  },
  {
    sourceMatchers: ['alertname="PushSenderDown"'],
    targetMatchers: ['alertname=~"Push.+"', 'alertname!="PushSenderDown"'],
    equal: ['job'],
  },
  {
    sourceMatchers: ['alertname="PushProviderHung"'],
    targetMatchers: ['alertname="PushSendingStalled"'],
    equal: ['job', 'provider', 'app'],
  },
  {
    sourceMatchers: ['alertname="PushErrorBudgetBurn"', 'tier="1h"'],
    targetMatchers: ['alertname="PushErrorBudgetBurn"', 'tier=~"6h|1d|3d"'],
    equal: ['job', 'provider', 'app'],
  },
  {
    sourceMatchers: ['alertname="PushErrorBudgetBurn"', 'tier="6h"'],
    targetMatchers: ['alertname="PushErrorBudgetBurn"', 'tier=~"1d|3d"'],
    equal: ['job', 'provider', 'app'],
  },
  {
    sourceMatchers: ['alertname="PushErrorBudgetBurn"', 'tier="1d"'],
    targetMatchers: ['alertname="PushErrorBudgetBurn"', 'tier="3d"'],
    equal: ['job', 'provider', 'app'],
  },
];

export interface Matcher {
  readonly name: string;
  readonly matchType: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

const MATCHER = /^([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"$/;

/** `alertname=~"A|B"` as the operator's structured matcher. */
export function parseMatcher(text: string): Matcher {
  const match = MATCHER.exec(text);
  if (match === null) throw new TypeError(`not an Alertmanager matcher like severity="critical": ${text}`);
  return {
    name: match[1] as string,
    matchType: match[2] as Matcher['matchType'],
    value: JSON.parse(`"${match[3] as string}"`) as string,
  };
}
