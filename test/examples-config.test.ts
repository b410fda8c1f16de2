import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { requireBinary } from './prometheus.js';

const run = promisify(execFile);
const root = new URL('..', import.meta.url);
const LOCAL = 'examples/alertmanager/alertmanager.yml';

async function route(labels: string[]): Promise<string> {
  const { stdout } = await run(
    requireBinary('amtool'),
    ['config', 'routes', 'test', `--config.file=${LOCAL}`, ...labels],
    { cwd: root },
  );
  return stdout.trim();
}

describe('examples/alertmanager/alertmanager.yml', () => {
  it('is a valid Alertmanager configuration', async () => {
    const { stdout } = await run(requireBinary('amtool'), ['check-config', LOCAL], { cwd: root });
    assert.match(stdout, /SUCCESS/);
  });

  it('pages critical alerts, tickets warnings and drops info, all on loopback', async () => {
    assert.equal(await route(['severity=critical', 'alertname=PushProviderOutage', 'provider=fcm']), 'page');
    assert.equal(await route(['severity=critical', 'alertname=PushProviderHung', 'provider=fcm']), 'page');
    assert.equal(await route(['severity=critical', 'alertname=PushSendingStalled', 'provider=fcm']), 'page');
    assert.equal(await route(['severity=warning', 'alertname=PushRateLimited']), 'ticket');
    assert.equal(await route(['severity=warning', 'alertname=PushInvalidTokensHeld', 'provider=apns']), 'ticket');
    assert.equal(await route(['severity=info']), 'blackhole');
    const config = parse(await readFile(new URL(LOCAL, root), 'utf8')) as {
      receivers: Array<{ webhook_configs?: Array<{ url: string }> }>;
    };
    for (const receiver of config.receivers)
      for (const hook of receiver.webhook_configs ?? []) assert.match(hook.url, /^http:\/\/127\.0\.0\.1:/);
  });

  it("keeps the shipped example's inhibitions", async () => {
    const shipped = parse(await readFile(new URL('alerts/alertmanager.example.yml', root), 'utf8')) as {
      inhibit_rules: unknown[];
    };
    const local = parse(await readFile(new URL(LOCAL, root), 'utf8')) as { inhibit_rules: unknown[] };
    assert.deepEqual(local.inhibit_rules, shipped.inhibit_rules);
  });
});
