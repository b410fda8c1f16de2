// Run: node --import tsx examples/expo.ts
//
// expo-server-sdk, instrumented with instrumentExpo and pointed at the simulator's fake Expo service. Expo answers in
// two phases: tickets now (push_messages_total), receipts later (push_receipts_total). Prints both.
import { PushTelemetry } from 'push-telemetry';
import { instrumentExpo } from 'push-telemetry/expo';
import { startSimulator } from 'push-telemetry/simulator';

const token = (name: string) => `ExponentPushToken[${name}]`;
// gone-1 gets an error ticket (DeviceNotRegistered) at once; late-1 gets an ok ticket and a failed receipt later.
const sim = await startSimulator({
  providers: ['expo'],
  faults: {
    expo: {
      rules: [
        { match: token('gone-1'), fault: 'unregistered' },
        { match: token('late-1'), fault: { status: 200, reason: 'DeviceNotRegistered' } },
      ],
    },
  },
});

// expo-server-sdk reads EXPO_BASE_URL once, when it is first imported: set it first, then import. In production,
// leave it unset and import as usual: import { Expo } from 'expo-server-sdk'.
process.env.EXPO_BASE_URL = sim.fake('expo').url;
const { Expo } = await import('expo-server-sdk');

const telemetry = new PushTelemetry();
const expo = instrumentExpo(new Expo(), telemetry, {
  app: 'com.example.app',
  // Fires for error tickets and, later, for failed receipts (the adapter remembers which token each ticket was for).
  onInvalidToken: ({ token, errorType, reason }) => console.log(`  onInvalidToken ${token}: ${errorType} (${reason})`),
});

const messages = ['ok-1', 'ok-2', 'gone-1', 'late-1'].map((name) => ({ to: token(name), title: 'Order shipped' }));
const receiptIds: string[] = [];
for (const chunk of expo.chunkPushNotifications(messages)) {
  const tickets = await expo.sendPushNotificationsAsync(chunk);
  tickets.forEach((ticket, i) => {
    if (ticket.status === 'ok') receiptIds.push(ticket.id);
    console.log(
      `ticket ${chunk[i]?.to}: ${ticket.status === 'ok' ? `ok ${ticket.id.slice(0, 8)}` : `error ${ticket.details?.error}`}`,
    );
  });
}

// In production you fetch receipts 15 minutes or more later (a scheduled job); the fake has them ready at once.
for (const ids of expo.chunkPushNotificationReceiptIds(receiptIds)) {
  const receipts = await expo.getPushNotificationReceiptsAsync(ids);
  for (const [id, receipt] of Object.entries(receipts)) {
    console.log(
      `receipt ${id.slice(0, 8)}: ${receipt.status === 'ok' ? 'delivered' : `error ${receipt.details?.error}`}`,
    );
  }
}

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|receipts_total)\{.* [1-9]/.test(line))
    .join('\n'),
);

await sim.close();
