import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIMULATED_PROVIDERS, startSimulator } from '../src/simulator/index.js';

describe('startSimulator', () => {
  it('starts all five fakes on loopback, on distinct free ports, and stops them', async () => {
    const simulator = await startSimulator({ faults: { expo: { rules: [{ fault: 'unregistered', match: 'ExponentPushToken[gone*' }] } } });
    try {
      const fakes = SIMULATED_PROVIDERS.map((provider) => simulator.fake(provider));
      assert.deepEqual(fakes.map((fake) => fake.provider), [...SIMULATED_PROVIDERS]);
      assert.equal(new Set(fakes.map((fake) => fake.port)).size, 5);
      for (const fake of fakes) assert.match(fake.url, /^https?:\/\/127\.0\.0\.1:\d+$/);
      // The Expo fake is plain HTTP and its faults came from the options: one request proves both.
      const response = await fetch(`${simulator.fake('expo').url}/--/api/v2/push/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ to: 'ExponentPushToken[gone-1]', body: 'hi' }, { to: 'ExponentPushToken[ok-1]', body: 'hi' }]),
      });
      const { data } = (await response.json()) as { data: Array<{ status: string; details?: { error?: string } }> };
      assert.deepEqual(data.map((ticket) => ticket.details?.error ?? ticket.status), ['DeviceNotRegistered', 'ok']);
      assert.deepEqual(simulator.fake('expo').stats, { requests: 1, accepted: 1, refused: 1 });
    } finally {
      await simulator.close();
    }
    await assert.rejects(fetch(`${simulator.fake('expo').url}/--/api/v2/push/send`, { method: 'POST', body: '[]' }));
  });

  it('starts only the providers asked for, and names a bad one', async () => {
    const simulator = await startSimulator({ providers: ['sns'] });
    try {
      assert.throws(() => simulator.fake('fcm'), /the fcm fake was not started/);
      assert.ok(simulator.fake('sns').port > 0);
    } finally {
      await simulator.close();
    }
    await assert.rejects(startSimulator({ providers: ['gcm' as never] }), /options\.providers: unknown provider "gcm"/);
    await assert.rejects(startSimulator({ faults: { fcm: { rules: [{ fault: 'boom' as never }] } } }), /faults\.rules\[0\]\.fault/);
  });
});
