import path from 'node:path';
import { importOptional } from '../optional-package.js';
import { stringFlag, type CommandSpec, type Flags } from './args.js';
import { COMMON_FLAGS, generate, monitoringConfig, writeOut } from './monitoring-flags.js';

export const DASHBOARDS_SPEC: CommandSpec = {
  name: 'dashboards',
  brief: 'Grafana dashboards for your labels and datasource',
  summary:
    'Writes the Grafana dashboards (overview, provider health, SLO & alerts) for your labels, one JSON model per file,\n' +
    "for Grafana's import or file provisioning. dashboards/*.json is this with the defaults.",
  flags: {
    ...COMMON_FLAGS,
    datasource: {
      type: 'string',
      value: 'NAME',
      description: "default of the dashboards' Prometheus datasource variable (default: Grafana's default)",
    },
    title: { type: 'string', value: 'PREFIX', description: 'dashboard title prefix (default "Push notifications")' },
    out: {
      type: 'string',
      value: 'DIR',
      description: 'directory to write <uid>.json files into (default ./dashboards)',
    },
  },
};

export async function runDashboards(flags: Flags, out: NodeJS.WriteStream): Promise<number> {
  const datasource = stringFlag(flags, 'datasource');
  const title = stringFlag(flags, 'title');
  const config = await monitoringConfig(flags, {
    ...(datasource !== undefined && { datasource }),
    ...(title !== undefined && { titlePrefix: title }),
  });
  // Loaded here, not at the top: the Grafana SDK takes longer to load than every other command needs to run.
  const { dashboardFiles, generateDashboards } = await importOptional(
    '@grafana/grafana-foundation-sdk',
    'push-telemetry dashboards',
    () => import('../monitoring/dashboards/index.js'),
  );
  const files = generate(flags, () => dashboardFiles(generateDashboards(config)));
  const dir = stringFlag(flags, 'out') ?? 'dashboards';
  for (const [file, json] of Object.entries(files)) await writeOut(path.join(dir, file), json, out);
  return 0;
}
