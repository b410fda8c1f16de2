import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  CreatePlatformEndpointCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SNS,
  SNSClient,
  type SNSClientConfig,
} from '@aws-sdk/client-sns';
import { PushTelemetry, type ErrorType, type InvalidTokenEvent } from '../src/index.js';
import { classifySnsError, instrumentSns, snsReason, SNS_ERROR_TYPES } from '../src/providers/sns.js';
import type { FakeProvider } from '../src/simulator/fake.js';
import { FaultPlan, type Fault } from '../src/simulator/faults.js';
import { startFakeSns } from '../src/simulator/sns.js';
import { closedPort, createTracing, scrape, valueOf, type Sample, type Tracing } from './helpers.js';

const ENDPOINT = 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:alerts';

let fake: FakeProvider;
let tracing: Tracing;
const clients: SNSClient[] = [];

/** A real SNSClient on the fake: one attempt (the SDK retries throttling and 5xx otherwise), 300 ms timeout. */
function snsConfig(overrides: Partial<SNSClientConfig> = {}): SNSClientConfig {
  return {
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    // requestTimeout alone only logs a warning in @smithy/node-http-handler 4.x; it must be told to throw.
    requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    ...overrides,
  };
}

function newClient(overrides?: Partial<SNSClientConfig>): SNSClient {
  const client = new SNSClient(snsConfig(overrides));
  clients.push(client);
  return client;
}

before(async () => {
  // SNS is plain HTTP, so the fake never uses its TLS identity.
  fake = await startFakeSns({ host: '127.0.0.1', port: 0, identity: { key: '', cert: '' }, faults: new FaultPlan() });
  tracing = createTracing();
});
after(async () => {
  for (const client of clients) client.destroy();
  await fake.close();
  await tracing.shutdown();
});

/** A fresh telemetry and instrumented client per scenario, so every count below is exact. */
function harness(overrides?: Partial<SNSClientConfig>) {
  tracing.exporter.reset();
  fake.faults.set({});
  const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
  const invalid: InvalidTokenEvent[] = [];
  const raw = newClient(overrides);
  const sns = instrumentSns(raw, telemetry, { onInvalidToken: (event) => void invalid.push(event) });
  return { telemetry, raw, sns, invalid };
}

function messages(samples: readonly Sample[], labels: Record<string, string>): number {
  return valueOf(samples, 'push_messages_total', { provider: 'sns', ...labels }) ?? 0;
}

function calls(samples: readonly Sample[], operation: string, outcome: string): number {
  return valueOf(samples, 'push_request_duration_seconds_count', { provider: 'sns', operation, outcome }) ?? 0;
}

/** Every push_messages_total series with a non-zero value, as `outcome/error_type` → count. */
function nonZeroMessages(samples: readonly Sample[]): Record<string, number> {
  const found: Record<string, number> = {};
  for (const s of samples) {
    if (s.name === 'push_messages_total' && s.value !== 0)
      found[`${s.labels.outcome}/${s.labels.error_type ?? ''}`] = s.value;
  }
  return found;
}

interface Row {
  readonly fault: Fault | 'refused' | 'aborted' | 'oversized';
  readonly errorType: ErrorType;
  /** The SDK's error name; the span's push.provider.reason is this name, or `reason` for transport failures. */
  readonly name: string;
  readonly reason?: string;
  readonly topic?: boolean;
  readonly client?: Partial<SNSClientConfig>;
}

