// Run: node --import tsx examples/otel-sdk-node.ts
//
// OpenTelemetry's NodeSDK exporting traces as the standard OTEL_* variables say (OTLP to OTEL_EXPORTER_OTLP_ENDPOINT,
// or OTEL_TRACES_EXPORTER=console…), falling back to the console exporter when neither is set, so this prints its
// spans. A firebase-admin send through the simulator becomes a "send fcm" span, child of the caller's span.
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 node --import tsx examples/otel-sdk-node.ts   # to a collector
// One call does the same for a service with no OpenTelemetry yet: startTelemetry() from 'push-telemetry'.
import { trace } from '@opentelemetry/api';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { PushTelemetry } from 'push-telemetry';
import { instrumentFcm } from 'push-telemetry/fcm';
import { fcmLoopbackAgent, startSimulator } from 'push-telemetry/simulator';

const fromEnv = ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'].some(
  (name) => process.env[name],
);
const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME ?? 'notifier',
  // Without a traceExporter NodeSDK reads OTEL_TRACES_EXPORTER (default otlp) and OTEL_EXPORTER_OTLP_* itself.
  ...(!fromEnv && { traceExporter: new tracing.ConsoleSpanExporter() }),
  // Metrics come from push-telemetry's Prometheus /metrics; don't let NodeSDK push OTLP metrics and logs as well.
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
console.log(
  `traces: ${fromEnv ? `as OTEL_* say (${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? process.env.OTEL_TRACES_EXPORTER ?? 'otlp'})` : 'console exporter'}`,
);

// After sdk.start(), PushTelemetry's default tracer provider is the SDK's (the global one).
const telemetry = new PushTelemetry({ app: 'demo' });
const sim = await startSimulator({
  providers: ['fcm'],
  faults: { fcm: { rules: [{ match: 'gone-*', fault: 'unregistered' }] } },
});
// A fake credential and an agent dialling the simulator; in production: initializeApp({ credential: applicationDefault() }).
const agent = fcmLoopbackAgent(sim.fake('fcm').url);
const app = initializeApp({
  projectId: 'demo',
  credential: { getAccessToken: async () => ({ access_token: 'test', expires_in: 3600 }) },
  httpAgent: agent,
});
const messaging = instrumentFcm(getMessaging(app), telemetry);

// Your own span around the work; the push spans become its children in the same trace.
await trace.getTracer('notifier').startActiveSpan('notify order shipped', async (span) => {
  for (const token of ['ok-1', 'gone-1']) {
    await messaging.send({ token, notification: { title: 'Order shipped' } }).then(
      (id) => console.log(`send ${token}: ${id}`),
      (error: { code?: string }) => console.log(`send ${token}: ${error.code}`),
    );
  }
  span.end();
});

await deleteApp(app);
agent.destroy();
await sim.close();
await sdk.shutdown(); // flushes the batched spans: the console exporter prints them here
