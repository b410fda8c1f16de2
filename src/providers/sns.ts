import { classifyError, httpStatusOf, reasonOf } from '../core/classify.js';
import type { PushTelemetry } from '../core/telemetry.js';
import type { ErrorType } from '../core/taxonomy.js';
import type { FailedMessage, PushSender, SettleResult } from '../core/types.js';
import { readProperty, readString } from '../core/read.js';
import { checkAdapterOptions, expectClient, withMethods, wrapMethod, type AdapterOptions } from './client-view.js';

export type { AdapterOptions } from './client-view.js';

/** A command object as @aws-sdk/client-sns builds it: the request parameters live in `input`. */
export interface SnsCommandLike {
  readonly input?: object;
}

/** An `SNSClient` or the aggregated `SNS` client of @aws-sdk/client-sns v3, or anything with the same `send`. */
export interface SnsClientLike {
  send(command: SnsCommandLike, ...rest: never[]): unknown;
}

type SendFn = (command: SnsCommandLike, ...rest: unknown[]) => unknown;

/**
 * SNS error codes → error_type, keyed without the `Exception` suffix so one row serves both the SDK's exception
 * `name` (EndpointDisabledException) and the wire code in PublishBatch `Failed` entries (EndpointDisabled).
 * Includes the generic AWS codes any query service can answer with (Throttling, InvalidClientTokenId…).
 */
export const SNS_ERROR_TYPES: Readonly<Record<string, ErrorType>> = {
  EndpointDisabled: 'unregistered',
  AuthorizationError: 'auth',
  InvalidSecurity: 'auth',
  InvalidClientTokenId: 'auth',
  SignatureDoesNotMatch: 'auth',
  ExpiredToken: 'auth',
  UnrecognizedClient: 'auth',
  NotFound: 'config',
  PlatformApplicationDisabled: 'config',
  KMSDisabled: 'config',
  KMSNotFound: 'config',
  KMSInvalidState: 'config',
  KMSAccessDenied: 'config',
  KMSOptInRequired: 'config',
  InvalidParameter: 'payload_invalid',
  InvalidParameterValue: 'payload_invalid',
  ParameterValueInvalid: 'payload_invalid',
  Validation: 'payload_invalid',
  ValidationError: 'payload_invalid',
  // A sender bug (more than 10 entries, empty batch, bad or repeated ids), not a capacity problem.
  TooManyEntriesInBatchRequest: 'payload_invalid',
  EmptyBatchRequest: 'payload_invalid',
  InvalidBatchEntryId: 'payload_invalid',
  BatchEntryIdsNotDistinct: 'payload_invalid',
  BatchRequestTooLong: 'payload_too_large',
  Throttled: 'rate_limited',
  Throttling: 'rate_limited',
  KMSThrottling: 'rate_limited',
  InternalError: 'provider_unavailable',
  InternalFailure: 'provider_unavailable',
  ServiceUnavailable: 'provider_unavailable',
};

// SNS has no size-specific code: an oversized Publish is InvalidParameter "Invalid parameter: Message too long".
const TOO_LARGE = /\btoo (long|large|big)\b/i;

/** Maps an SNS code (exception name or batch entry Code) onto the taxonomy; `senderFault` false means AWS's side. */
export function classifySnsCode(code: string, senderFault: boolean, message?: string, status?: number): ErrorType {
  const key = code.endsWith('Exception') ? code.slice(0, -'Exception'.length) : code;
  const type = Object.hasOwn(SNS_ERROR_TYPES, key) ? SNS_ERROR_TYPES[key] : undefined;
  if (type === 'payload_invalid' && message !== undefined && TOO_LARGE.test(message.slice(0, 500)))
    return 'payload_too_large';
  if (type !== undefined) return type;
  if (status === 429) return 'rate_limited';
  return senderFault ? 'unknown' : 'provider_unavailable';
}

/** An SNSServiceException (modelled or not): the SDK gives every error answered by SNS a `$fault`. */
function isServiceException(error: unknown): boolean {
  const fault = readProperty(error, '$fault');
  return (fault === 'client' || fault === 'server') && readString(error, 'name') !== undefined;
}

/**
 * Maps a rejection of `SNSClient.send` onto the taxonomy. Never throws. Transport failures go to classifyError, which
 * reads `code` before `name`: the SDK's HTTP handler renames ECONNRESET, ECONNREFUSED and EPIPE errors to
 * `TimeoutError` (to make them retryable) while keeping their code.
 */
export function classifySnsError(error: unknown): ErrorType {
  try {
    if (!isServiceException(error)) {
      const type = classifyError(error);
      // SNS names a gone endpoint only as EndpointDisabled: a bare 404/410 it could not even parse is a wrong
      // endpoint URL or proxy, and must never prune the endpoint ARN.
      return type === 'unregistered' || type === 'invalid_token' ? 'config' : type;
    }
    return classifySnsCode(
      readString(error, 'name') as string,
      readProperty(error, '$fault') === 'client',
      readString(error, 'message'),
      httpStatusOf(error),
    );
  } catch {
    return 'unknown';
  }
}

/** `push.provider.reason`: the exception name for SNS answers, the transport code (ECONNRESET…) otherwise. */
export function snsReason(error: unknown): string | undefined {
  return isServiceException(error) ? readString(error, 'name')?.slice(0, 128) : reasonOf(error);
}

type CommandKind = 'publish' | 'publish_batch';

/**
 * Publish or PublishBatch, told by the input's shape since class names do not survive minification; the class name
 * still counts when it is intact, so a Publish missing its Message is recorded as the failed publish it is.
 */
