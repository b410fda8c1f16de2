import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

/**
 * The shipped alerts/alertmanager.example.yml made safe to run in a test: its routes and inhibit rules exactly as
 * shipped, every receiver (PagerDuty, Slack, the on-call bridge: placeholders) swapped for a webhook on loopback, or
 * for nothing, and the group timings shortened so a notification leaves in about a second.
 * `yaml` comes from the dev dependency tree (@opentelemetry/sdk-node); the package itself ships no YAML parser.
 */

export const EXAMPLE = new URL('../alerts/alertmanager.example.yml', import.meta.url);

interface Route {
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}

export interface ExampleConfig {
  readonly route: Route & { receiver: string };
  readonly receivers: Array<{ name: string } & Record<string, unknown>>;
  readonly inhibit_rules: Array<Record<string, string[]>>;
}

export function readExample(): ExampleConfig {
  return parse(readFileSync(EXAMPLE, 'utf8')) as ExampleConfig;
}

/** The example with each receiver posting to `${webhookBase}/<receiver name>` (or to nowhere when no base is given). */
export function testRouting(webhookBase?: string): string {
  const config = readExample();
  const receivers = config.receivers.map(({ name }) =>
    webhookBase === undefined
      ? { name }
      : { name, webhook_configs: [{ url: `${webhookBase}/${encodeURIComponent(name)}`, send_resolved: true }] },
  );
  const fast = (route: Route): Route => ({
    ...route,
    group_wait: '1s',
    group_interval: '1s',
    ...(route.routes && { routes: route.routes.map(fast) }),
  });
  return stringify({ ...config, route: fast(config.route), receivers });
}
