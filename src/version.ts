import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The package's own directory and manifest: the first package.json above this module. Sources, declarations and
 * the bundles (dist/ and dist/chunks/) sit at different depths below it, so no fixed relative path would do.
 */
function findManifest(): { readonly root: URL; readonly version: string } {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { version: string };
      return { root: dir, version: manifest.version };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dir.pathname === '/')
        throw new Error(`push-telemetry cannot read its package.json above ${import.meta.url}`, { cause: error });
    }
  }
}

const manifest = findManifest();

export const VERSION: string = manifest.version;

/** The package's directory, with a trailing separator: where the shipped alerts/, dashboards/ and docs/ are. */
export const PACKAGE_ROOT: string = fileURLToPath(manifest.root);
