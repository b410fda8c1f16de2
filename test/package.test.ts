import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Run in a child process: imports each export named in argv[2] (JSON), then (when argv[3] is "serve") starts and
 * stops a metrics server, recording every package the package's own files load, by ESM import (a resolve hook) or
 * by require (Module._load, for the CommonJS peers it requires), and failing the import of each package named in
 * argv[1] (JSON), as if it were not installed. Prints { step: [packages loaded during it] } as JSON.
 */
const LOAD_GRAPH = `
import Module, { register } from 'node:module';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
const HOOK = \`
import { isBuiltin } from 'node:module';
let port;
let absent;
export function initialize(data) { port = data.port; absent = new Set(data.absent); }
const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
export async function resolve(specifier, context, next) {
  if (!/^([./]|file:|data:|node:)/.test(specifier) && !isBuiltin(specifier)) {
    const name = packageOf(specifier);
    port.postMessage(name);
    if (absent.has(name)) throw Object.assign(new Error('Cannot find package ' + name), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}\`;
const absent = JSON.parse(process.argv[1]);
const { port1, port2 } = new MessageChannel();
register('data:text/javascript,' + encodeURIComponent(HOOK), import.meta.url, { data: { port: port2, absent }, transferList: [port2] });
const required = new Set();
const ownFiles = new URL('./dist/', 'file://' + process.cwd() + '/').pathname;
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (parent?.filename?.startsWith(ownFiles) && !/^([./]|node:)/.test(request) && !Module.isBuiltin(request)) {
    const name = request.split('/').slice(0, request.startsWith('@') ? 2 : 1).join('/');
    required.add(name);
    if (absent.includes(name)) throw Object.assign(new Error('Cannot find module ' + name), { code: 'MODULE_NOT_FOUND' });
  }
  return load.apply(this, arguments);
};
const loaded = {};
const step = async (name, run) => {
  await run();
  const names = new Set(required);
  required.clear();
  for (let message; (message = receiveMessageOnPort(port1)); ) names.add(message.message);
  loaded[name] = [...names];
};
for (const subpath of JSON.parse(process.argv[2])) await step(subpath, () => import(subpath));
if (process.argv[3] === 'serve') {
  await step('startMetricsServer', async () => {
    const { PushTelemetry, startMetricsServer } = await import('push-telemetry');
    const server = await startMetricsServer({ telemetry: new PushTelemetry(), port: 0 });
    await server.close();
  });
}
port1.close();
console.log(JSON.stringify(loaded));
`;

/** Exports whose whole job needs an optional peer: they load it, and say so when it is missing. */
const NEEDS_OPTIONAL_PEER: Readonly<Record<string, string>> = {
  'push-telemetry/dashboards': '@grafana/grafana-foundation-sdk',
};

