// Run: node --import tsx examples/fcm.ts
//
// firebase-admin's Messaging, instrumented with instrumentFcm and pointed at the simulator's fake FCM. Sends one
// message, then a multicast where some tokens are refused, and prints what FCM answered and what was counted.
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { PushTelemetry } from 'push-telemetry';
import { instrumentFcm } from 'push-telemetry/fcm';
import { fcmLoopbackAgent, startSimulator } from 'push-telemetry/simulator';

// The fake answers like FCM v1: 404 UNREGISTERED, 400 INVALID_ARGUMENT, 429 QUOTA_EXCEEDED for these tokens.
const sim = await startSimulator({
  providers: ['fcm'],
  faults: {
    fcm: {
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'bad-*', fault: 'invalid_token' },
        { match: 'busy-*', fault: 'rate_limited' },
      ],
    },
  },
});

// In production: initializeApp({ credential: applicationDefault() }). Here a fake credential (no Google login) and an
// agent that dials the fake instead of fcm.googleapis.com.
const agent = fcmLoopbackAgent(sim.fake('fcm').url);
const app = initializeApp({
  projectId: 'demo',
  credential: { getAccessToken: async () => ({ access_token: 'test', expires_in: 3600 }) },
  httpAgent: agent,
});
const raw = getMessaging(app);
raw.enableLegacyHttpTransport(); // sendEach* over HTTP/1.1, the only transport the agent can redirect

const telemetry = new PushTelemetry({ app: 'demo' });
const messaging = instrumentFcm(raw, telemetry, {
  onInvalidToken: ({ token, errorType, reason }) => console.log(`  onInvalidToken ${token}: ${errorType} (${reason})`),
});

const id = await messaging.send({ token: 'ok-1', notification: { title: 'Order shipped' } });
console.log(`send ok-1: ${id}`);
await messaging
  .send({ token: 'gone-1', notification: { title: 'Order shipped' } })
  .catch((error: { code?: string }) => console.log(`send gone-1: rejected ${error.code}`));

const tokens = ['ok-2', 'ok-3', 'gone-2', 'bad-1', 'busy-1'];
const batch = await messaging.sendEachForMulticast({ tokens, data: { kind: 'digest' } });
console.log(`sendEachForMulticast: ${batch.successCount} sent, ${batch.failureCount} failed`);
batch.responses.forEach((response, i) => {
  if (!response.success) console.log(`  ${tokens[i]}: ${response.error?.code}`);
});

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|request_duration_seconds_count)\{.* [1-9]/.test(line))
    .join('\n'),
);

await deleteApp(app);
agent.destroy();
await sim.close();
