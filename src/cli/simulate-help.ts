import type { Simulator, SimulatedProvider } from '../simulator/index.js';

/**
 * What `simulate` prints: each fake's URL and the few lines that point the real SDK at it, with the URL filled in.
 * Kept next to docs/providers.md ("Testing against the simulator" sections), which explains why each is needed.
 */
const SNIPPETS: Readonly<Record<SimulatedProvider, (url: string, host: string, port: string) => string>> = {
  fcm: (url) => `
    import { fcmLoopbackAgent } from 'push-telemetry/simulator';
    const app = initializeApp({ projectId: 'demo', httpAgent: fcmLoopbackAgent('${url}'),
      credential: { getAccessToken: async () => ({ access_token: 'test', expires_in: 3600 }) } });
    getMessaging(app).enableLegacyHttpTransport(); // sendEach* only reach the fake over HTTP/1.1`,
  apns: (_url, host, port) => `
    new apn.Provider({ token: { key, keyId, teamId }, address: '${host}', port: ${port}, rejectUnauthorized: false })
    // any well-formed ES256 provider token is accepted; the signature is not checked`,
  webpush: (url) => `
    // subscriptions with endpoint ${url}/push/<id> (faults match <id>); self-signed TLS:
    webpush.sendNotification(subscription, payload, { agent: new https.Agent({ rejectUnauthorized: false }), vapidDetails })
    // or: webPushSubscription('${url}', '<id>') from 'push-telemetry/simulator' makes one with real keys`,
  expo: (url) => `
    EXPO_BASE_URL=${url}   // set before expo-server-sdk is first imported; it reads it once`,
  sns: (url) => `
    new SNSClient({ endpoint: '${url}', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })`,
  onesignal: (url) => `
    new DefaultApi(createConfiguration({ restApiKey: 'test', baseServer: new ServerConfiguration('${url}', {}) }))`,
};

export function pointingHelp(simulator: Simulator): string {
  const lines: string[] = ['fake providers:'];
  for (const fake of Object.values(simulator.providers)) {
    const url = new URL(fake.url);
    lines.push(
      `  ${fake.provider.padEnd(9)} ${fake.url}${SNIPPETS[fake.provider](fake.url, url.hostname.replace(/^\[|\]$/g, ''), url.port)}`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