// `npm test` builds dist/ first; these tests load the package the way users do, through its exports map.
describe('the published package', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

  it('is ESM with an exports map pointing at built JavaScript and declarations', () => {
    assert.equal(manifest.type, 'module');
    const root = (manifest.exports as Record<string, Record<string, string>>)['.'];
    for (const target of [root?.import, root?.types])
      assert.ok(target && existsSync(new URL(`../${target}`, import.meta.url)), `${target} exists`);
  });

  it('loads by name and exposes the public API', async () => {
    const api = await import('push-telemetry');
    for (const name of [
      'PushTelemetry',
      'classifyError',
      'errorOwner',
      'startMetricsServer',
      'startClusterMetricsServer',
      'startTelemetry',
      'generateAlertRules',
    ]) {
      assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name);
    }
    assert.equal(api.ERROR_TYPES.length, 12);
    const telemetry = new api.PushTelemetry();
    assert.equal(await telemetry.wrapSender(async () => 'ok', { provider: 'fcm' })(), 'ok');
  });

  it('exports each adapter and the simulator from its own subpath', async () => {
    const subpaths: Record<string, string> = {
      'push-telemetry/fcm': 'instrumentFcm',
      'push-telemetry/apns': 'instrumentApns',
      'push-telemetry/apns2': 'instrumentApns2',
      'push-telemetry/webpush': 'instrumentWebPush',
      'push-telemetry/expo': 'instrumentExpo',
      'push-telemetry/sns': 'instrumentSns',
      'push-telemetry/onesignal': 'instrumentOneSignal',
      'push-telemetry/simulator': 'startSimulator',
      'push-telemetry/alerts': 'generateAlertRules',
      'push-telemetry/dashboards': 'generateDashboards',
    };
    for (const [subpath, name] of Object.entries(subpaths)) {
      const module = (await import(subpath)) as Record<string, unknown>;
      assert.equal(typeof module[name], 'function', `${subpath} exports ${name}`);
    }
    const root = (await import('push-telemetry')) as Record<string, unknown>;
    for (const name of Object.values(subpaths).filter((n) => n !== 'startSimulator' && n !== 'generateDashboards'))
      assert.equal(typeof root[name], 'function', `root exports ${name}`);
  });

  it('packs every file its main, types, bin and exports name, and reports the packed version as VERSION', async () => {
    const { stdout } = await execFileAsync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout) as [{ name: string; version: string; files: Array<{ path: string }> }];
    const files = new Set(packed.files.map((file) => file.path));
    const exportsMap = manifest.exports as Record<string, string | Record<string, string>>;
    const targets = [
      manifest.main as string,
      manifest.types as string,
      ...Object.values(manifest.bin as Record<string, string>),
      ...Object.values(exportsMap).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))),
    ];
    assert.ok(targets.length > 30, `${targets.length} targets`);
    for (const target of targets) assert.ok(files.has(target.replace(/^\.\//, '')), `${target} is in the packed files`);
    assert.equal(packed.name, 'push-telemetry');
    // The built package's VERSION (what push_telemetry_info reports) is the version npm would publish.
    const api = (await import('push-telemetry')) as { VERSION: unknown };
    assert.equal(api.VERSION, packed.version);
  });

  it('loads every export without the optional peers installed, importing only the packages it declares', async () => {
    const peers = manifest.peerDependencies as Record<string, string>;
    const optional = Object.entries(manifest.peerDependenciesMeta as Record<string, { optional?: boolean }>)
      .filter(([, meta]) => meta.optional === true)
      .map(([name]) => name);
    const all = Object.keys(manifest.exports as object)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'push-telemetry' : `push-telemetry/${key.slice(2)}`));
    const subpaths = all.filter((subpath) => !Object.hasOwn(NEEDS_OPTIONAL_PEER, subpath));
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--input-type=module', '-e', LOAD_GRAPH, JSON.stringify(optional), JSON.stringify(subpaths), 'serve'],
      { cwd: ROOT },
    );
    const loaded = JSON.parse(stdout) as Record<string, string[]>;
    assert.deepEqual(
      Object.keys(loaded),
      [...subpaths, 'startMetricsServer'],
      'every export loaded, and a server started',
    );
    const packages = new Set(
      Object.values(loaded)
        .flat()
        .filter((name) => name !== 'push-telemetry'),
    );
    const dependencies = Object.keys(manifest.dependencies as object);
    const requiredPeers = Object.keys(peers).filter((name) => !optional.includes(name));
    // Importing a package it does not declare would fail for users; importing an optional peer would make it required.
    for (const name of packages)
      assert.ok(
        dependencies.includes(name) || requiredPeers.includes(name),
        `${name} is imported on load but is not a dependency or a required peer`,
      );
    // A dependency nothing loads is dead weight for every install; @types/node is loaded by the compiler instead
    // (test/consumer-types.test.ts).
    for (const name of dependencies.filter((name) => name !== '@types/node'))
      assert.ok(packages.has(name), `dependency ${name} is loaded by no export`);
    assert.ok(
      packages.has('@opentelemetry/api') && requiredPeers.includes('@opentelemetry/api'),
      'the OpenTelemetry API comes from the application, as a peer',
    );
    // A user who only wraps a sender loads neither the servers' express nor anything the simulator or CLI need.
    assert.deepEqual(loaded['push-telemetry']?.filter((name) => name !== 'push-telemetry').sort(), [
      '@opentelemetry/api',
      'prom-client',
    ]);
    assert.ok(loaded.startMetricsServer?.includes('express'), 'express is loaded when a server starts');
  });

  it('loads an export that needs an optional peer when it is installed, and names it when it is not', async () => {
    for (const [subpath, peer] of Object.entries(NEEDS_OPTIONAL_PEER)) {
      const { stdout } = await execFileAsync(
        process.execPath,
        ['--input-type=module', '-e', LOAD_GRAPH, '[]', JSON.stringify([subpath])],
        { cwd: ROOT },
      );
      assert.ok((JSON.parse(stdout) as Record<string, string[]>)[subpath]?.includes(peer), `${subpath} loads ${peer}`);
      await assert.rejects(
        execFileAsync(
          process.execPath,
          ['--input-type=module', '-e', LOAD_GRAPH, JSON.stringify([peer]), JSON.stringify([subpath])],
          { cwd: ROOT },
        ),
        (error: { stderr?: string }) => new RegExp(`Cannot find (package|module) ${peer}`).test(error.stderr ?? ''),
      );
    }
  });
});
