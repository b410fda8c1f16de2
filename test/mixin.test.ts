import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { generatedMixinFiles, MIXIN_DIR } from '../scripts/generate-kubernetes.js';
import { requireBinary } from './prometheus.js';

/**
 * mixin/: rendered by a real jsonnet (Debian's), its prometheusAlerts and prometheusRules are the groups of
 * alerts/push-alerts.yaml and its grafanaDashboards are dashboards/*.json; it works from a jsonnet-bundler vendor
 * directory and composes with other mixins.
 */

interface Groups {
  groups: Array<{ name: string; rules: Array<Record<string, unknown>> }>;
}

function jsonnetBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v jsonnet'], { encoding: 'utf8' });
  if (found.status !== 0 || found.stdout.trim() === '')
    throw new Error('jsonnet is not installed: apt-get install jsonnet (scripts/ensure-tools.sh)');
  return found.stdout.trim();
}

/** Evaluates a jsonnet expression with `-J dirs` as the library path; returns the JSON result. */
function jsonnet(expression: string, dirs: readonly string[] = [MIXIN_DIR]): unknown {
  const args = [...dirs.flatMap((dir) => ['-J', dir]), '-e', expression];
  return JSON.parse(execFileSync(jsonnetBinary(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}

const MIXIN = "(import 'mixin.libsonnet')";
const root = new URL('../', import.meta.url);
const isAlerting = (group: Groups['groups'][number]) => group.rules.some((rule) => 'alert' in rule);

let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-mixin-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('mixin/', () => {
  it('generated/ is exactly what the generator writes (npm run generate:kubernetes)', async () => {
    const expected = generatedMixinFiles();
    const committed = (await readdir(path.join(MIXIN_DIR, 'generated'), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(MIXIN_DIR, path.join(entry.parentPath, entry.name)))
      .sort();
    assert.deepEqual(committed, Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected))
      assert.equal(await readFile(path.join(MIXIN_DIR, file), 'utf8'), text, `mixin/${file} drifted`);
  });

  it('prometheusAlerts and prometheusRules render to the groups of alerts/push-alerts.yaml', async () => {
    const shipped = parse(await readFile(new URL('alerts/push-alerts.yaml', root), 'utf8')) as Groups;
    const alerts = jsonnet(`${MIXIN}.prometheusAlerts`) as Groups;
    const rules = jsonnet(`${MIXIN}.prometheusRules`) as Groups;
    assert.deepEqual(alerts, { groups: shipped.groups.filter(isAlerting) });
    assert.deepEqual(rules, { groups: shipped.groups.filter((group) => !isAlerting(group)) });
    assert.ok(alerts.groups.length > 0 && rules.groups.length > 0);
    // Together, in the file's order: nothing lost or added.
    const together = [...rules.groups, ...alerts.groups];
    assert.deepEqual(
      together.map((g) => g.name),
      shipped.groups.map((g) => g.name),
    );
  });

  it('grafanaDashboards renders to dashboards/*.json, keyed by file name', async () => {
    const dashboards = jsonnet(`${MIXIN}.grafanaDashboards`) as Record<string, unknown>;
    const files = (await readdir(new URL('dashboards/', root))).filter((file) => file.endsWith('.json')).sort();
    assert.deepEqual(Object.keys(dashboards).sort(), files);
    for (const file of files)
      assert.deepEqual(dashboards[file], JSON.parse(await readFile(new URL(`dashboards/${file}`, root), 'utf8')), file);
  });

  it('renders into one rules file promtool accepts, every rule of alerts/push-alerts.yaml in it', async () => {
    // JSON is YAML: the rendered object is a rules file as it stands.
    const rendered = execFileSync(
      jsonnetBinary(),
      ['-J', MIXIN_DIR, '-e', `{ groups: ${MIXIN}.prometheusRules.groups + ${MIXIN}.prometheusAlerts.groups }`],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const file = path.join(tmp, 'mixin-rules.yaml');
    await writeFile(file, rendered);
    const output = execFileSync(requireBinary('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
    const shipped = parse(await readFile(new URL('alerts/push-alerts.yaml', root), 'utf8')) as Groups;
    const count = shipped.groups.reduce((n, group) => n + group.rules.length, 0);
    assert.match(output, new RegExp(`SUCCESS: ${count} rules found`));
  });

  it('works from a jsonnet-bundler vendor/ directory: it imports nothing outside mixin/', async () => {
    const vendor = path.join(tmp, 'vendor');
    const installed = path.join(vendor, 'github.com', 'push-telemetry', 'push-telemetry', 'mixin');
    await mkdir(path.dirname(installed), { recursive: true });
    await cp(MIXIN_DIR, installed, { recursive: true });
    const expression = (field: string) =>
      `(import 'github.com/push-telemetry/push-telemetry/mixin/mixin.libsonnet').${field}`;
    for (const field of ['prometheusAlerts', 'prometheusRules', 'grafanaDashboards'])
      assert.deepEqual(jsonnet(expression(field), [vendor]), jsonnet(`${MIXIN}.${field}`), field);
    const manifest = JSON.parse(await readFile(path.join(MIXIN_DIR, 'jsonnetfile.json'), 'utf8')) as {
      version: number;
      dependencies: unknown[];
    };
    assert.equal(manifest.version, 1);
    assert.deepEqual(manifest.dependencies, []);
  });

  it('composes with other mixins: groups and dashboards are added to, not replaced', () => {
    const other =
      "{ prometheusAlerts+:: { groups+: [{ name: 'other.alerts', rules: [] }] }, grafanaDashboards+:: { 'other.json': {} } }";
    const combined = jsonnet(
      `local m = ${other} + ${MIXIN}; { alerts: [g.name for g in m.prometheusAlerts.groups], dashboards: std.objectFields(m.grafanaDashboards) }`,
    ) as { alerts: string[]; dashboards: string[] };
    const ours = jsonnet(`[g.name for g in ${MIXIN}.prometheusAlerts.groups]`) as string[];
    assert.deepEqual(combined.alerts, ['other.alerts', ...ours]);
    assert.ok(combined.dashboards.includes('other.json') && combined.dashboards.length > 1);
  });

  it('keeps its fields hidden, as mixins do, so rendering the object itself shows nothing', () => {
    assert.deepEqual(jsonnet(MIXIN), {});
  });
});
