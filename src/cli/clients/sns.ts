import { classifySnsError, instrumentSns, snsReason } from '../../providers/sns.js';
import { loadSdk } from './load.js';
import { DEMO_APP, type ClientContext, type FailedToken, type ProviderClient } from './types.js';

/** Mobile push through SNS goes to a platform endpoint ARN; a demo token that is not an ARN names one under this. */
export const DEMO_ENDPOINT_PREFIX = 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/push-telemetry-demo/';

/** @aws-sdk/client-sns on the fake SNS: static credentials, one attempt (the fake's faults are the retries' business). */
export async function snsClient(context: ClientContext): Promise<ProviderClient> {
  const { SNSClient, PublishCommand } = await loadSdk('@aws-sdk/client-sns', () => import('@aws-sdk/client-sns'));
  const raw = new SNSClient({
    endpoint: context.fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
    maxAttempts: 1,
    // Without throwOnRequestTimeout the SDK only logs a warning and keeps waiting.
    requestHandler: { requestTimeout: context.timeoutMs, throwOnRequestTimeout: true },
  });
  const onInvalidToken = context.onInvalidToken;
  const sns =
    context.instrument === false
      ? raw
      : instrumentSns(raw, context.telemetry, {
          app: DEMO_APP,
          ...(context.group !== undefined && { group: context.group }),
          ...(onInvalidToken && {
            onInvalidToken: ({ token }) =>
              onInvalidToken(
                'sns',
                token.startsWith(DEMO_ENDPOINT_PREFIX) ? token.slice(DEMO_ENDPOINT_PREFIX.length) : token,
              ),
          }),
        });

  return {
    async send(tokens, notification) {
      const message = JSON.stringify({
        default: notification.body,
        GCM: JSON.stringify({
          notification: { title: notification.title, body: notification.body },
          data: notification.data ?? {},
        }),
      });
      const results = await Promise.allSettled(
        tokens.map((token) =>
          sns.send(
            new PublishCommand({
              TargetArn: token.startsWith('arn:') ? token : `${DEMO_ENDPOINT_PREFIX}${token}`,
              Message: message,
              MessageStructure: 'json',
            }),
          ),
        ),
      );
      const failed: FailedToken[] = [];
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') return;
        const reason = snsReason(result.reason);
        failed.push({
          token: tokens[i] as string,
          errorType: classifySnsError(result.reason),
          ...(reason !== undefined && { reason }),
        });
      });
      return { accepted: tokens.length - failed.length, failed };
    },
    async close() {
      raw.destroy();
    },
  };
}