const ROWS: readonly Row[] = [
  { fault: 'unregistered', errorType: 'unregistered', name: 'EndpointDisabledException' },
  { fault: { status: 400, reason: 'EndpointDisabled' }, errorType: 'unregistered', name: 'EndpointDisabledException' },
  { fault: 'invalid_token', errorType: 'payload_invalid', name: 'InvalidParameterException' },
  { fault: 'auth', errorType: 'auth', name: 'AuthorizationErrorException' },
  { fault: { status: 403, reason: 'InvalidSecurity' }, errorType: 'auth', name: 'InvalidSecurityException' },
  { fault: { status: 403, reason: 'InvalidClientTokenId' }, errorType: 'auth', name: 'InvalidClientTokenId' },
  { fault: { status: 403, reason: 'SignatureDoesNotMatch' }, errorType: 'auth', name: 'SignatureDoesNotMatch' },
  { fault: { status: 403, reason: 'ExpiredToken' }, errorType: 'auth', name: 'ExpiredToken' },
  { fault: { status: 400, reason: 'ExpiredTokenException' }, errorType: 'auth', name: 'ExpiredTokenException' },
  {
    fault: { status: 400, reason: 'UnrecognizedClientException' },
    errorType: 'auth',
    name: 'UnrecognizedClientException',
  },
  { fault: 'config', errorType: 'config', name: 'PlatformApplicationDisabledException' },
  { fault: 'config', topic: true, errorType: 'config', name: 'NotFoundException' },
  { fault: { status: 400, reason: 'KMSDisabled' }, errorType: 'config', name: 'KMSDisabledException' },
  { fault: { status: 400, reason: 'KMSNotFound' }, errorType: 'config', name: 'KMSNotFoundException' },
  { fault: { status: 400, reason: 'KMSInvalidState' }, errorType: 'config', name: 'KMSInvalidStateException' },
  { fault: { status: 400, reason: 'KMSAccessDenied' }, errorType: 'config', name: 'KMSAccessDeniedException' },
  { fault: { status: 403, reason: 'KMSOptInRequired' }, errorType: 'config', name: 'KMSOptInRequired' },
  { fault: 'payload_invalid', errorType: 'payload_invalid', name: 'InvalidParameterException' },
  {
    fault: { status: 400, reason: 'ParameterValueInvalid' },
    errorType: 'payload_invalid',
    name: 'InvalidParameterValueException',
  },
  { fault: { status: 400, reason: 'ValidationException' }, errorType: 'payload_invalid', name: 'ValidationException' },
  { fault: 'payload_too_large', errorType: 'payload_too_large', name: 'InvalidParameterException' },
  { fault: 'oversized', errorType: 'payload_too_large', name: 'InvalidParameterException' },
  { fault: 'rate_limited', errorType: 'rate_limited', name: 'ThrottledException' },
  { fault: { status: 400, reason: 'Throttling' }, errorType: 'rate_limited', name: 'Throttling' },
  { fault: { status: 400, reason: 'KMSThrottling' }, errorType: 'rate_limited', name: 'KMSThrottlingException' },
  { fault: 'provider_unavailable', errorType: 'provider_unavailable', name: 'InternalErrorException' },
  { fault: { status: 500, reason: 'InternalFailure' }, errorType: 'provider_unavailable', name: 'InternalFailure' },
  {
    fault: { status: 503, reason: 'ServiceUnavailable' },
    errorType: 'provider_unavailable',
    name: 'ServiceUnavailable',
  },
  { fault: { status: 502, reason: 'BadGateway' }, errorType: 'provider_unavailable', name: 'BadGateway' },
  { fault: { status: 400, reason: 'SomethingNew' }, errorType: 'unknown', name: 'SomethingNew' },
  // The SDK's HTTP handler renames ECONNRESET (and ETIMEDOUT) errors TimeoutError; the code says which it was.
  { fault: 'hang', errorType: 'timeout', name: 'TimeoutError', reason: 'ETIMEDOUT' },
  {
    fault: 'hang',
    client: { requestHandler: { socketTimeout: 200 } },
    errorType: 'timeout',
    name: 'TimeoutError',
    reason: 'TimeoutError',
  },
  { fault: 'reset', errorType: 'network', name: 'TimeoutError', reason: 'ECONNRESET' },
  { fault: 'refused', errorType: 'network', name: 'Error', reason: 'ECONNREFUSED' },
  { fault: 'aborted', errorType: 'canceled', name: 'AbortError', reason: 'AbortError' },
];

function label(fault: Row['fault']): string {
  return typeof fault === 'string' ? fault : `${fault.status} ${fault.reason}`;
}

