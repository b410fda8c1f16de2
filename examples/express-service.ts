// Run: node --import tsx examples/express-service.ts
//
// A small sender service: an express app with POST /send (an instrumented expo-server-sdk client behind it, pointed
// at the simulator) and GET /metrics for Prometheus. The example starts it, calls it a few times, prints, stops.
// To keep it running for curl:  PORT=3000 node --import tsx examples/express-service.ts --serve
//   curl -H 'content-type: application/json' -d '{"tokens":["ExponentPushToken[a]"],"title":"Hi"}' localhost:3000/send
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PushTelemetry } from 'push-telemetry';
import { instrumentExpo } from 'push-telemetry/expo';
import { startSimulator } from 'push-telemetry/simulator';

// Tokens gone-* get a DeviceNotRegistered ticket; a request with a down-* token gets a 503 from the fake Expo.
const sim = await startSimulator({
  providers: ['expo'],
  faults: {
    expo: {
      rules: [
        { match: 'ExponentPushToken[gone-*', fault: 'unregistered' },
        { match: 'ExponentPushToken[down-*', fault: 'provider_unavailable' },
      ],
    },
  },
});
process.env.EXPO_BASE_URL = sim.fake('expo').url; // read once by expo-server-sdk on import; not needed in production
const { Expo } = await import('expo-server-sdk');

const telemetry = new PushTelemetry({ app: 'com.example.app' });
const expo = instrumentExpo(new Expo(), telemetry);

const app = express();
app.use(express.json());
app.post('/send', async (req, res) => {
  const { tokens, title } = (req.body ?? {}) as { tokens?: unknown; title?: unknown };
  // A bad body is the caller's mistake, not a push failure: answer 400 naming the field, send nothing, count nothing.
  if (!Array.isArray(tokens) || tokens.length === 0 || !tokens.every((t) => typeof t === 'string')) {
    res.status(400).json({ error: 'tokens: expected a non-empty array of strings' });
    return;
  }
  if (typeof title !== 'string') {
    res.status(400).json({ error: 'title: expected a string' });
    return;
  }
  try {
    const tickets = await expo.sendPushNotificationsAsync(tokens.map((to: string) => ({ to, title })));
    res.json({
      accepted: tickets.filter((t) => t.status === 'ok').length,
      failed: tickets.filter((t) => t.status === 'error').length,
    });
  } catch (error) {
    // The whole call failed (Expo down, bad credentials...): already counted and classified by the adapter.
    res.status(502).json({ error: (error as Error).message });
  }
});
const metrics = telemetry.metricsHandler(); // GET /metrics in the Prometheus text format
app.get('/metrics', (req, res) => void metrics(req, res));

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`listening on ${url}`);

const post = async (body: unknown) => {
  const res = await fetch(`${url}/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  console.log(`POST /send ${JSON.stringify(body)} -> ${res.status} ${await res.text()}`);
};
await post({
  tokens: ['ExponentPushToken[ok-1]', 'ExponentPushToken[ok-2]', 'ExponentPushToken[gone-1]'],
  title: 'Hi',
});
await post({ tokens: ['ExponentPushToken[ok-3]', 'ExponentPushToken[down-1]'], title: 'Hi again' });
await post({ title: 'no tokens' });

const scrape = await (await fetch(`${url}/metrics`)).text();
console.log(
  `GET /metrics:\n${scrape
    .split('\n')
    .filter((line) => /^push_messages_total\{.* [1-9]/.test(line))
    .join('\n')}`,
);

const stop = async () => {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections(); // keep-alive clients would hold close() open
  await Promise.all([closed, sim.close()]);
};
if (process.argv.includes('--serve')) {
  console.log('serving until Ctrl-C');
  process.once('SIGINT', () => void stop());
} else {
  await stop();
}
