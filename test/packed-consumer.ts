import { execFile } from 'node:child_process';
import { access, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface PackedManifest {
  readonly exports: Readonly<Record<string, unknown>>;
  readonly engines?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

export interface PackedPackage {
  /** Where the package is installed: `<dir>/node_modules/push-telemetry`. */
  readonly installed: string;
  readonly manifest: PackedManifest;
  /** Every entry a user can import: `push-telemetry`, `push-telemetry/fcm`, … */
  readonly subpaths: readonly string[];
}

/**
 * Packs this tree (its built dist/, as `npm publish` would, lifecycle scripts off) and installs the tarball into
 * `<dir>/node_modules/push-telemetry`. `dir` should lie outside this tree, so that nothing above it resolves.
 */
export async function installPacked(dir: string): Promise<PackedPackage> {
  const { stdout } = await execFileAsync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = path.join(dir, stdout.trim().split('\n').pop() as string);
  const installed = path.join(dir, 'node_modules/push-telemetry');
  await mkdir(installed, { recursive: true });
  await execFileAsync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8')) as PackedManifest;
  const subpaths = Object.keys(manifest.exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? 'push-telemetry' : `push-telemetry/${key.slice(2)}`));
  return { installed, manifest, subpaths };
}

/**
 * Installs `names` and everything they depend on into `<dir>/node_modules`, as hard-linked copies of this tree's
 * installs (what npm would fetch, without the network).
 */
export async function installFromTree(dir: string, names: readonly string[]): Promise<string[]> {
  const wanted = [...names];
  const copied = new Set<string>();
  while (wanted.length > 0) {
    const name = wanted.shift() as string;
    if (copied.has(name)) continue;
    copied.add(name);
    const source = path.join(ROOT, 'node_modules', name);
    // Not hoisted: npm nested it inside the package that needs it, which came with that package.
    if (
      !(await access(source).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const target = path.join(dir, 'node_modules', name);
    await mkdir(path.dirname(target), { recursive: true });
    await execFileAsync('cp', ['-al', source, target]);
    const own = JSON.parse(await readFile(path.join(source, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    wanted.push(...Object.keys(own.dependencies ?? {}));
  }
  return [...copied].sort();
}

export async function filesEndingWith(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => path.join(entry.parentPath, entry.name));
}
