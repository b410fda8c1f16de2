import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { installFromTree, installPacked, type PackedPackage } from './packed-consumer.js';

const execFileAsync = promisify(execFile);

/**
 * A CommonJS program: requires every entry of the package (require(esm), on by default from Node 20.19 and 22.12),
 * then sends through a wrapped sender and scrapes a started metrics server. Prints what it saw as JSON.
 */
const CONSUMER = `'use strict';
const entries = {};
for (const subpath of JSON.parse(process.argv[2])) entries[subpath] = Object.keys(require(subpath)).sort();
const { PushTelemetry, startMetricsServer } = require('push-telemetry');
const fcm = require('push-telemetry/fcm');
const root = require('push-telemetry');

(async () => {
  const telemetry = new PushTelemetry({ app: 'com.example.cjs' });
  const send = telemetry.wrapSender(async (token) => 'sent to ' + token.length, { provider: 'fcm' });
  const result = await send('abc');
  const server = await startMetricsServer({ telemetry, port: 0 });
  const metrics = await (await fetch(server.url + '/metrics')).text();
  await server.close();
  console.log(JSON.stringify({
    entries,
    result,
    accepted: metrics.split('\\n').find((line) => line.startsWith('push_messages_total{') && line.includes('outcome="accepted"')),
    sameAdapter: fcm.instrumentFcm === root.instrumentFcm,
  }));
})().catch((error) => { console.error(error); process.exitCode = 1; });
`;

// `npm test` builds dist/ first; this packs it and runs a CommonJS program that requires it, on the Node running the
// suite (each leg: Node 20 and Node 24).
describe(`require('push-telemetry') from CommonJS on Node ${process.versions.node}`, () => {
  let tmp: string;
  let packed: PackedPackage;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-require-'));
    packed = await installPacked(tmp);
    // What `npm install push-telemetry` brings, and every peer (an entry may load one as it is required).
    const { dependencies = {}, peerDependencies = {} } = packed.manifest;
    await installFromTree(tmp, [...Object.keys(dependencies), ...Object.keys(peerDependencies)]);
    await writeFile(path.join(tmp, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    await writeFile(path.join(tmp, 'consumer.js'), CONSUMER);
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  // require() of an ES module refuses a graph with a top-level await (ERR_REQUIRE_ASYNC_MODULE): requiring every entry
  // is what proves there is none where it matters (modules loaded later by import() may have one).
  it('requires every entry, and the root works: a counted send and a scraped metrics server', async () => {
    const { stdout } = await execFileAsync(process.execPath, ['consumer.js', JSON.stringify(packed.subpaths)], {
      cwd: tmp,
    });
    const seen = JSON.parse(stdout) as {
      entries: Record<string, string[]>;
      result: string;
      accepted?: string;
      sameAdapter: boolean;
    };
    assert.deepEqual(Object.keys(seen.entries), packed.subpaths);
    for (const [subpath, names] of Object.entries(seen.entries)) assert.ok(names.length > 0, `${subpath} exports`);
    assert.ok(seen.entries['push-telemetry']?.includes('PushTelemetry'));
    assert.equal(seen.result, 'sent to 3');
    assert.match(seen.accepted ?? '', /app="com\.example\.cjs".* 1$/);
    assert.ok(seen.sameAdapter, 'push-telemetry/fcm and the root share one module graph');
  });

  it('states in engines the Node versions whose require() loads ES modules without a flag', () => {
    assert.equal(packed.manifest.engines?.node, '^20.19.0 || >=22.12.0');
  });
});
