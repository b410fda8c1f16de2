import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

// `npm test` builds dist/ first; these tests load the package the way users do, through its exports map.
describe('the published package', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;

  it('is ESM with an exports map pointing at built JavaScript and declarations', () => {
    assert.equal(manifest.type, 'module');
    const root = (manifest.exports as Record<string, Record<string, string>>)['.'];
    for (const target of [root?.import, root?.types]) assert.ok(target && existsSync(new URL(`../${target}`, import.meta.url)), `${target} exists`);
  });

  it('loads by name and exposes the public API', async () => {
    const api = await import('push-telemetry');
    for (const name of ['PushTelemetry', 'classifyError', 'errorOwner', 'startMetricsServer', 'startClusterMetricsServer', 'startTelemetry', 'generateAlertRules']) {
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
      'push-telemetry/simulator': 'startSimulator',
      'push-telemetry/alerts': 'generateAlertRules',
      'push-telemetry/dashboards': 'generateDashboards',
    };
    for (const [subpath, name] of Object.entries(subpaths)) {
      const module = (await import(subpath)) as Record<string, unknown>;
      assert.equal(typeof module[name], 'function', `${subpath} exports ${name}`);
    }
    const root = (await import('push-telemetry')) as Record<string, unknown>;
    for (const name of Object.values(subpaths).filter((n) => n !== 'startSimulator' && n !== 'generateDashboards')) assert.equal(typeof root[name], 'function', `root exports ${name}`);
  });

  it('declares @opentelemetry/api as a peer dependency and sdk-node as an optional one', () => {
    const peers = manifest.peerDependencies as Record<string, string>;
    assert.ok(peers['@opentelemetry/api']);
    assert.deepEqual((manifest.peerDependenciesMeta as Record<string, unknown>)['@opentelemetry/sdk-node'], { optional: true });
    assert.deepEqual(Object.keys(manifest.dependencies as object).sort(), ['@grafana/grafana-foundation-sdk', 'express', 'prom-client', 'selfsigned']);
  });
});
