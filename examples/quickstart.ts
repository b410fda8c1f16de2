// Run: node --import tsx examples/quickstart.ts
//
// Wraps a simulated push sender, sends a mix of successes and failures, serves /metrics and prints a few lines of
// what Prometheus would scrape. No network beyond 127.0.0.1.
import { PushTelemetry, startMetricsServer } from '../src/index.js';

interface Notification {
  token: string;
  title: string;
}

// Stands in for a provider SDK: fails the way real providers do, keyed off the token so the output is repeatable.
async function sendPush(notification: Notification): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 2));
  const { token } = notification;
  if (token.startsWith('gone')) throw Object.assign(new Error('Unregistered'), { statusCode: 410 });
  if (token.startsWith('slow')) throw Object.assign(new Error('Socket timeout'), { code: 'ETIMEDOUT' });
  if (token.startsWith('busy')) throw Object.assign(new Error('Too many requests'), { statusCode: 429 });
  if (token.startsWith('down')) throw Object.assign(new Error('Service unavailable'), { statusCode: 503 });
  return `msg-${token}`;
}

const telemetry = new PushTelemetry({ app: 'com.example.app' });
const send = telemetry.wrapSender(sendPush, {
  provider: 'fcm',
  tokens: ([notification]) => [notification.token],
  onInvalidToken: ({ token, errorType }) => console.log(`prune token ${token.slice(0, 6)}… (${errorType})`),
});

const tokens = [
  'ok-1',
  'ok-2',
  'ok-3',
  'ok-4',
  'ok-5',
  'ok-6',
  'gone-1',
  'gone-2',
  'slow-1',
  'busy-1',
  'down-1',
  'down-2',
];
const results = await Promise.allSettled(tokens.map((token) => send({ token, title: 'Hello' })));
const sent = results.filter((result) => result.status === 'fulfilled').length;
console.log(`sent ${sent} of ${tokens.length} notifications`);

const server = await startMetricsServer({ telemetry, port: Number(process.env.PORT ?? 0) });
console.log(`metrics: ${server.url}/metrics`);
const exposition = await (await fetch(`${server.url}/metrics`)).text();
const interesting = exposition
  .split('\n')
  .filter((line) => /^push_messages_total.* [1-9]|_count\{.* [1-9]|^push_telemetry_info/.test(line));
console.log(interesting.join('\n'));

if (process.argv.includes('--serve')) {
  console.log('serving until Ctrl-C');
  process.once('SIGINT', () => void server.close());
} else {
  await server.close();
}
