import type { Registry as PromClientRegistry, RegistryContentType } from 'prom-client';

/** A prom-client registry of either exposition format (an AggregatorRegistry included). */
type Registry = PromClientRegistry<RegistryContentType>;
import type { Labels, MetricFamily, Sample } from './exposition-model.js';

/**
 * Renders a registry in either exposition format whatever the registry's own content type, so one registry can
 * answer a Prometheus scrape with OpenMetrics (exemplars) and a curl with plain text. prom-client can only switch
 * format by mutating the registry, which races between concurrent scrapes and renames counters for good.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** True when an Accept header lists OpenMetrics with a non-zero quality. */
export function acceptsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== 'application/openmetrics-text') return false;
    const quality = params.find((param) => param.startsWith('q='));
    return quality === undefined || Number(quality.slice(2)) > 0;
  });
}

// An escaped-string escapes `\`, newline and `"`: label values in both formats, and HELP text in OpenMetrics, whose ABNF
// makes a bare `"` there invalid. The Prometheus text format 0.0.4 escapes `\` and newline only in HELP, and its older
// parsers reject a `\"` there.
const escapeString = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapePrometheusHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

// The store hands out the same frozen label objects every scrape, so their rendering is done once.
const renderedLabels = new WeakMap<Labels, string>();

function formatLabels(labels: Labels): string {
  let text = renderedLabels.get(labels);
  if (text === undefined) {
    const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeString(String(value))}"`);
    text = pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
    if (Object.isFrozen(labels)) renderedLabels.set(labels, text);
  }
  return text;
}

function formatSample(sampleName: string, sample: Sample, openMetrics: boolean): string {
  let line = `${sampleName}${formatLabels(sample.labels)} ${formatValue(sample.value)}`;
  // prom-client's own histograms give every bucket `exemplar: null` when exemplars are off.
  if (openMetrics && sample.exemplar != null) {
    const { labelSet, value, timestamp } = sample.exemplar;
    line += ` # ${formatLabels(labelSet) || '{}'} ${formatValue(value)} ${timestamp}`;
  }
  return line;
}

export function renderFamilies(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const openMetrics = format === 'openmetrics';
  const blocks = families.map((metric) => {
    // OpenMetrics names a counter family without `_total` and its samples with it.
    const isCounter = metric.type === 'counter';
    const familyName = openMetrics && isCounter ? metric.name.replace(/_total$/, '') : metric.name;
    const help = openMetrics ? escapeString(metric.help) : escapePrometheusHelp(metric.help);
    const lines = [`# HELP ${familyName} ${help}`, `# TYPE ${familyName} ${metric.type}`];
    for (const sample of metric.values) {
      const name = sample.metricName ?? (openMetrics && isCounter ? `${familyName}_total` : metric.name);
      lines.push(formatSample(name, sample, openMetrics));
    }
    return lines.join('\n');
  });
  return openMetrics ? `${blocks.join('\n')}\n# EOF\n` : `${blocks.join('\n\n')}\n`;
}

export async function renderRegistry(registry: Registry, format: ExpositionFormat): Promise<string> {
  // getMetricsAsJSON applies the registry's default labels; its typings say `type` is an enum, it is a string.
  const families = (await registry.getMetricsAsJSON()) as unknown as MetricFamily[];
  return renderFamilies(families, format);
}