describe('instrumentSns: Publish, every failure SNS or the transport can produce', () => {
  for (const [i, row] of ROWS.entries()) {
    it(`${label(row.fault)}${row.topic ? ' (topic)' : ''}${row.client ? ` ${JSON.stringify(row.client)}` : ''} → ${row.errorType}`, async () => {
      const { telemetry, sns, invalid } = harness(
        row.fault === 'refused' ? { endpoint: `http://127.0.0.1:${await closedPort()}` } : row.client,
      );
      const target = row.topic ? `${TOPIC}-${i}` : `${ENDPOINT}row-${i}`;
      if (typeof row.fault !== 'string' || !['refused', 'aborted', 'oversized'].includes(row.fault)) {
        fake.faults.set({ rules: [{ fault: row.fault as Fault, match: target }] });
      }
      const input = {
        ...(row.topic ? { TopicArn: target } : { TargetArn: target }),
        Message: row.fault === 'oversized' ? 'x'.repeat(262_145) : 'hello',
      };
      const abort = new AbortController();
      if (row.fault === 'aborted') {
        fake.faults.set({ rules: [{ fault: 'hang' }] });
        setTimeout(() => abort.abort(), 50);
      }

      const error: unknown = await sns.send(new PublishCommand(input), { abortSignal: abort.signal }).then(
        () => assert.fail('the publish resolved'),
        (e: unknown) => e,
      );
      assert.equal((error as Error).name, row.name);
      if (row.reason === undefined)
        assert.equal(
          (error as { $fault?: string }).$fault,
          row.errorType === 'provider_unavailable' ? 'server' : 'client',
        );

      const { samples } = await scrape(telemetry);
      assert.deepEqual(nonZeroMessages(samples), { [`failed/${row.errorType}`]: 1 });
      assert.equal(calls(samples, 'publish', 'failure'), 1);
      const [span, ...others] = tracing.spans();
      assert.equal(others.length, 0);
      assert.equal(span?.name, 'publish sns');
      assert.equal(span?.attributes['messaging.system'], 'aws.sns');
      assert.equal(span?.attributes['error.type'], row.errorType);
      assert.equal(span?.attributes['push.provider.reason'], row.reason ?? row.name);
      assert.equal(span?.status.code, SpanStatusCode.ERROR);
      assert.deepEqual(
        invalid,
        row.errorType === 'unregistered'
          ? [{ token: target, errorType: 'unregistered', provider: 'sns', reason: row.name }]
          : [],
      );
    });
  }

  it('never tells onInvalidToken about a topic, even when SNS says EndpointDisabled', async () => {
    const { telemetry, sns, invalid } = harness();
    fake.faults.set({ rules: [{ fault: 'unregistered' }] });
    await assert.rejects(sns.send(new PublishCommand({ TopicArn: TOPIC, Message: 'hi' })), {
      name: 'EndpointDisabledException',
    });
    const { samples } = await scrape(telemetry);
    assert.equal(messages(samples, { outcome: 'failed', error_type: 'unregistered' }), 1);
    assert.deepEqual(invalid, []);
  });

  it('records a Publish missing its Message as the failed publish it is (told by the class name)', async () => {
    const { telemetry, sns } = harness();
    await assert.rejects(sns.send(new PublishCommand({ TargetArn: `${ENDPOINT}empty` } as never)), {
      name: 'InvalidParameterException',
    });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), { 'failed/payload_invalid': 1 });
  });

  it('honours the fault plan latency (here longer than the client timeout)', async () => {
    const { telemetry, sns } = harness();
    fake.faults.set({ latencyMs: 800 });
    await assert.rejects(sns.send(new PublishCommand({ TargetArn: `${ENDPOINT}slow`, Message: 'hi' })), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    fake.faults.set({});
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), { 'failed/timeout': 1 });
  });

  it('counts SDK retries as one call: the fake sees every attempt, the metrics one failed message', async () => {
    const { telemetry, sns } = harness({ maxAttempts: 2 });
    fake.faults.set({ rules: [{ fault: 'provider_unavailable' }] });
    const before = fake.stats.requests;
    const error = await sns
      .send(new PublishCommand({ TargetArn: `${ENDPOINT}retry`, Message: 'hi' }))
      .catch((e: unknown) => e);
    assert.equal((error as { $metadata: { attempts: number } }).$metadata.attempts, 2);
    assert.equal(fake.stats.requests - before, 2);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), { 'failed/provider_unavailable': 1 });
  });
});

