// Run: node --import tsx examples/webpush.ts
//
// The web-push module, instrumented with instrumentWebPush and sending to subscriptions on the simulator's fake push
// service (it speaks like Mozilla autopush). Prints each answer, the expired subscriptions and the metrics.
import https from 'node:https';
import webpush from 'web-push'; // the default import: in native ESM, `import * as` has no sendNotification
import { PushTelemetry } from 'push-telemetry';
import { instrumentWebPush } from 'push-telemetry/webpush';
import { startSimulator, webPushSubscription } from 'push-telemetry/simulator';

// The fake answers 410 (errno 106, subscription gone), 413 (payload too large) and 429 for these subscriptions.
const sim = await startSimulator({
  providers: ['webpush'],
  faults: {
    webpush: {
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'big-*', fault: 'payload_too_large' },
        { match: 'busy-*', fault: 'rate_limited' },
      ],
    },
  },
});

// In production: your VAPID keys from `npx web-push generate-vapid-keys`, kept out of the code.
const vapid = webpush.generateVAPIDKeys();
webpush.setVapidDetails('mailto:ops@example.com', vapid.publicKey, vapid.privateKey);

const telemetry = new PushTelemetry();
const push = instrumentWebPush(webpush, telemetry, {
  app: 'example-web',
  // The "token" of a web push is the subscription's endpoint URL.
  onInvalidToken: ({ token: endpoint, errorType, reason }) =>
    console.log(`  onInvalidToken ${endpoint}: ${errorType} (${reason})`),
});

// Browser subscriptions would come from your database; these point at the fake, with real keys to encrypt to.
const agent = new https.Agent({ rejectUnauthorized: false }); // the fake's certificate is self-signed
// Autopush explains a refusal in a JSON body; other push services (FCM, Apple) answer text or { reason }.
const explain = (body = ''): string => {
  try {
    return String((JSON.parse(body) as { message?: unknown; reason?: unknown }).message ?? body);
  } catch {
    return body.trim();
  }
};
for (const id of ['ok-1', 'ok-2', 'gone-1', 'big-1', 'busy-1']) {
  const subscription = webPushSubscription(sim.fake('webpush').url, id);
  await push
    .sendNotification(subscription, JSON.stringify({ title: 'Hi' }), { TTL: 3600, timeout: 10_000, agent })
    .then(
      (result) => console.log(`sendNotification ${id}: ${result.statusCode}, message ${result.headers.location}`),
      (error: { statusCode?: number; body?: string }) =>
        console.log(`sendNotification ${id}: ${error.statusCode} ${explain(error.body)}`),
    );
}

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|request_duration_seconds_count)\{.* [1-9]/.test(line))
    .join('\n'),
);

agent.destroy();
await sim.close();
