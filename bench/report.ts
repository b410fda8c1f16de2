import { readFileSync } from 'node:fs';
/** Formatting of the benchmark's table and target lines. Pure functions over the harness's measurements. */
import { median, type Measurement } from './harness.js';

/**
 * The overhead of `variant` over `baseline` in ns/op, as the median of the per-round differences. Both ran in the
 * same round, seconds apart, so pairing them cancels noise that a difference of two medians would keep.
 */
export function overheadNs(variant: Measurement, baseline: Measurement): number {
  return median(variant.rounds.map((ns, round) => ns - (baseline.rounds[round] as number)));
}

const pad = (text: string, width: number) => text.padStart(width);
const fixed = (value: number, digits = 1) => value.toFixed(digits);

/** ±half the min–max range of the rounds, relative to the median: how far apart the rounds were. */
function spread(m: Measurement): string {
  return `±${fixed((50 * (m.maxNs - m.minNs)) / m.medianNs)}%`;
}

export interface Row {
  readonly label: string;
  readonly m: Measurement;
  /** What the ratio and the overhead are relative to; absent on the baseline row itself. */
  readonly baseline?: Measurement;
}

export function table(title: string, rows: readonly Row[]): string {
  const labelWidth = Math.max(...rows.map((row) => row.label.length), title.length);
  const header = `${title.padEnd(labelWidth)}  ${pad('ns/op', 10)}  ${pad('× bare', 7)}  ${pad('+ns/op', 9)}  ${pad('rounds', 7)}  ${pad('iters/round', 11)}`;
  const lines = rows.map(({ label, m, baseline }) => {
    const ratio = baseline === undefined ? '1.00' : fixed(m.medianNs / baseline.medianNs, 2);
    const over = baseline === undefined ? '—' : fixed(overheadNs(m, baseline));
    return `${label.padEnd(labelWidth)}  ${pad(fixed(m.medianNs), 10)}  ${pad(ratio, 7)}  ${pad(over, 9)}  ${pad(spread(m), 7)}  ${pad(String(m.iterationsPerRound), 11)}`;
  });
  return [header, '-'.repeat(header.length), ...lines].join('\n');
}

export type Verdict = 'PASS' | 'MISS' | 'INFO';

export interface TargetLine {
  readonly what: string;
  readonly measured: string;
  readonly target: string;
  readonly verdict: Verdict;
}

export function check(what: string, value: number, limit: number, unit: string, digits = 1, detail = ''): TargetLine {
  return {
    what,
    measured: `${fixed(value, digits)} ${unit}${detail}`,
    target: `≤ ${fixed(limit, digits)} ${unit}`,
    verdict: value <= limit ? 'PASS' : 'MISS',
  };
}

export function info(what: string, measured: string): TargetLine {
  return { what, measured, target: '(report only)', verdict: 'INFO' };
}

export function targets(lines: readonly TargetLine[]): string {
  const whatWidth = Math.max(...lines.map((line) => line.what.length));
  const measuredWidth = Math.max(...lines.map((line) => line.measured.length));
  const targetWidth = Math.max(...lines.map((line) => line.target.length));
  return lines
    .map((line) =>
      `${line.verdict}  ${line.what.padEnd(whatWidth)}  ${line.measured.padEnd(measuredWidth)}  ${line.target.padEnd(targetWidth)}`.trimEnd(),
    )
    .join('\n');
}

/** A dependency's installed version, read from node_modules (not every package exports its package.json). */
export function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return '?';
  }
}