describe('instrumentSns: successful publishes and what passes through', () => {
  it('records an endpoint publish with its MessageId and resolves with the SDK output object itself', async () => {
    const { telemetry, raw, sns } = harness();
    let sdkOutput: unknown;
    raw.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        sdkOutput = result.output;
        return result;
      },
      { step: 'initialize', name: 'captureOutput' },
    );

    const output = await sns.send(new PublishCommand({ TargetArn: `${ENDPOINT}ok`, Message: 'hi' }));
    assert.equal(output, sdkOutput);
    assert.match(output.MessageId ?? '', /^[0-9a-f-]{36}$/);
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), { 'accepted/': 1 });
    assert.equal(calls(samples, 'publish', 'success'), 1);
    const [span] = tracing.spans();
    assert.equal(span?.kind, SpanKind.PRODUCER);
    assert.equal(span?.attributes['messaging.message.id'], output.MessageId);
    assert.equal(span?.attributes['messaging.batch.message_count'], undefined);
    assert.equal(span?.attributes['push.messages.accepted'], 1);
  });

  it('rejects with the SDK error object itself', async () => {
    const { raw, sns } = harness();
    let sdkError: unknown;
    raw.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          sdkError = error;
          throw error;
        }
      },
      { step: 'initialize', name: 'captureError' },
    );
    fake.faults.set({ rules: [{ fault: 'auth' }] });
    const error = await sns
      .send(new PublishCommand({ TargetArn: `${ENDPOINT}x`, Message: 'hi' }))
      .catch((e: unknown) => e);
    assert.ok(sdkError !== undefined);
    assert.equal(error, sdkError);
  });

  it('counts topic and SMS publishes as one message each', async () => {
    const { telemetry, sns } = harness();
    await sns.send(new PublishCommand({ TopicArn: TOPIC, Message: 'hi' }));
    await sns.send(new PublishCommand({ PhoneNumber: '+15555550100', Message: 'hi' }));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), { 'accepted/': 2 });
    assert.equal(calls(samples, 'publish', 'success'), 2);
    for (const span of tracing.spans()) assert.equal(span.attributes['messaging.batch.message_count'], undefined);
  });

  it('recognises Publish and PublishBatch by their input when the class name is gone (minified bundles)', async () => {
    const { telemetry, sns } = harness();
    class A extends PublishCommand {}
    class B extends PublishBatchCommand {}
    await sns.send(new A({ TargetArn: `${ENDPOINT}min`, Message: 'hi' }));
    await sns.send(
      new B({
        TopicArn: TOPIC,
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'x' },
          { Id: 'b', Message: 'y' },
        ],
      }),
    );
    const { samples } = await scrape(telemetry);
    assert.equal(calls(samples, 'publish', 'success'), 1);
    assert.equal(calls(samples, 'publish_batch', 'success'), 1);
    assert.deepEqual(nonZeroMessages(samples), { 'accepted/': 3 });
  });

  it('passes every other command straight to the SDK: same output, no span, no metric', async () => {
    const { telemetry, raw, sns } = harness();
    const viaWrapper = await sns.send(new ListTopicsCommand({}));
    const direct = await raw.send(new ListTopicsCommand({}));
    assert.deepEqual(viaWrapper.Topics, direct.Topics);
    assert.equal(viaWrapper.Topics?.length, 1);
    const endpoint = await sns.send(
      new CreatePlatformEndpointCommand({
        PlatformApplicationArn: 'arn:aws:sns:us-east-1:000000000000:app/GCM/app',
        Token: 'device-token',
      }),
    );
    assert.match(endpoint.EndpointArn ?? '', /:endpoint\/GCM\//);
    // Faults are about messages: a fault plan matching everything leaves the rest of the API alone.
    fake.faults.set({ rules: [{ fault: 'provider_unavailable' }] });
    await sns.send(new ListTopicsCommand({}));
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), {});
    assert.equal(samples.filter((s) => s.name === 'push_request_duration_seconds_count' && s.value !== 0).length, 0);
    assert.equal(tracing.spans().length, 0);
  });

  it('keeps the client untouched and passes its other members through', () => {
    const { raw, sns } = harness();
    const originalSend = raw.send;
    assert.notEqual(sns.send, raw.send);
    assert.equal(raw.send, originalSend);
    assert.equal(Object.hasOwn(raw, 'send'), false);
    assert.equal(sns.config, raw.config);
    assert.equal(sns.middlewareStack, raw.middlewareStack);
    assert.equal(sns.destroy, sns.destroy);
    assert.equal(sns.destroy.name, raw.destroy.name);
  });

  it('instruments the aggregated SNS client through send: publish(), publishBatch() and the callback forms', async () => {
    tracing.exporter.reset();
    fake.faults.set({});
    const telemetry = new PushTelemetry({ tracerProvider: tracing.tracerProvider });
    const aggregated = new SNS(snsConfig());
    const sns = instrumentSns(aggregated, telemetry);
    try {
      const output = await sns.publish({ TargetArn: `${ENDPOINT}agg`, Message: 'hi' });
      assert.ok(output.MessageId);
      await sns.publishBatch({ TopicArn: TOPIC, PublishBatchRequestEntries: [{ Id: 'a', Message: 'x' }] });
      await sns.listTopics({});
      const viaCallback = await new Promise((resolve, reject) => {
        void sns.publish({ TopicArn: TOPIC, Message: 'hi' }, (error: unknown, data?: unknown) =>
          error ? reject(error) : resolve(data),
        );
      });
      assert.ok((viaCallback as { MessageId?: string }).MessageId);
      fake.faults.set({ rules: [{ fault: 'rate_limited' }] });
      const callbackError = await new Promise((resolve) => {
        const returned = sns.send(new PublishCommand({ TopicArn: TOPIC, Message: 'hi' }), {}, (error: unknown) =>
          resolve(error),
        );
        assert.equal(returned, undefined);
      });
      assert.equal((callbackError as Error).name, 'ThrottledException');

      const { samples } = await scrape(telemetry);
      assert.equal(calls(samples, 'publish', 'success'), 2);
      assert.equal(calls(samples, 'publish', 'failure'), 1);
      assert.equal(calls(samples, 'publish_batch', 'success'), 1);
      assert.deepEqual(nonZeroMessages(samples), { 'accepted/': 3, 'failed/rate_limited': 1 });
      assert.equal(tracing.spans().length, 4, 'one span per publish, none for listTopics, none doubled');
    } finally {
      aggregated.destroy();
    }
  });
});

