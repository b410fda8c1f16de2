import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { filesEndingWith, installFromTree, installPacked, ROOT, type PackedPackage } from './packed-consumer.js';

const execFileAsync = promisify(execFile);

const TS7 = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const TS5 = path.join(ROOT, 'node_modules/typescript5/bin/tsc');

/**
 * The project settings a consumer uses, each its own tsconfig. Under nodenext, index.ts is ESM (the project is
 * "type": "module") and index.cts CommonJS, in one program. TypeScript 5 runs the two most common settings (it
 * takes seconds where TypeScript 7 takes a fraction), TypeScript 7 all of them.
 */
const CHECKS = [
  { compiler: 'TypeScript 7', tsc: TS7, setting: 'nodenext', files: ['index.ts', 'index.cts'] },
  { compiler: 'TypeScript 7', tsc: TS7, setting: 'node16', files: ['index.ts'] },
  { compiler: 'TypeScript 7', tsc: TS7, setting: 'bundler', files: ['index.ts'] },
  { compiler: 'TypeScript 5', tsc: TS5, setting: 'nodenext', files: ['index.ts', 'index.cts'] },
  { compiler: 'TypeScript 5', tsc: TS5, setting: 'bundler', files: ['index.ts'] },
] as const;

const MODULE_OPTIONS = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
} as const;

/**
 * The consumer's code: every entry of the package imported, and the root's API used where a wrong type would show.
 * The `@ts-expect-error` lines prove the types are real: were anything `any`, the directive itself would be the error.
 */
function consumerSource(subpaths: readonly string[]): string {
  const namespaces = subpaths.map((subpath, i) => `import * as entry${i} from '${subpath}';`).join('\n');
  return `import { PushTelemetry, startMetricsServer, classifyError, type MetricsHandler, type ErrorType } from 'push-telemetry';
${namespaces}

const telemetry = new PushTelemetry({ app: 'com.example.app' });
const send = telemetry.wrapSender(async (token: string) => token.length, { provider: 'fcm' });
const length: Promise<number> = send('token');
const handler: MetricsHandler = telemetry.metricsHandler();
const type: ErrorType = classifyError(new Error('x'));
export const used = [length, handler, type, startMetricsServer, ${subpaths.map((_, i) => `entry${i}`).join(', ')}];

// @ts-expect-error app is a string
new PushTelemetry({ app: 42 });
// @ts-expect-error the wrapped sender keeps its parameter types
send(42);
`;
}

/** A CommonJS module (.cts): TypeScript compiles its imports to require(), which Node 20.19+ and 22.12+ allow for ESM. */
const COMMONJS_SOURCE = `import { PushTelemetry, type ErrorType } from 'push-telemetry';
import { instrumentFcm } from 'push-telemetry/fcm';

const telemetry = new PushTelemetry({ app: 'com.example.app' });
const type: ErrorType = 'timeout';
export const used = [telemetry, type, instrumentFcm];
// @ts-expect-error app is a string
new PushTelemetry({ app: 42 });
`;

const tsconfigName = (compiler: string, setting: string) => `tsconfig.${compiler.replace(/\W/g, '')}.${setting}.json`;

async function typecheck(tsc: string, dir: string, tsconfig: string): Promise<string> {
  try {
    await execFileAsync(process.execPath, [tsc, '-p', tsconfig], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}`.trim() || String(error);
  }
}

// `npm test` builds dist/ first; this packs it the way `npm publish` would and type-checks a project that uses it.
describe('a TypeScript project using the packed package, declaring nothing but push-telemetry', () => {
  let tmp: string;
  let packed: PackedPackage;
  /** The packages the package's declaration files import (node: builtins aside). */
  let typeImports: string[];
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-consumer-'));
    packed = await installPacked(tmp);
    const specifiers = new Set<string>();
    for (const file of await filesEndingWith(path.join(packed.installed, 'dist'), '.d.ts')) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/(?:from\s+|import\(\s*)'([^'.][^']*)'/g)) {
        const specifier = match[1] as string;
        if (!specifier.startsWith('node:'))
          specifiers.add(
            specifier
              .split('/')
              .slice(0, specifier.startsWith('@') ? 2 : 1)
              .join('/'),
          );
      }
    }
    typeImports = [...specifiers].sort();
    // What installing push-telemetry brings for the compiler: its dependencies' types (@types/node) and the peers its
    // declarations import; nothing of this tree's own devDependencies.
    const typesDependencies = Object.keys(packed.manifest.dependencies ?? {}).filter((name) =>
      name.startsWith('@types/'),
    );
    await installFromTree(tmp, [...typeImports, ...typesDependencies]);
    await writeFile(
      path.join(tmp, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await writeFile(path.join(tmp, 'index.ts'), consumerSource(packed.subpaths));
    await writeFile(path.join(tmp, 'index.cts'), COMMONJS_SOURCE);
    for (const { compiler, setting, files } of CHECKS) {
      const compilerOptions = { ...MODULE_OPTIONS[setting], target: 'es2022', strict: true, noEmit: true };
      // skipLibCheck off: errors in our declaration files are reported, not skipped.
      const tsconfig = { compilerOptions: { ...compilerOptions, skipLibCheck: false }, files };
      await writeFile(path.join(tmp, tsconfigName(compiler, setting)), JSON.stringify(tsconfig));
    }
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  it('asks for the Node types in every declaration file that uses them (TypeScript 7 loads none by itself)', async () => {
    const directive = /^\/\/\/ <reference types="node"/m;
    const missing: string[] = [];
    for (const file of await filesEndingWith(path.join(packed.installed, 'dist'), '.d.ts')) {
      const text = await readFile(file, 'utf8');
      if (/from 'node:|import\('node:/.test(text) && !directive.test(text))
        missing.push(path.relative(packed.installed, file));
    }
    assert.deepEqual(missing, [], 'add /// <reference types="node" preserve="true" /> to their sources');
  });

  it('declares every package its declarations import, and the Node types as a dependency', () => {
    const { dependencies = {}, peerDependencies = {} } = packed.manifest;
    assert.ok(typeImports.includes('@opentelemetry/api'), typeImports.join(', '));
    for (const name of typeImports)
      assert.ok(name in dependencies || name in peerDependencies, `${name} is imported by a .d.ts but not declared`);
    // Any version a Node 20+ project already has satisfies it, so npm installs no second copy beside the user's.
    assert.equal(dependencies['@types/node'], '>=20');
    assert.ok(packed.subpaths.length > 5, packed.subpaths.join(', '));
  });

  for (const { compiler, tsc, setting, files } of CHECKS) {
    it(`type-checks with ${compiler}, moduleResolution ${setting} (${files.join(', ')}), skipLibCheck off`, async () => {
      const output = await typecheck(tsc, tmp, tsconfigName(compiler, setting));
      assert.ok(output === '', `${compiler} (${setting}) reported:\n${output}`);
    });
  }
});
