// Run: node --import tsx examples/apns2.ts
//
// apns2's ApnsClient, instrumented with instrumentApns2 and pointed at the simulator's fake APNs. One send that
// fails with ApnsError, then a sendMany where some devices are refused; prints what apns2 returned.
import { generateKeyPairSync } from 'node:crypto';
import { ApnsClient, Notification } from 'apns2';
import { Pool } from 'undici';
import { PushTelemetry } from 'push-telemetry';
import { instrumentApns2 } from 'push-telemetry/apns2';
import { startSimulator } from 'push-telemetry/simulator';

// The fake answers 410 Unregistered, 400 BadDeviceToken and 503 ServiceUnavailable for these tokens.
const sim = await startSimulator({
  providers: ['apns'],
  faults: {
    apns: {
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'bad-*', fault: 'invalid_token' },
        { match: 'down-*', fault: 'provider_unavailable' },
      ],
    },
  },
});

// In production: your AuthKey_XXXXXXXXXX.p8 from Apple. Any P-256 key signs a JWT the fake accepts.
const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const raw = new ApnsClient({ team: 'TEAM123456', keyId: 'KEY1234567', signingKey, defaultTopic: 'com.example.app' });
// apns2 always dials <host>:443, so its undici pool is swapped for one on the fake (self-signed certificate).
await raw.client.close();
Object.defineProperty(raw, 'client', {
  value: new Pool(sim.fake('apns').url, { allowH2: true, connect: { rejectUnauthorized: false } }),
  writable: true,
  configurable: true,
});

const telemetry = new PushTelemetry();
const apns = instrumentApns2(raw, telemetry, {
  app: 'com.example.app',
  onInvalidToken: ({ token, errorType, reason }) => console.log(`  onInvalidToken ${token}: ${errorType} (${reason})`),
});

await apns
  .send(new Notification('gone-1', { alert: 'Your order shipped' }))
  .catch((error: { statusCode?: number; reason?: string }) => {
    console.log(`send gone-1: rejected ${error.statusCode} ${error.reason}`);
  });

const results = await apns.sendMany(
  ['ok-1', 'ok-2', 'bad-1', 'down-1'].map((token) => new Notification(token, { alert: 'Hi' })),
);
console.log(`sendMany: ${results.filter((r) => !('error' in r)).length} of ${results.length} sent`);
for (const result of results)
  if ('error' in result)
    console.log(`  ${result.error.notification.deviceToken}: ${result.error.statusCode} ${result.error.reason}`);

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|request_duration_seconds_count)\{.* [1-9]/.test(line))
    .join('\n'),
);

await raw.destroy();
await sim.close();
