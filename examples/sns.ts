// Run: node --import tsx examples/sns.ts
//
// An @aws-sdk/client-sns SNSClient, instrumented with instrumentSns and pointed at the simulator's fake SNS. Publishes
// to device endpoints (one disabled), then a topic batch with a throttled entry; prints SNS's answers and the metrics.
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PushTelemetry } from 'push-telemetry';
import { instrumentSns } from 'push-telemetry/sns';
import { startSimulator } from 'push-telemetry/simulator';

const ENDPOINT = 'arn:aws:sns:us-east-1:000000000000:endpoint/GCM/my-app/';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:order-updates';
// The fake answers EndpointDisabled for the endpoint "gone-1" and Throttled for the batch entry "busy".
const sim = await startSimulator({
  providers: ['sns'],
  faults: {
    sns: {
      rules: [
        { match: `${ENDPOINT}gone-*`, fault: 'unregistered' },
        { match: 'busy', fault: 'rate_limited' },
      ],
    },
  },
});

const telemetry = new PushTelemetry();
const raw = new SNSClient({
  region: 'us-east-1',
  requestHandler: { requestTimeout: 10_000, throwOnRequestTimeout: true }, // without it a hung connection waits forever
  // Only for the simulator: in production leave these out (the default credential chain and endpoint apply).
  endpoint: sim.fake('sns').url,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1, // the SDK would retry throttling; show the first answer
});
const sns = instrumentSns(raw, telemetry, {
  app: 'com.example.app',
  // The "token" of SNS mobile push is the platform endpoint ARN.
  onInvalidToken: ({ token: endpointArn, errorType, reason }) =>
    console.log(`  onInvalidToken ${endpointArn}: ${errorType} (${reason})`),
});

for (const device of ['ok-1', 'gone-1']) {
  const message = JSON.stringify({ GCM: JSON.stringify({ notification: { title: 'Order shipped' } }) });
  await sns.send(new PublishCommand({ TargetArn: ENDPOINT + device, Message: message, MessageStructure: 'json' })).then(
    (out) => console.log(`Publish ${device}: MessageId ${out.MessageId}`),
    (error: Error) => console.log(`Publish ${device}: ${error.name}: ${error.message}`),
  );
}

const entries = ['a', 'b', 'busy'].map((Id) => ({ Id, Message: `order ${Id} shipped` }));
const batch = await sns.send(new PublishBatchCommand({ TopicArn: TOPIC, PublishBatchRequestEntries: entries }));
console.log(`PublishBatch: ${batch.Successful?.length} successful, ${batch.Failed?.length} failed`);
for (const failed of batch.Failed ?? [])
  console.log(`  ${failed.Id}: ${failed.Code} (SenderFault ${failed.SenderFault})`);

const metrics = await telemetry.registry.metrics();
// Every series exists from the first call (zeros included, so rate() works); print the non-zero ones.
console.log(
  metrics
    .split('\n')
    .filter((line) => /^push_(messages_total|request_duration_seconds_count)\{.* [1-9]/.test(line))
    .join('\n'),
);

raw.destroy();
await sim.close();
