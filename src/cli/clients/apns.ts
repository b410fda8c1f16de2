import { generateKeyPairSync } from 'node:crypto';
import { apnsReasonOf, classifyApnsError, instrumentApns } from '../../providers/apns.js';
import { readString } from '../../core/read.js';
import { loadSdk } from './load.js';
import { DEMO_APP, type ClientContext, type ProviderClient } from './types.js';

/** APNs wants the app's bundle id as the topic. */
export const DEMO_TOPIC = DEMO_APP;

/**
 * A @parse/node-apn Provider on the fake APNs. Token auth with a P-256 key made for this run (node-apn signs real ES256
 * JWTs; the fake checks their shape, not Apple's signature), and the fake's self-signed certificate accepted.
 */
export async function apnsClient(context: ClientContext): Promise<ProviderClient> {
  const { default: apn } = await loadSdk('@parse/node-apn', () => import('@parse/node-apn'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const target = new URL(context.fake.url);
  const raw = new apn.Provider({
    token: {
      key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      keyId: 'DEMOKEY123',
      teamId: 'DEMOTEAM12',
    },
    address: target.hostname.replace(/^\[|\]$/g, ''),
    port: Number(target.port),
    rejectUnauthorized: false,
    requestTimeout: context.timeoutMs,
    connectionRetryLimit: 1,
  });
  const onInvalidToken = context.onInvalidToken;
  const provider =
    context.instrument === false
      ? raw
      : instrumentApns(raw, context.telemetry, {
          app: DEMO_APP,
          ...(context.group !== undefined && { group: context.group }),
          ...(onInvalidToken && { onInvalidToken: ({ token }) => onInvalidToken('apns', token) }),
        });

  return {
    async send(tokens, notification) {
      const note = new apn.Notification({
        alert: { title: notification.title, body: notification.body },
        payload: { ...notification.data },
      });
      note.topic = DEMO_TOPIC;
      // node-apn resolves { sent, failed } and does not reject for refused devices.
      const result = await provider.send(note, [...tokens]);
      const failed = result.failed.map((entry) => {
        const reason = apnsReasonOf(entry);
        return {
          token: readString(entry, 'device') ?? '',
          errorType: classifyApnsError(entry),
          ...(reason !== undefined && { reason }),
        };
      });
      return { accepted: result.sent.length, failed };
    },
    async close() {
      raw.shutdown();
    },
  };
}
