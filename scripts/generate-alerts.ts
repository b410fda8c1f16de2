import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { generateAlertRules, toPrometheusRuleYaml, toPrometheusRulesYaml } from '../src/monitoring/alerts/index.js';

/** Regenerates the committed rule files from the generator's defaults (npm run generate:alerts). */

export const OUTPUTS = {
  rules: new URL('../alerts/push-alerts.yaml', import.meta.url),
  prometheusRule: new URL('../alerts/push-alerts.prometheusrule.yaml', import.meta.url),
} as const;

/** The files' contents as the generator produces them now; the tests compare the committed files with these. */
export function generatedFiles(): Record<keyof typeof OUTPUTS, string> {
  const groups = generateAlertRules();
  return { rules: toPrometheusRulesYaml(groups), prometheusRule: toPrometheusRuleYaml(groups) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = generatedFiles();
  for (const [name, url] of Object.entries(OUTPUTS)) await writeFile(url, files[name as keyof typeof OUTPUTS]);
  console.log(
    `wrote ${Object.values(OUTPUTS)
      .map((url) => url.pathname)
      .join(', ')}`,
  );
}
