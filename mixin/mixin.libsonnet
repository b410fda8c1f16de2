// push-telemetry as a monitoring mixin: its Prometheus alerts, recording rules and Grafana dashboards, the same ones
// alerts/push-alerts.yaml and dashboards/*.json ship. Everything under generated/ is written by
// `npm run generate:kubernetes` from the TypeScript generators; this file only hands it over.
//
// Combine it with other mixins (kubernetes-mixin, node-mixin…) by adding objects: groups are appended, not replaced.
{
  prometheusAlerts+:: {
    groups+: (import 'generated/alerts.json').groups,
  },
  prometheusRules+:: {
    groups+: (import 'generated/rules.json').groups,
  },
  grafanaDashboards+:: import 'generated/dashboards.libsonnet',
}
