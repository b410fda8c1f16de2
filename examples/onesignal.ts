// Run: node --import tsx examples/onesignal.ts
//
// @onesignal/node-onesignal, instrumented with instrumentOneSignal and pointed at the simulator's fake OneSignal API.
// OneSignal answers 200 even when it refuses recipients: the refused ids come back in the response's `errors`, and
// the adapter counts each recipient from them. Prints the answers, the pruned ids and the non-zero series.
import * as OneSignal from '@onesignal/node-onesignal';
import { PushTelemetry } from 'push-telemetry';
import { instrumentOneSignal } from 'push-telemetry/onesignal';
import { startSimulator } from 'push-telemetry/simulator';

// sub-gone is no longer subscribed; the segment "Dormant" has no subscribers; sub-busy is rate limited (429).
const sim = await startSimulator({
  providers: ['onesignal'],
  faults: {
    onesignal: {
      rules: [
        { match: 'sub-gone', fault: 'unregistered' },
        { match: 'Dormant', fault: 'unregistered' },
        { match: 'sub-busy', fault: 'rate_limited' },
      ],
    },
  },
});

// In production: createConfiguration({ restApiKey: process.env.ONESIGNAL_REST_API_KEY }), no baseServer.
const configuration = OneSignal.createConfiguration({
  restApiKey: 'test-rest-api-key',
  baseServer: new OneSignal.ServerConfiguration(sim.fake('onesignal').url, {}),
});
const telemetry = new PushTelemetry();
const client = instrumentOneSignal(new OneSignal.DefaultApi(configuration), telemetry, {
  app: 'com.example.app',
  // Only ids the response lists one by one (or the one recipient of a call) reach it: never a whole call's verdict.
  onInvalidToken: ({ token, errorType, reason }) => console.log(`  onInvalidToken ${token}: ${errorType} (${reason})`),
});

function notification(target: Partial<OneSignal.Notification>): OneSignal.Notification {
  return Object.assign(new OneSignal.Notification(), {
    app_id: '5eb5a37e-b458-11e3-ac11-000c2940e62c',
    contents: { en: 'Order shipped' },
    ...target,
  });
}

const toSubscriptions = await client.createNotification(
  notification({ include_subscription_ids: ['sub-1', 'sub-2', 'sub-gone'] }),
);
console.log(`subscriptions: id ${toSubscriptions.id ? 'set' : "''"}, errors ${JSON.stringify(toSubscriptions.errors)}`);

const toSegment = await client.createNotification(notification({ included_segments: ['Dormant'] }));
console.log(`segment Dormant: id ${toSegment.id ? 'set' : "''"}, errors ${JSON.stringify(toSegment.errors)}`);

try {
  await client.createNotification(notification({ include_subscription_ids: ['sub-busy'] }));
} catch (error) {
  const { code, headers } = error as OneSignal.ApiException<unknown>;
  console.log(`sub-busy: ApiException ${code}, Retry-After ${headers['retry-after']}`);
}

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|request_duration_seconds_count)\{.* [1-9]/.test(line))
    .join('\n'),
);

await sim.close();
