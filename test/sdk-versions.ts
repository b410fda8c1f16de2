import { readFileSync } from 'node:fs';

/**
 * The major version of a package as this tree installed it. The Node 24 leg (scripts/node24-leg.sh) runs the suite
 * with newer SDK majors than the project's own node_modules; tests whose SDK changed behaviour between majors ask.
 */
export function installedMajor(name: string): number {
  const manifest = JSON.parse(
    readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8'),
  ) as { version: string };
  return Number.parseInt(manifest.version, 10);
}