describe('instrumentSns: PublishBatch', () => {
  it('settles a batch of 10 with mixed per-entry failures message by message (partial)', async () => {
    const { telemetry, sns, invalid } = harness();
    fake.faults.set({
      rules: [
        { fault: 'unregistered', match: 'gone-*' },
        { fault: 'payload_invalid', match: 'bad-*' },
        { fault: 'payload_too_large', match: 'big-*' },
        { fault: { status: 500, reason: 'InternalError' }, match: 'err-*' },
        { fault: { status: 400, reason: 'KMSThrottling' }, match: 'kms-*' },
      ],
    });
    const ids = ['ok-0', 'gone-0', 'ok-1', 'bad-0', 'gone-1', 'ok-2', 'big-0', 'err-0', 'ok-3', 'kms-0'];
    const stats = { ...fake.stats };
    const output = await sns.send(
      new PublishBatchCommand({
        TopicArn: TOPIC,
        PublishBatchRequestEntries: ids.map((Id) => ({ Id, Message: `m-${Id}` })),
      }),
    );
    assert.equal(output.Successful?.length, 4);
    assert.deepEqual(
      output.Failed?.map((f) => [f.Id, f.Code, f.SenderFault]),
      [
        ['gone-0', 'EndpointDisabled', true],
        ['bad-0', 'InvalidParameter', true],
        ['gone-1', 'EndpointDisabled', true],
        ['big-0', 'InvalidParameter', true],
        ['err-0', 'InternalError', false],
        ['kms-0', 'KMSThrottling', true],
      ],
    );
    assert.deepEqual(
      {
        requests: fake.stats.requests - stats.requests,
        accepted: fake.stats.accepted - stats.accepted,
        refused: fake.stats.refused - stats.refused,
      },
      { requests: 1, accepted: 4, refused: 6 },
    );

    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), {
      'accepted/': 4,
      'failed/unregistered': 2,
      'failed/payload_invalid': 1,
      'failed/payload_too_large': 1,
      'failed/provider_unavailable': 1,
      'failed/rate_limited': 1,
    });
    assert.equal(calls(samples, 'publish_batch', 'partial'), 1);
    const [span] = tracing.spans();
    assert.equal(span?.name, 'publish_batch sns');
    assert.equal(span?.attributes['messaging.batch.message_count'], 10);
    assert.equal(span?.attributes['push.messages.accepted'], 4);
    assert.equal(span?.attributes['push.messages.failed'], 6);
    assert.equal(span?.attributes['push.messages.failed.unregistered'], 2);
    assert.notEqual(span?.status.code, SpanStatusCode.ERROR);
    assert.deepEqual(
      span?.events.map((e) => e.attributes?.['push.provider.reason']),
      [
        'EndpointDisabled',
        'InvalidParameter',
        'EndpointDisabled',
        'InvalidParameter',
        'InternalError',
        'KMSThrottling',
      ],
    );
    // Batch entries go to a topic: there is no device token to prune.
    assert.deepEqual(invalid, []);
  });

  it('records a batch whose every entry failed as failure, and a clean one as success', async () => {
    const { telemetry, sns } = harness();
    fake.faults.set({ rules: [{ fault: 'auth', match: 'no-*' }] });
    const all = await sns.send(
      new PublishBatchCommand({
        TopicArn: TOPIC,
        PublishBatchRequestEntries: [
          { Id: 'no-1', Message: 'x' },
          { Id: 'no-2', Message: 'y' },
        ],
      }),
    );
    assert.equal(all.Failed?.length, 2);
    await sns.send(
      new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: [{ Id: 'a', Message: 'x' }] }),
    );
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), { 'accepted/': 1, 'failed/auth': 2 });
    assert.equal(calls(samples, 'publish_batch', 'failure'), 1);
    assert.equal(calls(samples, 'publish_batch', 'success'), 1);
    const [failedSpan, okSpan] = tracing.spans();
    assert.equal(failedSpan?.status.code, SpanStatusCode.ERROR);
    assert.equal(failedSpan?.attributes['error.type'], 'auth');
    // A batch of one accepted entry carries its MessageId like a single publish.
    assert.match(String(okSpan?.attributes['messaging.message.id']), /^[0-9a-f-]{36}$/);
  });

  const WHOLE: ReadonlyArray<readonly [string, number, number, ErrorType, string]> = [
    ['11 entries', 11, 10, 'payload_invalid', 'TooManyEntriesInBatchRequestException'],
    ['2 entries of 150 KB', 2, 150_000, 'payload_too_large', 'BatchRequestTooLongException'],
  ];
  for (const [name, count, size, errorType, errorName] of WHOLE) {
    it(`fails every message of a rejected batch (${name} → ${errorType})`, async () => {
      const { telemetry, sns } = harness();
      const entries = Array.from({ length: count }, (_, i) => ({ Id: `e${i}`, Message: 'x'.repeat(size) }));
      await assert.rejects(
        sns.send(new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: entries })),
        { name: errorName },
      );
      const { samples } = await scrape(telemetry);
      assert.deepEqual(nonZeroMessages(samples), { [`failed/${errorType}`]: count });
      assert.equal(calls(samples, 'publish_batch', 'failure'), 1);
      assert.equal(tracing.spans()[0]?.attributes['push.provider.reason'], errorName);
    });
  }

  it('fails the whole batch when the connection resets', async () => {
    const { telemetry, sns } = harness();
    fake.faults.set({ rules: [{ fault: 'reset', match: 'r-2' }] });
    const entries = ['r-1', 'r-2', 'r-3'].map((Id) => ({ Id, Message: 'x' }));
    await assert.rejects(sns.send(new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: entries })), {
      code: 'ECONNRESET',
    });
    const { samples } = await scrape(telemetry);
    assert.deepEqual(nonZeroMessages(samples), { 'failed/network': 3 });
  });
});

