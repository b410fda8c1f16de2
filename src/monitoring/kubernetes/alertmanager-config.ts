import { metadata } from './monitors.js';
import type { ResolvedKubernetesOptions } from './options.js';
import { INHIBITIONS, parseMatcher, ROUTING, type ReceiverName } from './routing.js';
import type { AlertmanagerConfigManifest, AlertmanagerReceiver, AlertmanagerRoute } from './types.js';

/**
 * The routing of alerts/alertmanager.example.yml as an AlertmanagerConfig (v1alpha1, the version every operator
 * release serves without a conversion webhook). Credentials come from a Secret, never from the manifest.
 */

function receiver(name: ReceiverName, options: ResolvedKubernetesOptions): AlertmanagerReceiver | undefined {
  const { pagerduty, webhookUrl, slack, slackChannel } = options.receivers;
  switch (name) {
    case 'oncall-pagerduty':
      return pagerduty === undefined
        ? undefined
        : {
            name,
            pagerdutyConfigs: [
              {
                routingKey: { ...pagerduty },
                description: '{{ .CommonAnnotations.summary }}',
                pagerDutyLinkConfigs: [{ href: '{{ .CommonAnnotations.runbook_url }}', alt: 'Runbook' }],
              },
            ],
          };
    case 'oncall-webhook':
      return webhookUrl === undefined ? undefined : { name, webhookConfigs: [{ url: webhookUrl, sendResolved: true }] };
    case 'push-tickets':
      return {
        name,
        slackConfigs: [
          {
            apiURL: { ...slack },
            channel: slackChannel,
            sendResolved: true,
            title: '{{ .CommonLabels.alertname }} {{ .CommonLabels.provider }}',
            text: '{{ range .Alerts }}{{ .Annotations.description }} Runbook: {{ .Annotations.runbook_url }}{{ "\\n" }}{{ end }}',
          },
        ],
      };
    case 'blackhole':
      return { name };
  }
}

export function alertmanagerConfig(options: ResolvedKubernetesOptions): AlertmanagerConfigManifest {
  const names = [...ROUTING.routes.map((route) => route.receiver), ROUTING.receiver];
  const receivers = [...new Set(names)].flatMap((name) => receiver(name, options) ?? []);
  const present = new Set(receivers.map((r) => r.name));
  const kept = ROUTING.routes.filter((route) => present.has(route.receiver));
  const routes = kept.map((route, i): AlertmanagerRoute => {
    // A page route keeps `continue` only while another route for the same alerts follows it.
    const next = kept[i + 1];
    const more = next !== undefined && next.matchers.join() === route.matchers.join();
    return {
      receiver: route.receiver,
      matchers: route.matchers.map(parseMatcher),
      ...('repeatInterval' in route && { repeatInterval: route.repeatInterval }),
      ...('continue' in route && route.continue && more && { continue: true }),
    };
  });
  return {
    apiVersion: 'monitoring.coreos.com/v1alpha1',
    kind: 'AlertmanagerConfig',
    metadata: metadata(options),
    spec: {
      route: {
        receiver: ROUTING.receiver,
        groupBy: [...ROUTING.groupBy],
        groupWait: ROUTING.groupWait,
        groupInterval: ROUTING.groupInterval,
        repeatInterval: ROUTING.repeatInterval,
        routes,
      },
      receivers,
      inhibitRules: INHIBITIONS.map((rule) => ({
        sourceMatch: rule.sourceMatchers.map(parseMatcher),
        targetMatch: rule.targetMatchers.map(parseMatcher),
        equal: [...rule.equal],
      })),
    },
  };
}
