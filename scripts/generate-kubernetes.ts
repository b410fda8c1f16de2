/**
 * Writes deploy/kubernetes/ (the kube-prometheus-stack manifests) and mixin/generated/ (what mixin/mixin.libsonnet
 * imports) from the generators' defaults: `npm run generate:kubernetes`. test/kubernetes.test.ts and
 * test/mixin.test.ts fail when the committed files and this disagree.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateAlertRules } from '../src/monitoring/alerts/index.js';
import { dashboardFiles, generateDashboards } from '../src/monitoring/dashboards/index.js';
import { kubernetesFiles, kubernetesManifests, mixinFiles } from '../src/monitoring/kubernetes/index.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KUBERNETES_DIR = path.join(root, 'deploy', 'kubernetes');
export const MIXIN_DIR = path.join(root, 'mixin');

/** deploy/kubernetes/ file name → contents, as the generator produces them now. */
export async function generatedKubernetesFiles(): Promise<Record<string, string>> {
  return kubernetesFiles(await kubernetesManifests());
}

/** mixin/ relative path → contents of the generated part (mixin/generated/). */
export function generatedMixinFiles(): Record<string, string> {
  return mixinFiles(generateAlertRules(), dashboardFiles(generateDashboards()));
}

/** Replaces `dir`'s contents with `files`, so a removed alert or dashboard leaves no stale file behind. */
async function replaceDirectory(dir: string, files: Record<string, string>, base: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [file, text] of Object.entries(files)) {
    const target = path.join(base, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
    console.log(`wrote ${path.relative(root, target)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await replaceDirectory(KUBERNETES_DIR, await generatedKubernetesFiles(), KUBERNETES_DIR);
  await replaceDirectory(path.join(MIXIN_DIR, 'generated'), generatedMixinFiles(), MIXIN_DIR);
}