describe('classifySnsError and the adapter contract', () => {
  // SNS's documented error codes (and the AWS-wide ones every service answers) with the verdict of
  // shared/research/push-providers.md, written out: not read from SNS_ERROR_TYPES, which would compare it with itself.
  const CODE_ROWS: ReadonlyArray<readonly [string, ErrorType]> = [
    ['EndpointDisabled', 'unregistered'],
    ['AuthorizationError', 'auth'],
    ['InvalidSecurity', 'auth'],
    ['InvalidClientTokenId', 'auth'],
    ['SignatureDoesNotMatch', 'auth'],
    ['ExpiredToken', 'auth'],
    ['UnrecognizedClient', 'auth'],
    ['NotFound', 'config'],
    ['PlatformApplicationDisabled', 'config'],
    ['KMSDisabled', 'config'],
    ['KMSNotFound', 'config'],
    ['KMSInvalidState', 'config'],
    ['KMSAccessDenied', 'config'],
    ['KMSOptInRequired', 'config'],
    ['InvalidParameter', 'payload_invalid'],
    ['InvalidParameterValue', 'payload_invalid'],
    ['ParameterValueInvalid', 'payload_invalid'],
    ['Validation', 'payload_invalid'],
    ['ValidationError', 'payload_invalid'],
    ['TooManyEntriesInBatchRequest', 'payload_invalid'],
    ['EmptyBatchRequest', 'payload_invalid'],
    ['InvalidBatchEntryId', 'payload_invalid'],
    ['BatchEntryIdsNotDistinct', 'payload_invalid'],
    ['BatchRequestTooLong', 'payload_too_large'],
    ['Throttled', 'rate_limited'],
    ['Throttling', 'rate_limited'],
    ['KMSThrottling', 'rate_limited'],
    ['InternalError', 'provider_unavailable'],
    ['InternalFailure', 'provider_unavailable'],
    ['ServiceUnavailable', 'provider_unavailable'],
  ];

  for (const [code, expected] of CODE_ROWS) {
    it(`${code} and ${code}Exception → ${expected}`, () => {
      // A client fault with no status: only the name can decide (an unmapped client code would be unknown).
      assert.equal(classifySnsError({ name: `${code}Exception`, $fault: 'client', $metadata: {} }), expected);
      assert.equal(classifySnsError({ name: code, $fault: 'client', $metadata: {} }), expected);
    });
  }

  it('has a written expectation for every code it maps, and answers unknown for a client code it does not know', () => {
    assert.deepEqual(Object.keys(SNS_ERROR_TYPES).sort(), CODE_ROWS.map(([code]) => code).sort());
    assert.equal(classifySnsError({ name: 'SomethingNewException', $fault: 'client', $metadata: {} }), 'unknown');
  });

  it('never throws, whatever it is given', () => {
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('boom');
        },
      },
    );
    for (const value of [
      undefined,
      null,
      'x',
      42,
      {},
      hostile,
      { name: 'toString', $fault: 'client' },
      { name: '__proto__', $fault: 'client' },
    ]) {
      assert.equal(classifySnsError(value), 'unknown');
    }
    assert.equal(snsReason(hostile), undefined);
  });

  it('rejects what is not an SNS client, naming the adapter', () => {
    const telemetry = new PushTelemetry();
    assert.throws(() => instrumentSns({} as never, telemetry), /instrumentSns: expected an SNSClient/);
    assert.throws(() => instrumentSns(null as never, telemetry), TypeError);
    assert.throws(
      () => instrumentSns(newClient(), telemetry, { retries: 1 } as never),
      /instrumentSns: unknown option "retries"/,
    );
  });
});
