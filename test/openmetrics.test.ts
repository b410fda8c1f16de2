import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { PushTelemetry, startMetricsServer } from '../src/index.js';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, renderFamilies } from '../src/metrics/exposition.js';
import { createTracing, httpError, type Tracing } from './helpers.js';
import {
  parseOpenMetrics,
  parsePrometheusText,
  type LabelSet,
  type ParsedFamily,
  type ParsedSample,
} from './openmetrics-parser.js';

/**
 * /metrics under a strict reading of both exposition formats, on a registry shared with the application's own
 * metrics: every help text, label value and default label must come back exactly as it went in.
 */

// Quotes, backslashes, a backslash-n that is text, a real newline, and characters outside the BMP.
const NASTY = 'a "quoted" word, a back\\slash, C:\\new, a literal \\n and\na second line';
const WIDE = 'ünïcødé ✓ 🚀';
const HELP = {
  events: 'Events a user saw: "quoted", back\\slash C:\\path, a literal \\n and\na real newline',
  clicks: 'Clicks, a counter without "_total" in its name',
  depth: 'Queue depth \\ "gauge"\n(second line)',
  latency: 'Latency "histogram" with \\ and\na newline',
  payload: 'Payload "summary" ending in a backslash and a newline \\\n',
};
const DEFAULTS = { region: 'eu "west" \\ 1', deployment: 'canary\nblue' };
const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

interface Scraped {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: Uint8Array;
}

async function scrapeBytes(telemetry: PushTelemetry, accept: string): Promise<Scraped> {
  const server = await startMetricsServer({ telemetry, port: 0 });
  try {
    const response = await fetch(`${server.url}/metrics`, { headers: { accept } });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: new Uint8Array(await response.arrayBuffer()),
    };
  } finally {
    await server.close();
  }
}

function family<T extends string>(families: readonly ParsedFamily<T>[], name: string): ParsedFamily<T> {
  const found = families.find((f) => f.name === name);
  assert.ok(found, `family ${name} in ${families.map((f) => f.name).join(', ')}`);
  return found;
}

