/**
 * What `import 'push-telemetry'` costs a process, against importing prom-client alone, which every user of the
 * library loads anyway. Each import runs in a fresh node process (module caches are per process), the two
 * alternating so that machine noise falls on both; the figure is the median of the runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from './harness.js';
import { check, type TargetLine } from './report.js';

const ROOT_ENTRY = new URL('../dist/index.js', import.meta.url);
const RUNS = 15;
const IMPORT_RATIO_MAX = 1.5;

/** Milliseconds a fresh process spends in `await import(specifier)`, startup excluded. */
function importMs(specifier: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  return Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    }),
  );
}

export function measureImportTime(): { line: TargetLine; check: string } {
  if (!existsSync(ROOT_ENTRY))
    throw new Error('dist/index.js is missing: npm run bench builds it first (npm run build)');
  const root: number[] = [];
  const promClient: number[] = [];
  importMs(ROOT_ENTRY.href); // warms the file system cache for both
  importMs('prom-client');
  for (let run = 0; run < RUNS; run++) {
    root.push(importMs(ROOT_ENTRY.href));
    promClient.push(importMs('prom-client'));
  }
  const [rootMs, promMs] = [median(root), median(promClient)];
  return {
    line: check(
      'import push-telemetry ÷ import prom-client',
      rootMs / promMs,
      IMPORT_RATIO_MAX,
      '×',
      2,
      ` (${rootMs.toFixed(1)} ms against ${promMs.toFixed(1)} ms, medians of ${RUNS} fresh processes each)`,
    ),
    check: `imports: ${RUNS} + ${RUNS} processes`,
  };
}
