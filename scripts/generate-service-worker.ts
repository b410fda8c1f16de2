import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Writes service-worker/classic.js, the `importScripts` build of the service worker module, from
 * service-worker/index.js (npm run generate:service-worker). A classic worker cannot `import`, and a module worker
 * cannot `importScripts`; one source, two shapes: the module's body in a function, its exports on
 * `self.pushTelemetry`. The tests compare the committed file with this output.
 */

export const SOURCE = new URL('../service-worker/index.js', import.meta.url);
export const OUTPUT = new URL('../service-worker/classic.js', import.meta.url);

const EXPORT = /^export (?:async )?(?:const|function) ([A-Za-z_$][\w$]*)/gm;

export function classicBuild(source: string): string {
  const names = [...source.matchAll(EXPORT)].map((match) => match[1] as string);
  if (names.length === 0) throw new Error('service-worker/index.js exports nothing');
  if (/^\s*import\b/m.test(source)) throw new Error('service-worker/index.js must not import: a classic script cannot');
  const body = source.replace(/^export /gm, '');
  return [
    '// Generated from index.js by scripts/generate-service-worker.ts (npm run generate:service-worker): do not edit.',
    "// In a classic service worker: importScripts('classic.js'); self.pushTelemetry.installPushTelemetry({ endpoint });",
    '(() => {',
    "'use strict';",
    body.trimEnd(),
    '',
    `globalThis.pushTelemetry = Object.freeze({ ${names.join(', ')} });`,
    '})();',
    '',
  ].join('\n');
}

export function generatedClassic(): string {
  return classicBuild(readFileSync(SOURCE, 'utf8'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OUTPUT, generatedClassic());
  console.log(`wrote ${OUTPUT.pathname}`);
}
