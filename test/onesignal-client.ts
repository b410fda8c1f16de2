/** Real @onesignal/node-onesignal clients pointed at a loopback URL, shared by the tests that need one. */
import {
  createConfiguration,
  DefaultApi,
  Notification,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
  type RequestContext,
} from '@onesignal/node-onesignal';

export const ONESIGNAL_APP_ID = '5eb5a37e-b458-11e3-ac11-000c2940e62c';

/**
 * A DefaultApi whose requests go to `url` (the SDK's `baseServer` option). The SDK's own HTTP library has no timeout;
 * with `timeoutMs`, a PromiseHttpLibrary of the same fetch with an AbortSignal.timeout, the SDK's documented seam.
 */
export function oneSignalClient(url: string, options: { readonly timeoutMs?: number } = {}): DefaultApi {
  const { timeoutMs } = options;
  const httpApi =
    timeoutMs === undefined
      ? undefined
      : wrapHttpLibrary({
          async send(request: RequestContext): Promise<ResponseContext> {
            const response = await fetch(request.getUrl(), {
              method: request.getHttpMethod().toString(),
              body: request.getBody() as string | undefined,
              headers: request.getHeaders(),
              signal: AbortSignal.timeout(timeoutMs),
            });
            const headers: Record<string, string> = {};
            response.headers.forEach((value, name) => {
              headers[name] = value;
            });
            const text = await response.text();
            return new ResponseContext(response.status, headers, {
              text: async () => text,
              binary: async () => Buffer.from(text),
            });
          },
        });
  return new DefaultApi(
    createConfiguration({
      restApiKey: 'test-rest-api-key',
      baseServer: new ServerConfiguration(url, {}),
      ...(httpApi !== undefined && { httpApi }),
    }),
  );
}

const isIdList = (target: unknown): target is readonly string[] => Array.isArray(target);

/** A push notification to `ids` (subscription ids), or to a segment when `ids` is a `{ segments }` object. */
export function notificationTo(
  target: readonly string[] | { readonly segments: readonly string[] } | { readonly aliases: Record<string, string[]> },
): Notification {
  const notification = new Notification();
  notification.app_id = ONESIGNAL_APP_ID;
  notification.contents = { en: 'hi' };
  if (isIdList(target)) notification.include_subscription_ids = [...target];
  else if ('segments' in target) notification.included_segments = [...target.segments];
  else {
    notification.include_aliases = target.aliases;
    notification.target_channel = 'push';
  }
  return notification;
}
