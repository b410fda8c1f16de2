import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { generateAlertRules, toPrometheusRulesYaml } from '../monitoring/alerts/index.js';
import { PACKAGE_ROOT } from '../version.js';

/**
 * The rules the demo loads into Prometheus: the shipped alerts/push-alerts.yaml, else what src/monitoring/alerts generates, and
 * with `for:` capped so alerts go pending and fire within a demo rather than after the production hold times.
 */

export { PACKAGE_ROOT };
export const SHIPPED_RULES = `${PACKAGE_ROOT}alerts/push-alerts.yaml`;
export const SHIPPED_ROUTING = `${PACKAGE_ROOT}alerts/alertmanager.example.yml`;

export interface DemoRules {
  /** The rules file's YAML. */
  readonly yaml: string;
  /** Where they came from, for the demo's header. */
  readonly source: string;
}

export async function loadDemoRules(): Promise<DemoRules> {
  if (existsSync(SHIPPED_RULES))
    return { yaml: await readFile(SHIPPED_RULES, 'utf8'), source: 'alerts/push-alerts.yaml' };
  // The shipped file is the generator's default output; without it (a checkout that has not generated it), generate.
  return {
    yaml: toPrometheusRulesYaml(generateAlertRules()),
    source: 'generateAlertRules() defaults (alerts/push-alerts.yaml not found)',
  };
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Prometheus duration (`1h30m`) in milliseconds, or undefined when it is not one. */
export function promDurationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) return undefined;
  return parts.reduce((sum, part) => sum + Number(part[1]) * (UNIT_MS[part[2] as string] as number), 0);
}

/** A duration in Prometheus' own notation, whole seconds where it can (`25s`, `1250ms`). */
function promDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Divides every range window (`[5m]`, `[2h45m]`, a subquery's range and step) and every `offset` in the rules by
 * `factor`, never below `minMs`: the same expressions over proportionally fewer scrapes, for a run that cannot wait
 * hours (PushSendingStalled wants 3 hours of steady traffic). Thresholds, `for:` and everything else stay as they are.
 */
export function scaleWindows(yaml: string, factor: number, minMs = 1000): string {
  if (!(factor >= 1)) throw new RangeError(`scaleWindows: factor must be >= 1, got ${factor}`);
  const scale = (text: string): string | undefined => {
    const ms = promDurationMs(text);
    return ms === undefined ? undefined : promDuration(Math.max(minMs, Math.round(ms / factor)));
  };
  return yaml
    .replace(/\[(\w+)(?::(\w*))?\]/g, (whole, range: string, step: string | undefined) => {
      const scaled = scale(range);
      if (scaled === undefined) return whole;
      if (step === undefined) return `[${scaled}]`;
      return `[${scaled}:${step === '' ? '' : (scale(step) ?? step)}]`;
    })
    .replace(/\boffset(\s+)(\w+)/g, (whole, space: string, duration: string) => {
      const scaled = scale(duration);
      return scaled === undefined ? whole : `offset${space}${scaled}`;
    });
}

/**
 * Caps every alert's `for:` at `capMs`, and every group's evaluation `interval:` at 1 s, by editing the YAML text:
 * the expressions, labels and annotations stay exactly as shipped.
 */
export function capHoldTimes(yaml: string, capMs: number | undefined): string {
  const cap = (key: string, limitMs: number) => (line: string, indent: string, value: string) => {
    const ms = promDurationMs(value.replace(/^['"]|['"]$/g, ''));
    return ms !== undefined && ms > limitMs ? `${indent}${key}: ${Math.max(1, Math.round(limitMs / 1000))}s` : line;
  };
  let out = yaml.replace(/^([ \t]*)interval:[ \t]*(\S+)[ \t]*$/gm, cap('interval', 1000));
  if (capMs !== undefined) out = out.replace(/^([ \t]*)for:[ \t]*(\S+)[ \t]*$/gm, cap('for', capMs));
  return out;
}
