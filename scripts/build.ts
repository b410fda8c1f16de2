/**
 * `npm run build`: a fresh dist/ with tsc's declarations, and the JavaScript of every entry point in package.json
 * (`exports` and `bin`) bundled from src/ by esbuild. A process then opens a few files instead of one per source module, which was most of what
 * importing the package cost (docs/performance.md).
 *
 * The entries share one copy of every module, so the PushTelemetry of 'push-telemetry' is the one
 * 'push-telemetry/fcm' knows: code that several entries use goes to dist/chunks/, and an entry whose code and exports
 * all belong to the root entry (each provider adapter) becomes a line re-exporting them from dist/index.js, so the
 * root is one file rather than a chunk per combination of entries that share it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

interface Manifest {
  readonly bin?: Readonly<Record<string, string>>;
  readonly exports: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
}

const ROOT = 'index';
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Manifest;

/** `./dist/providers/fcm.js` → `providers/fcm`, for every JavaScript target under dist/. */
function entryNames(): string[] {
  const targets = [
    ...Object.values(manifest.exports).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    ),
    ...Object.values(manifest.bin ?? {}),
  ];
  const names = targets.flatMap((target) => /^\.\/dist\/(.+)\.js$/.exec(target)?.[1] ?? []);
  return [...new Set(names)].sort();
}

const options = (names: readonly string[]): BuildOptions => ({
  entryPoints: Object.fromEntries(names.map((name) => [name, `src/${name}.ts`])),
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies and peers stay imports: the user's copies are the ones to instrument and to load lazily.
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

/** The source modules an entry reaches, dynamic imports included. */
function reach(metafile: Metafile, entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const dependency of metafile.inputs[path]?.imports ?? []) if (!dependency.external) visit(dependency.path);
  };
  visit(entry);
  return seen;
}

/** Entries whose every module and every export the root entry has too, with their export names. */
function rootSubsets(metafile: Metafile, names: readonly string[]): Map<string, string[]> {
  const exportsOf = new Map(
    Object.values(metafile.outputs).flatMap((output) =>
      output.entryPoint === undefined ? [] : [[output.entryPoint, output.exports] as const],
    ),
  );
  const rootModules = reach(metafile, `src/${ROOT}.ts`);
  const rootExports = new Set(exportsOf.get(`src/${ROOT}.ts`));
  const subsets = new Map<string, string[]>();
  for (const name of names) {
    const source = `src/${name}.ts`;
    const exported = exportsOf.get(source) ?? [];
    if (name === ROOT || exported.length === 0) continue;
    const inRoot = [...reach(metafile, source)].every((path) => rootModules.has(path));
    if (inRoot && exported.every((binding) => rootExports.has(binding))) subsets.set(name, exported);
  }
  return subsets;
}

rmSync('dist', { recursive: true, force: true });
// Like a plain tsc build, a type error still leaves a usable dist/ and fails the build afterwards.
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
const names = entryNames();
const { metafile } = await build({ ...options(names), write: false, metafile: true });
const subsets = rootSubsets(metafile, names);
await build(options(names.filter((name) => !subsets.has(name))));
for (const [name, exported] of subsets) {
  const file = `dist/${name}.js`;
  const root = relative(dirname(file), `dist/${ROOT}.js`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(
    file,
    `export { ${exported.sort().join(', ')} } from '${root.startsWith('.') ? root : `./${root}`}';\n`,
  );
}
console.log(`bundled ${names.length} entry points into dist/ (${subsets.size} of them re-export the root's)`);
if (tsc.status !== 0) {
  console.error(`tsc exited with ${tsc.status ?? tsc.signal}: see its errors above`);
  process.exitCode = 1;
}
