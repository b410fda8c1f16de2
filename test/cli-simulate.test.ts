import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from './prometheus.js';
import { startCli, type Running } from './cli-run.js';

/** `push-telemetry simulate`: the fakes for a user's own sender, faults from a file that can change while it runs. */

const running: Running[] = [];
let tmp: string | undefined;
after(async () => {
  for (const run of running) run.kill();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

/** A Publish to the fake SNS the way @aws-sdk/client-sns sends it (awsQuery form); resolves with the HTTP status. */
async function publish(url: string, targetArn: string): Promise<number> {
  const body = new URLSearchParams({
    Action: 'Publish',
    Version: '2010-03-31',
    TargetArn: targetArn,
    Message: 'hello',
  });
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  await response.text();
  return response.status;
}

describe('push-telemetry simulate', () => {
  it('serves the fakes from --config on the ports asked for, reloads faults when the file changes, stops on SIGTERM', {
    timeout: 30_000,
  }, async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'push-telemetry-simulate-test-'));
    const file = path.join(tmp, 'faults.json');
    const snsPort = await freePort();
    await writeFile(
      file,
      JSON.stringify({
        faults: { sns: { rules: [{ match: 'arn:down*', fault: 'provider_unavailable' }] } },
        providers: ['sns', 'fcm'],
      }),
    );
    const sim = startCli(['simulate', '--config', file, '--port-sns', String(snsPort)]);
    running.push(sim);

    await sim.waitFor(/simulating until Ctrl-C/, 20_000);
    const out = sim.stdout();
    assert.match(out, new RegExp(`^ {2}sns +http://127\\.0\\.0\\.1:${snsPort}$`, 'm'));
    assert.match(out, /^ {2}fcm +https:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(out, /fcmLoopbackAgent\('https:\/\/127\.0\.0\.1:\d+'\)/, 'how to point firebase-admin at it');
    assert.match(out, new RegExp(`endpoint: 'http://127\\.0\\.0\\.1:${snsPort}'`), 'how to point SNSClient at it');
    assert.doesNotMatch(out, /^ {2}apns /m, 'only the providers the config lists');

    const url = `http://127.0.0.1:${snsPort}`;
    assert.equal(await publish(url, 'arn:down:1'), 500);
    assert.equal(await publish(url, 'arn:up:1'), 200);

    await writeFile(
      file,
      JSON.stringify({
        faults: { sns: { rules: [{ match: 'arn:hang*', fault: 'hang' }, { fault: 'rate_limited' }] } },
        providers: ['sns', 'fcm'],
      }),
    );
    await sim.waitFor(/faults reloaded from .*\n/, 10_000);
    assert.equal(await publish(url, 'arn:up:2'), 429);
    // A hang holds the request with no answer; the reload that ends it drops the request (a reset, for the client).
    const hung = publish(url, 'arn:hang:1').then(
      () => 'answered',
      (error: Error) => `failed: ${String((error.cause as Error | undefined)?.message ?? error.message)}`,
    );
    const waited = await Promise.race([
      hung,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500)),
    ]);
    assert.equal(waited, 'still waiting');
    await writeFile(
      file,
      JSON.stringify({ faults: { sns: { rules: [{ fault: 'rate_limited' }] } }, providers: ['sns', 'fcm'] }),
    );
    await sim.waitFor(/faults reloaded from \S+ \(hung requests dropped: sns 1\)/, 10_000);
    assert.match(await hung, /^failed: /);

    sim.child.kill('SIGTERM');
    assert.equal(await sim.exited, 0, sim.stderr());
    assert.match(sim.stdout(), /^sns +requests 4, accepted 1, refused 3$/m);
    await assert.rejects(fetch(url), 'the fake is closed');
  });

  it('without --config starts all six fakes, and --duration ends it', { timeout: 30_000 }, async () => {
    const sim = startCli(['simulate', '--duration', '2s']);
    running.push(sim);
    assert.equal(await sim.exited, 0, sim.stderr());
    for (const provider of ['fcm', 'apns', 'webpush', 'expo', 'sns', 'onesignal'])
      assert.match(sim.stdout(), new RegExp(`^ {2}${provider} +https?://127\\.0\\.0\\.1:\\d+$`, 'm'));
    assert.match(sim.stdout(), /EXPO_BASE_URL=http:\/\/127\.0\.0\.1:\d+/);
    assert.match(sim.stdout(), /new ServerConfiguration\('http:\/\/127\.0\.0\.1:\d+', \{\}\)/);
    assert.match(sim.stdout(), /^onesignal +requests 0, accepted 0, refused 0$/m);
  });
});
