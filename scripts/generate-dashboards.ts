/**
 * Writes dashboards/*.json from the generator with the default config: the files users import or provision.
 * `npm run generate:dashboards`; test/dashboards.drift.test.ts fails when the committed files and this disagree.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardFiles, generateDashboards } from '../src/monitoring/dashboards/index.js';

const directory = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');
for (const [file, json] of Object.entries(dashboardFiles(generateDashboards()))) {
  await writeFile(path.join(directory, file), json);
  console.log(`wrote dashboards/${file}`);
}
