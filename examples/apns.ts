// Run: node --import tsx examples/apns.ts
//
// @parse/node-apn's Provider, instrumented with instrumentApns and pointed at the simulator's fake APNs (HTTP/2 over
// TLS). One send to five devices, some refused the way Apple refuses them; prints node-apn's { sent, failed }.
import { generateKeyPairSync } from 'node:crypto';
import apn from '@parse/node-apn';
import { PushTelemetry } from 'push-telemetry';
import { instrumentApns } from 'push-telemetry/apns';
import { startSimulator } from 'push-telemetry/simulator';

// The fake answers 410 Unregistered, 400 BadDeviceToken and 429 TooManyRequests for these tokens.
const sim = await startSimulator({
  providers: ['apns'],
  faults: {
    apns: {
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'bad-*', fault: 'invalid_token' },
        { match: 'busy-*', fault: 'rate_limited' },
      ],
    },
  },
});

// In production: your AuthKey_XXXXXXXXXX.p8 from Apple and production: true. Any P-256 key signs a JWT the fake accepts.
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const raw = new apn.Provider({
  token: { key, keyId: 'KEY1234567', teamId: 'TEAM123456' },
  address: '127.0.0.1',
  port: sim.fake('apns').port,
  rejectUnauthorized: false, // the fake's certificate is self-signed
  connectionRetryLimit: 0, // node-apn retries 429 and 5xx immediately otherwise; show the first answer
});

const telemetry = new PushTelemetry();
const provider = instrumentApns(raw, telemetry, {
  app: 'com.example.app',
  onInvalidToken: ({ token, errorType, reason }) => console.log(`  onInvalidToken ${token}: ${errorType} (${reason})`),
});

const note = new apn.Notification({ alert: 'Your order shipped', sound: 'default' });
note.topic = 'com.example.app';
const { sent, failed } = await provider.send(note, ['ok-1', 'ok-2', 'gone-1', 'bad-1', 'busy-1']);
console.log(`send: ${sent.length} sent, ${failed.length} failed`);
for (const failure of failed)
  console.log(`  ${failure.device}: ${failure.status} ${failure.response?.reason ?? failure.error?.message}`);

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|request_duration_seconds_count)\{.* [1-9]/.test(line))
    .join('\n'),
);

provider.shutdown();
await sim.close();