function commandKind(command: unknown): CommandKind | undefined {
  const name = readString(readProperty(command, 'constructor'), 'name');
  if (name === 'PublishCommand') return 'publish';
  if (name === 'PublishBatchCommand') return 'publish_batch';
  const input = readProperty(command, 'input');
  if (Array.isArray(readProperty(input, 'PublishBatchRequestEntries'))) return 'publish_batch';
  const target = ['TopicArn', 'TargetArn', 'PhoneNumber'].some((key) => readString(input, key) !== undefined);
  return target && readString(input, 'Message') !== undefined ? 'publish' : undefined;
}

/** The endpoint ARN of a mobile push publish: SNS's stand-in for the device token. Topics and phone numbers are not. */
function targetArnOf(command: unknown): string | undefined {
  return readString(readProperty(command, 'input'), 'TargetArn');
}

function settlePublish(output: unknown): SettleResult {
  const messageId = readString(output, 'MessageId');
  return { accepted: 1, failed: [], ...(messageId !== undefined && { messageId }) };
}

function entriesOf(command: unknown): number {
  const entries = readProperty(readProperty(command, 'input'), 'PublishBatchRequestEntries');
  return Array.isArray(entries) ? entries.length : 0;
}

/** PublishBatch resolves with `{ Successful, Failed }`; each Failed entry is one refused message (topics only, no token). */
function settleBatch(output: unknown, command: unknown): SettleResult {
  const successful = readProperty(output, 'Successful');
  const failedEntries = readProperty(output, 'Failed');
  const failed: FailedMessage[] = [];
  for (const entry of Array.isArray(failedEntries) ? (failedEntries as unknown[]) : []) {
    const code = readString(entry, 'Code') ?? '';
    failed.push({
      errorType: classifySnsCode(code, readProperty(entry, 'SenderFault') !== false, readString(entry, 'Message')),
      reason: code.slice(0, 128),
    });
  }
  const accepted = Array.isArray(successful) ? successful.length : Math.max(0, entriesOf(command) - failed.length);
  const messageId =
    Array.isArray(successful) && successful.length === 1 ? readString(successful[0], 'MessageId') : undefined;
  return { accepted, failed, ...(messageId !== undefined && { messageId }) };
}

/**
 * Instruments `send` of an SNSClient (or the aggregated SNS client, whose `publish()`/`publishBatch()` go through
 * `this.send`) and returns a view of it; the client itself is not modified. Publish and PublishBatch commands are
 * recorded as `publish` / `publish_batch`; every other command goes to the SDK untouched, without span or metric.
 */
export function instrumentSns<T extends SnsClientLike>(
  client: T,
  telemetry: PushTelemetry,
  options?: AdapterOptions,
): T {
  expectClient(client, ['send'], 'instrumentSns', 'an SNSClient (or SNS) from @aws-sdk/client-sns');
  const { app, group, onInvalidToken, onInvalidTokensHeld } = checkAdapterOptions(options, 'instrumentSns');
  const common = {
    provider: 'sns',
    app,
    group,
    classify: classifySnsError,
    reason: snsReason,
    onInvalidToken,
    onInvalidTokensHeld,
  };
  // Two publish senders sharing one series: only an endpoint publish has a token, and counting tokens would make a
  // topic publish zero messages (countMessages would give 1, but marks every span as a batch).
  const toEndpoint = wrapMethod<SendFn>(telemetry, client, 'send', {
    ...common,
    operation: 'publish',
    tokens: ([command]) => [targetArnOf(command) ?? ''],
    settle: settlePublish,
  });
  const toTopic = wrapMethod<SendFn>(telemetry, client, 'send', {
    ...common,
    operation: 'publish',
    settle: settlePublish,
  });
  const batch = wrapMethod<SendFn>(telemetry, client, 'send', {
    ...common,
    operation: 'publish_batch',
    countMessages: ([command]) => entriesOf(command),
    settle: (output, [command]) => settleBatch(output, command),
  });
  const original = client.send as SendFn;

  const send = (command: SnsCommandLike, ...rest: unknown[]): unknown => {
    const kind = commandKind(command);
    if (kind === undefined) return Reflect.apply(original, client, [command, ...rest]);
    const sender = kind === 'publish_batch' ? batch : targetArnOf(command) !== undefined ? toEndpoint : toTopic;
    const callback = rest.find((arg) => typeof arg === 'function') as
      | ((error: unknown, output?: unknown) => void)
      | undefined;
    if (callback === undefined) return sender(command, ...rest);
    // The SDK's callback form returns nothing and reports through the callback; run the promise form and relay it.
    const handlerOptions = typeof rest[0] === 'function' ? undefined : rest[0];
    Promise.resolve(sender(command, handlerOptions))
      .then(
        (output) => callback(null, output),
        (error: unknown) => callback(error),
      )
      // As in the SDK: a callback that throws must not become an unhandled rejection.
      .catch(() => {});
    return undefined;
  };
  Object.defineProperty(send, 'name', { value: original.name || 'send' });
  Object.defineProperty(send, 'length', { value: original.length });
  const methods: Record<string, PushSender> = { send };
  // The view runs pass-through methods on the client itself, whose send is bare. The aggregated SNS client's publish()
  // and publishBatch() only build a command and call this.send(): served like instrumented members, they keep `this` =
  // the view and so reach the instrumented send.
  for (const name of ['publish', 'publishBatch']) {
    const aggregated = readProperty(client, name);
    if (typeof aggregated === 'function') methods[name] = aggregated as PushSender;
  }
  return withMethods(client, methods);
}