/** The one sample of that name whose labels are exactly `labels` plus the registry's default labels. */
function sample(from: ParsedFamily<string>, name: string, labels: Record<string, string>): ParsedSample {
  const wanted: LabelSet = { ...labels, ...DEFAULTS };
  const found = from.samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(wanted).length &&
      Object.entries(wanted).every(([k, v]) => s.labels[k] === v),
  );
  assert.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)}`);
  return found[0] as ParsedSample;
}

describe('OpenMetrics exposition under a strict parser', () => {
  let tracing: Tracing;
  let registry: Registry;
  let telemetry: PushTelemetry;

  before(async () => {
    tracing = createTracing();
    registry = new Registry();
    registry.setDefaultLabels(DEFAULTS);
    const registers = [registry];
    const events = new Counter({ name: 'user_events_total', help: HELP.events, labelNames: ['kind'], registers });
    events.inc({ kind: NASTY }, 2);
    events.inc({ kind: WIDE });
    new Counter({ name: 'user_clicks', help: HELP.clicks, registers }).inc(3);
    const depth = new Gauge({ name: 'user_queue_depth', help: HELP.depth, labelNames: ['queue'], registers });
    depth.set({ queue: NASTY }, 7);
    depth.set({ queue: WIDE }, -1.5);
    const latency = new Histogram({
      name: 'user_latency_seconds',
      help: HELP.latency,
      labelNames: ['route'],
      buckets: [0.1, 1, 10],
      registers,
    });
    for (const seconds of [0.1, 5, 20]) latency.observe({ route: NASTY }, seconds);
    const payload = new Summary({
      name: 'user_payload_bytes',
      help: HELP.payload,
      labelNames: ['kind'],
      percentiles: [0.5, 0.99],
      registers,
    });
    for (const bytes of [100, 300]) payload.observe({ kind: NASTY }, bytes);

    telemetry = new PushTelemetry({ registry, exemplars: true, tracerProvider: tracing.tracerProvider });
    const send = telemetry.wrapSender(
      async (fail: boolean) => {
        if (fail) throw httpError(503);
        return 'ok';
      },
      { provider: 'fcm' },
    );
    await send(false);
    await send(false);
    await assert.rejects(send(true));
  });
  after(() => tracing.shutdown());

  it('escapes `"` in HELP for OpenMetrics only; Prometheus 0.0.4 keeps it bare', () => {
    const metric = {
      name: 'x_total',
      help: 'say "hi" \\ \n',
      type: 'counter',
      aggregator: 'sum',
      values: [{ labels: { v: 'q"\\\n' }, value: 1 }],
    } as const;
    const openMetrics = renderFamilies([metric], 'openmetrics');
    assert.equal(openMetrics, '# HELP x say \\"hi\\" \\\\ \\n\n# TYPE x counter\nx_total{v="q\\"\\\\\\n"} 1\n# EOF\n');
    assert.equal(parseOpenMetrics(openMetrics)[0]?.help, 'say "hi" \\ \n');
    const prometheus = renderFamilies([metric], 'prometheus');
    assert.equal(prometheus, '# HELP x_total say "hi" \\\\ \\n\n# TYPE x_total counter\nx_total{v="q\\"\\\\\\n"} 1\n');
    assert.equal(parsePrometheusText(prometheus)[0]?.help, 'say "hi" \\ \n');
  });

  it('serves a registry with foreign metrics and default labels as valid OpenMetrics, every help and label intact', async () => {
    const { status, contentType, body } = await scrapeBytes(telemetry, OPENMETRICS_ACCEPT);
    assert.equal(status, 200, new TextDecoder().decode(body));
    assert.equal(contentType, OPENMETRICS_CONTENT_TYPE);
    const families = parseOpenMetrics(body);

    // One family per registered metric, counters named without _total, with the type and help they were given.
    const registered = await registry.getMetricsAsJSON();
    const familyName = (name: string, type: string) => (type === 'counter' ? name.replace(/_total$/, '') : name);
    assert.deepEqual(
      families.map((f) => f.name).sort(),
      registered.map((m) => familyName(m.name, String(m.type))).sort(),
    );
    for (const metric of registered) {
      const parsed = family(families, familyName(metric.name, String(metric.type)));
      assert.equal(parsed.type, String(metric.type), metric.name);
      assert.equal(parsed.help, metric.help, `HELP of ${metric.name}`);
    }
    assert.equal(family(families, 'user_events').help, HELP.events);
    assert.equal(family(families, 'user_clicks').help, HELP.clicks);
    assert.equal(family(families, 'user_queue_depth').help, HELP.depth);
    assert.equal(family(families, 'user_latency_seconds').help, HELP.latency);
    assert.equal(family(families, 'user_payload_bytes').help, HELP.payload);
    assert.match(family(families, 'push_telemetry_info').help ?? '', /"no traffic" from "sender gone"/);

    // Label values come back byte for byte, next to the default labels.
    const events = family(families, 'user_events');
    assert.equal(sample(events, 'user_events_total', { kind: NASTY }).value, 2);
    assert.equal(sample(events, 'user_events_total', { kind: WIDE }).value, 1);
    assert.equal(sample(family(families, 'user_clicks'), 'user_clicks_total', {}).value, 3);
    const depth = family(families, 'user_queue_depth');
    assert.equal(sample(depth, 'user_queue_depth', { queue: NASTY }).value, 7);
    assert.equal(sample(depth, 'user_queue_depth', { queue: WIDE }).value, -1.5);
    const latency = family(families, 'user_latency_seconds');
    assert.deepEqual(
      ['0.1', '1', '10', '+Inf'].map(
        (le) => sample(latency, 'user_latency_seconds_bucket', { route: NASTY, le }).value,
      ),
      [1, 1, 2, 3],
    );
    assert.equal(sample(latency, 'user_latency_seconds_count', { route: NASTY }).value, 3);
    assert.equal(sample(latency, 'user_latency_seconds_sum', { route: NASTY }).value, 25.1);
    const payload = family(families, 'user_payload_bytes');
    assert.equal(sample(payload, 'user_payload_bytes_count', { kind: NASTY }).value, 2);
    assert.equal(sample(payload, 'user_payload_bytes_sum', { kind: NASTY }).value, 400);
    assert.deepEqual(
      payload.samples.filter((s) => s.name === 'user_payload_bytes').map((s) => s.labels.quantile),
      ['0.5', '0.99'],
    );
    const messages = family(families, 'push_messages');
    assert.equal(sample(messages, 'push_messages_total', { provider: 'fcm', outcome: 'accepted' }).value, 2);
    assert.equal(
      sample(messages, 'push_messages_total', {
        provider: 'fcm',
        outcome: 'failed',
        error_type: 'provider_unavailable',
      }).value,
      1,
    );

    // The default labels are on every sample, and on nothing else.
    const all = families.flatMap((f) => f.samples);
    assert.ok(all.length > 50, `${all.length} samples`);
    for (const s of all)
      assert.deepEqual(
        { region: s.labels.region, deployment: s.labels.deployment },
        DEFAULTS,
        `${s.name} on line ${s.line}`,
      );

    // Exemplars: on push_request_duration_seconds buckets only, naming the traced calls, without default labels.
    const withExemplar = all.filter((s) => s.exemplar !== undefined);
    assert.ok(withExemplar.length >= 2, 'one exemplar per outcome at least');
    const spans = new Set(tracing.spans().map((span) => `${span.spanContext().traceId}/${span.spanContext().spanId}`));
    for (const s of withExemplar) {
      assert.equal(s.name, 'push_request_duration_seconds_bucket', `exemplar on ${s.name}`);
      const labels = s.exemplar?.labels ?? {};
      assert.deepEqual(Object.keys(labels).sort(), ['span_id', 'trace_id']);
      assert.ok(spans.has(`${labels.trace_id}/${labels.span_id}`), 'the exemplar names a recorded span');
    }
    assert.deepEqual(new Set(withExemplar.map((s) => s.labels.outcome)), new Set(['success', 'failure']));
  });

  it('serves the same registry as valid Prometheus 0.0.4 text, every help and label intact and no exemplars', async () => {
    const { status, contentType, body } = await scrapeBytes(telemetry, 'text/plain;version=0.0.4');
    assert.equal(status, 200, new TextDecoder().decode(body));
    assert.equal(contentType, PROMETHEUS_CONTENT_TYPE);
    const families = parsePrometheusText(body);

    const registered = await registry.getMetricsAsJSON();
    assert.deepEqual(families.map((f) => f.name).sort(), registered.map((m) => m.name).sort());
    for (const metric of registered) {
      const parsed = family(families, metric.name);
      assert.equal(parsed.type, String(metric.type), metric.name);
      assert.equal(parsed.help, metric.help, `HELP of ${metric.name}`);
    }
    assert.equal(family(families, 'user_events_total').help, HELP.events);
    assert.equal(sample(family(families, 'user_events_total'), 'user_events_total', { kind: NASTY }).value, 2);
    assert.equal(sample(family(families, 'user_events_total'), 'user_events_total', { kind: WIDE }).value, 1);
    assert.equal(sample(family(families, 'user_clicks'), 'user_clicks', {}).value, 3);
    assert.equal(sample(family(families, 'user_queue_depth'), 'user_queue_depth', { queue: NASTY }).value, 7);
    assert.equal(
      sample(family(families, 'user_latency_seconds'), 'user_latency_seconds_bucket', { route: NASTY, le: '+Inf' })
        .value,
      3,
    );
    assert.equal(sample(family(families, 'user_payload_bytes'), 'user_payload_bytes_sum', { kind: NASTY }).value, 400);
    assert.equal(
      sample(family(families, 'push_messages_total'), 'push_messages_total', { provider: 'fcm', outcome: 'accepted' })
        .value,
      2,
    );
    for (const s of families.flatMap((f) => f.samples))
      assert.deepEqual(
        { region: s.labels.region, deployment: s.labels.deployment },
        DEFAULTS,
        `${s.name} on line ${s.line}`,
      );
  });
});
