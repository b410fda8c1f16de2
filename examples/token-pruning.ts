// Run: node --import tsx examples/token-pruning.ts
//
// onInvalidToken removing dead device tokens from a token store (here an in-memory Map of user -> tokens), so the
// next send does not try them again. firebase-admin sends to the simulator's fake FCM, which reports some tokens
// UNREGISTERED (app uninstalled) or not valid; the store shrinks after the first round and the second is clean.
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { PushTelemetry, type InvalidTokenEvent } from 'push-telemetry';
import { instrumentFcm } from 'push-telemetry/fcm';
import { fcmLoopbackAgent, startSimulator } from 'push-telemetry/simulator';

// Stands in for your database table of device registrations.
const store = new Map<string, Set<string>>([
  ['alice', new Set(['alice-phone', 'gone-alice-old-phone'])],
  ['bob', new Set(['bob-phone', 'bob-tablet', 'bad-bob-corrupt'])],
  ['carol', new Set(['gone-carol-phone'])],
]);
const count = () => [...store.values()].reduce((sum, tokens) => sum + tokens.size, 0);

// Called once per refused recipient whose error is unregistered or invalid_token, never for outages or rate limits
// (those tokens are fine). It is not awaited: a slow database never holds up the send.
function pruneToken({ token, errorType, reason }: InvalidTokenEvent): void {
  for (const [user, tokens] of store)
    if (tokens.delete(token)) console.log(`  pruned ${user}'s ${token}: ${errorType} (${reason})`);
}

const sim = await startSimulator({
  providers: ['fcm'],
  faults: {
    fcm: {
      rules: [
        { match: 'gone-*', fault: 'unregistered' },
        { match: 'bad-*', fault: 'invalid_token' },
        { match: 'bob-tablet', fault: 'rate_limited', rate: 0.5 },
      ],
    },
  },
});
// A fake credential and an agent dialling the simulator; in production: initializeApp({ credential: applicationDefault() }).
const agent = fcmLoopbackAgent(sim.fake('fcm').url);
const app = initializeApp({
  projectId: 'demo',
  credential: { getAccessToken: async () => ({ access_token: 'test', expires_in: 3600 }) },
  httpAgent: agent,
});
const raw = getMessaging(app);
raw.enableLegacyHttpTransport(); // sendEach* over HTTP/1.1, the only transport the simulator's agent can redirect

const telemetry = new PushTelemetry({ app: 'demo' });
const messaging = instrumentFcm(raw, telemetry, { onInvalidToken: pruneToken });

for (const round of [1, 2]) {
  const tokens = [...store.values()].flatMap((set) => [...set]);
  console.log(
    `round ${round}: store has ${count()} tokens for ${[...store.values()].filter((set) => set.size > 0).length} users`,
  );
  const batch = await messaging.sendEachForMulticast({ tokens, notification: { title: 'Weekly digest' } });
  const errors = batch.responses.flatMap((response, i) =>
    response.success ? [] : [`${tokens[i]} ${response.error?.code}`],
  );
  console.log(
    `round ${round}: ${batch.successCount} sent, ${batch.failureCount} failed${errors.length > 0 ? `: ${errors.join(', ')}` : ''}`,
  );
}
// bob-tablet stays: a rate limit says nothing about the token itself.
console.log(
  `store now has ${count()} tokens: ${[...store].map(([user, tokens]) => `${user} [${[...tokens].join(', ')}]`).join(', ')}`,
);

await deleteApp(app);
agent.destroy();
await sim.close();
