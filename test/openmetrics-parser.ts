/**
 * Strict parsers for the two exposition formats /metrics serves, for tests. Neither is lenient: any violation throws
 * an ExpositionError naming the line and the rule.
 *
 * parseOpenMetrics follows the OpenMetrics 1.0 text format: the ABNF of the spec exactly, plus every MUST of its
 * data model that can be checked from one exposition (suffixes per type, histogram and summary rules, exemplar
 * placement and size, family and metric grouping, timestamps). SHOULDs are not enforced: default labels that
 * appear on every metric, non-canonical `le` renderings such as "1" for "1.0", HELP after TYPE, missing `_created`.
 * test/openmetrics-parser.test.ts runs it over the OpenMetrics project's own parser test cases.
 *
 * parsePrometheusText follows the Prometheus text format 0.0.4 as its documentation states it, where HELP text knows
 * two escapes only (`\\` and `\n`): a `\"` there is an error, as it is for Prometheus parsers before 2.x's UTF-8 work.
 *
 * No npm package does this: the only parser on the registry (parse-prometheus-text-format) reads 0.0.4 leniently and
 * knows nothing of OpenMetrics.
 */

export type OpenMetricsType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'stateset'
  | 'info'
  | 'summary'
  | 'unknown';
export type PrometheusType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export type LabelSet = Readonly<Record<string, string>>;

export interface ParsedExemplar {
  readonly labels: LabelSet;
  readonly value: number;
  readonly timestamp?: number;
}

export interface ParsedSample {
  readonly name: string;
  readonly labels: LabelSet;
  readonly value: number;
  readonly timestamp?: number;
  readonly exemplar?: ParsedExemplar;
  /** 1-based line number in the exposition. */
  readonly line: number;
}

export interface ParsedFamily<T extends string> {
  readonly name: string;
  readonly type: T;
  /** Undefined when the family has no HELP line. */
  readonly help: string | undefined;
  /** Undefined when the family has no UNIT line (OpenMetrics only). */
  readonly unit: string | undefined;
  readonly samples: readonly ParsedSample[];
}

export class ExpositionError extends Error {
  constructor(
    readonly format: 'OpenMetrics' | 'Prometheus 0.0.4',
    readonly lineNumber: number,
    readonly lineText: string,
    readonly reason: string,
  ) {
    super(`${format}: line ${lineNumber}: ${reason}\n    ${JSON.stringify(lineText)}`);
    this.name = 'ExpositionError';
  }
}

type Fail = (reason: string) => never;

// ---------------------------------------------------------------------------------------------------------------
// Lexical pieces shared by both formats.

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

/** OpenMetrics `realnumber`: [SIGN] 1*DIGIT ["." *DIGIT] ["e" [SIGN] 1*DIGIT] / [SIGN] *DIGIT "." 1*DIGIT [...]. */
const REAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** OpenMetrics `[SIGN] ("inf" / "infinity")` and `"nan"`; ABNF quoted strings are case-insensitive. */
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;
const NAN = /^nan$/i;

class Cursor {
  pos = 0;
  constructor(
    readonly text: string,
    readonly fail: Fail,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  expect(char: string, what: string): void {
    if (this.text[this.pos] !== char) {
      this.fail(
        `expected ${what} at column ${this.pos + 1}, found ${this.done ? 'the end of the line' : JSON.stringify(this.text[this.pos])}`,
      );
    }
    this.pos++;
  }

  match(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.pos;
    const found = pattern.exec(this.text);
    if (found === null) this.fail(`expected ${what} at column ${this.pos + 1}`);
    this.pos += found[0].length;
    return found[0];
  }

  /** Everything up to the next space or the end of the line. */
  token(): string {
    const end = this.text.indexOf(' ', this.pos);
    const token = this.text.slice(this.pos, end === -1 ? undefined : end);
    this.pos += token.length;
    return token;
  }
}

/** OpenMetrics `normal-char`: any Unicode scalar value except LF, `"` and `\` (so no lone surrogates). */
function isNormalChar(codePoint: number): boolean {
  return codePoint !== 0x0a && codePoint !== 0x22 && codePoint !== 0x5c && (codePoint < 0xd800 || codePoint > 0xdfff);
}

/** How one kind of escaped string reads. */
interface EscapeRules {
  /** What a backslash may precede, and what the pair stands for. */
  readonly escapes: Readonly<Record<string, string>>;
  /** A backslash before any other normal-char stands for itself and that character (OpenMetrics' `BS normal-char`). */
  readonly lenient: boolean;
  /** An unescaped `"`: closes the string (label values), is an error (OpenMetrics HELP) or is text (0.0.4 HELP). */
  readonly quote: 'ends' | 'error' | 'text';
}

const OM_LABEL_VALUE: EscapeRules = { escapes: { n: '\n', '"': '"', '\\': '\\' }, lenient: true, quote: 'ends' };
const OM_HELP: EscapeRules = { ...OM_LABEL_VALUE, quote: 'error' };
const PROM_LABEL_VALUE: EscapeRules = { escapes: { n: '\n', '"': '"', '\\': '\\' }, lenient: false, quote: 'ends' };
const PROM_HELP: EscapeRules = { escapes: { n: '\n', '\\': '\\' }, lenient: false, quote: 'text' };

/** Reads an escaped string from the cursor: up to the closing `"` (consumed) or to the end of the line, per `rules`. */
function readEscaped(cursor: Cursor, rules: EscapeRules, what: string): string {
  let out = '';
  const { text } = cursor;
  const fail: Fail = cursor.fail;
  while (cursor.pos < text.length) {
    const codePoint = text.codePointAt(cursor.pos) as number;
    const char = String.fromCodePoint(codePoint);
    if (char === '\\') {
      const next = text.codePointAt(cursor.pos + 1);
      if (next === undefined) fail(`${what} ends in a lone backslash`);
      const nextChar = String.fromCodePoint(next);
      const escaped = rules.escapes[nextChar];
      if (escaped !== undefined) out += escaped;
      else if (rules.lenient && isNormalChar(next)) out += `\\${nextChar}`;
      else fail(`invalid escape sequence ${JSON.stringify(`\\${nextChar}`)} in ${what}`);
      cursor.pos += 1 + nextChar.length;
      continue;
    }
    if (char === '"' && rules.quote !== 'text') {
      if (rules.quote === 'ends') {
        cursor.pos++;
        return out;
      }
      fail(`unescaped double quote in ${what} at column ${cursor.pos + 1} (it must be written \\")`);
    }
    if (codePoint >= 0xd800 && codePoint <= 0xdfff)
      fail(`${what} holds a lone UTF-16 surrogate, which is not UTF-8 text`);
    out += char;
    cursor.pos += char.length;
  }
  if (rules.quote === 'ends') fail(`${what} has no closing double quote`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OpenMetrics 1.0

const OM_TYPES: readonly OpenMetricsType[] = [
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'stateset',
  'info',
  'summary',
  'unknown',
];

/** The sample-name suffixes each type allows (spec "Suffixes"). */
const OM_SUFFIXES: Readonly<Record<OpenMetricsType, readonly string[]>> = {
  counter: ['_total', '_created'],
  summary: ['', '_count', '_sum', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  info: ['_info'],
  gauge: [''],
  stateset: [''],
  unknown: [''],
};

/** An OpenMetrics `number`; undefined when the text is not one. Real numbers must fit a float64. */
function omNumber(text: string): number | undefined {
  if (REAL_NUMBER.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? value : undefined;
  }
  const inf = INFINITY.exec(text);
  if (inf !== null) return inf[1] === '-' ? -Infinity : Infinity;
  return NAN.test(text) ? Number.NaN : undefined;
}

/** An OpenMetrics `timestamp` (a realnumber: no NaN, no infinities). */
function omTimestamp(text: string, what: string, fail: Fail): number {
  if (!REAL_NUMBER.test(text)) fail(`${what} ${JSON.stringify(text)} is not a real number`);
  const value = Number(text);
  if (!Number.isFinite(value)) fail(`${what} ${JSON.stringify(text)} does not fit a float64`);
  return value;
}

function omValue(text: string, what: string, fail: Fail): number {
  const value = omNumber(text);
  if (value === undefined) fail(`${what} ${JSON.stringify(text)} is not an OpenMetrics number`);
  return value;
}

/** `le` and `quantile` values: numbers, never NaN, positive infinity written exactly "+Inf" (the one MUST of "Canonical Numbers"). */
function thresholdOf(labels: LabelSet, label: 'le' | 'quantile', fail: Fail): number {
  const text = labels[label];
  if (text === undefined) fail(`missing the "${label}" label`);
  const value = omNumber(text);
  if (value === undefined || Number.isNaN(value)) fail(`${label}="${text}" is not a number`);
  if (value === Infinity && text !== '+Inf') fail(`${label}="${text}": positive infinity must be written "+Inf"`);
  return value;
}

function readLabelSet(
  cursor: Cursor,
  what: string,
  reservedPrefix: string,
  rules: EscapeRules,
  trailingComma: boolean,
): Record<string, string> {
  const labels: Record<string, string> = {};
  cursor.expect('{', `"{" opening the ${what}`);
  if (cursor.peek() === '}') {
    cursor.pos++;
    return labels;
  }
  for (;;) {
    const name = cursor.match(LABEL_NAME, `a label name in the ${what}`);
    if (name.startsWith(reservedPrefix))
      cursor.fail(`label name "${name}" starts with "${reservedPrefix}", which is reserved`);
    if (Object.hasOwn(labels, name)) cursor.fail(`label "${name}" appears twice in the ${what}`);
    cursor.expect('=', `"=" after label name "${name}"`);
    cursor.expect('"', `a double-quoted value for label "${name}"`);
    labels[name] = readEscaped(cursor, rules, `the value of label "${name}"`);
    if (cursor.peek() === ',') {
      cursor.pos++;
      if (trailingComma && cursor.peek() === '}') {
        cursor.pos++;
        return labels;
      }
      continue;
    }
    cursor.expect('}', `"," or "}" after the value of label "${name}"`);
    return labels;
  }
}

interface OmSampleSyntax {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
  exemplar?: ParsedExemplar;
}

/** `sample = metricname [labels] SP number [SP timestamp] [exemplar]`, `exemplar = SP HASH SP labels SP number [SP timestamp]`. */
function parseOmSample(line: string, fail: Fail): OmSampleSyntax {
  const cursor = new Cursor(line, fail);
  const name = cursor.match(METRIC_NAME, 'a metric name');
  const labels = cursor.peek() === '{' ? readLabelSet(cursor, 'label set', '_', OM_LABEL_VALUE, false) : {};
  cursor.expect(' ', 'one space before the value');
  const sample: OmSampleSyntax = { name, labels, value: omValue(cursor.token(), 'value', fail) };
  if (cursor.done) return sample;
  cursor.expect(' ', 'one space after the value');
  if (cursor.peek() !== '#') {
    sample.timestamp = omTimestamp(cursor.token(), 'timestamp', fail);
    if (cursor.done) return sample;
    cursor.expect(' ', 'one space after the timestamp');
  }
  cursor.expect('#', '"#" opening an exemplar');
  cursor.expect(' ', 'one space after the exemplar "#"');
  const exemplarLabels = readLabelSet(cursor, 'exemplar label set', '_', OM_LABEL_VALUE, false);
  const length = Object.entries(exemplarLabels).reduce(
    (sum, [key, value]) => sum + [...key].length + [...value].length,
    0,
  );
  if (length > 128) fail(`the exemplar's label names and values hold ${length} code points; at most 128 are allowed`);
  cursor.expect(' ', 'one space before the exemplar value');
  const exemplarValue = omValue(cursor.token(), 'exemplar value', fail);
  if (cursor.done) {
    sample.exemplar = { labels: exemplarLabels, value: exemplarValue };
    return sample;
  }
  cursor.expect(' ', 'one space after the exemplar value');
  const exemplarTimestamp = omTimestamp(cursor.token(), 'exemplar timestamp', fail);
  if (!cursor.done) fail(`unexpected text after the exemplar timestamp at column ${cursor.pos + 1}`);
  sample.exemplar = { labels: exemplarLabels, value: exemplarValue, timestamp: exemplarTimestamp };
  return sample;
}

interface OmPoint {
  readonly timestamp: number | undefined;
  readonly series: Set<string>;
  readonly samples: ParsedSample[];
  readonly fail: Fail;
}

interface OmFamilyState {
  readonly name: string;
  type: OpenMetricsType | undefined;
  help: string | undefined;
  unit: string | undefined;
  readonly metadata: Set<string>;
  readonly samples: ParsedSample[];
  readonly fail: Fail;
  /** Metrics (label sets less le/quantile/state) already finished: a Metric must not come back. */
  readonly closedMetrics: Set<string>;
  metric: string | undefined;
  point: OmPoint | undefined;
}

const identity = (labels: LabelSet, without?: string): string =>
  JSON.stringify(
    Object.entries(labels)
      // "Empty label values SHOULD be treated as if the label was not present": {a=""} and {} are one Metric.
      .filter(([key, value]) => key !== without && value !== '')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );

function isInteger(value: number): boolean {
  return Number.isInteger(value);
}

/** The rules one sample must follow on its own, given its family's type. */
function checkOmSample(family: OmFamilyState, type: OpenMetricsType, sample: ParsedSample, fail: Fail): void {
  const suffix = sample.name.slice(family.name.length);
  const { value, labels } = sample;
  const nonNegativeCount = (what: string, integer: boolean) => {
    if (Number.isNaN(value) || value < 0) fail(`${what} must not be NaN or negative, got ${value}`);
    if (integer && !isInteger(value)) fail(`${what} must be an integer, got ${value}`);
  };
  const created = () => {
    if (!Number.isFinite(value)) fail(`_created is a timestamp and must be a finite number, got ${value}`);
  };
  switch (type) {
    case 'counter':
      if (suffix === '_total') nonNegativeCount('a counter total', false);
      else created();
      break;
    case 'stateset':
      if (!Object.hasOwn(labels, family.name))
        fail(`a stateset sample needs a label named after its family ("${family.name}")`);
      if (value !== 0 && value !== 1) fail(`a stateset sample must be 0 or 1, got ${value}`);
      break;
    case 'info':
      if (value !== 1) fail(`an info sample must be 1, got ${value}`);
      break;
    case 'summary':
      if (suffix === '') {
        const quantile = thresholdOf(labels, 'quantile', fail);
        if (!(quantile >= 0 && quantile <= 1)) fail(`quantile="${labels.quantile}" is outside [0, 1]`);
        if (value < 0) fail(`a quantile value must not be negative, got ${value}`);
      } else {
        if (Object.hasOwn(labels, 'quantile'))
          fail(`the "quantile" label belongs on quantile samples only, not on ${sample.name}`);
        if (suffix === '_count') nonNegativeCount('a summary _count', true);
        else if (suffix === '_sum') nonNegativeCount('a summary _sum', false);
        else created();
      }
      break;
    case 'histogram':
    case 'gaugehistogram':
      if (suffix === '_bucket') {
        thresholdOf(labels, 'le', fail);
        nonNegativeCount('a bucket value', true);
      } else {
        if (Object.hasOwn(labels, 'le')) fail(`the "le" label belongs on _bucket samples only, not on ${sample.name}`);
        if (suffix === '_count' || suffix === '_gcount') nonNegativeCount(`a ${suffix}`, true);
        else if (suffix === '_sum') nonNegativeCount('a histogram _sum', false);
        else if (suffix === '_gsum') {
          if (Number.isNaN(value)) fail('a _gsum must not be NaN');
        } else created();
      }
      break;
    case 'gauge':
    case 'unknown':
      break;
  }
  if (sample.exemplar !== undefined) {
    const allowed =
      (type === 'counter' && suffix === '_total') ||
      ((type === 'histogram' || type === 'gaugehistogram') && suffix === '_bucket');
    if (!allowed)
      fail(
        `exemplars are allowed on counter _total and histogram/gaugehistogram _bucket samples only, not on ${type} sample ${sample.name}`,
      );
  }
}

/** The rules over one MetricPoint (one Metric at one timestamp). */
function checkOmPoint(family: OmFamilyState, type: OpenMetricsType, point: OmPoint): void {
  const { fail } = point;
  const names = point.samples.map((s) => s.name.slice(family.name.length));
  if (type === 'counter' && !names.includes('_total')) fail(`counter MetricPoint without a _total sample`);
  if (type !== 'histogram' && type !== 'gaugehistogram') return;
  const gauge = type === 'gaugehistogram';
  let previous: number | undefined;
  let previousValue = 0;
  let infValue: number | undefined;
  let negative = false;
  for (const sample of point.samples) {
    if (!sample.name.endsWith('_bucket')) continue;
    const le = thresholdOf(sample.labels, 'le', fail);
    if (previous !== undefined && !(le > previous))
      fail(`buckets must be sorted by increasing "le" and unique: le="${sample.labels.le}" follows ${previous}`);
    if (sample.value < previousValue)
      fail(
        `buckets must be cumulative: le="${sample.labels.le}" has ${sample.value}, less than the bucket before (${previousValue})`,
      );
    if (sample.exemplar !== undefined && !(sample.exemplar.value <= le))
      fail(`the exemplar value ${sample.exemplar.value} is outside its bucket le="${sample.labels.le}"`);
    if (le < 0) negative = true;
    if (le === Infinity) infValue = sample.value;
    previous = le;
    previousValue = sample.value;
  }
  const count = point.samples.find((s) => s.name === `${family.name}${gauge ? '_gcount' : '_count'}`);
  const sum = point.samples.find((s) => s.name === `${family.name}${gauge ? '_gsum' : '_sum'}`);
  if (infValue === undefined) fail(`${type} MetricPoint without a le="+Inf" bucket`);
  if ((count === undefined) !== (sum === undefined))
    fail(`${gauge ? '_gcount and _gsum' : '_count and _sum'} must come together (one of them is missing)`);
  if (count !== undefined && count.value !== infValue)
    fail(`${count.name} is ${count.value} but the +Inf bucket is ${infValue}`);
  if (!gauge && negative && sum !== undefined) fail('a histogram with negative bucket thresholds must not have a _sum');
  if (gauge && !negative && sum !== undefined && sum.value < 0)
    fail('a negative _gsum needs negative bucket thresholds');
}

function closeOmPoint(family: OmFamilyState): void {
  if (family.point !== undefined) checkOmPoint(family, family.type ?? 'unknown', family.point);
  family.point = undefined;
}

function closeOmFamily(family: OmFamilyState): ParsedFamily<OpenMetricsType> {
  closeOmPoint(family);
  const type = family.type ?? 'unknown';
  const { unit } = family;
  if (unit !== undefined && unit !== '') {
    if (!family.name.endsWith(`_${unit}`))
      family.fail(`family "${family.name}" has UNIT "${unit}" but its name does not end in "_${unit}"`);
    if (type === 'info' || type === 'stateset') family.fail(`${type} families must not have a unit`);
  }
  return { name: family.name, type, help: family.help, unit: family.unit, samples: family.samples };
}

/** Decodes bytes as strict UTF-8 (a BOM is kept, so that it can be refused). */
function decode(input: string | Uint8Array, fail: Fail): string {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    return fail('the exposition is not valid UTF-8');
  }
}

/** The OpenMetrics sample names a family of this name and type may use, its own name included. */
function omSampleNames(name: string, type: OpenMetricsType): string[] {
  return [...new Set(['', ...OM_SUFFIXES[type]])].map((suffix) => `${name}${suffix}`);
}

/**
 * Parses an OpenMetrics 1.0 text exposition, throwing an ExpositionError on the first violation. Give it the raw
 * bytes when you have them: they are then decoded as strict UTF-8.
 */
export function parseOpenMetrics(input: string | Uint8Array): ParsedFamily<OpenMetricsType>[] {
  const failAt =
    (lineNumber: number, lineText: string): Fail =>
    (reason) => {
      throw new ExpositionError('OpenMetrics', lineNumber, lineText, reason);
    };
  const text = decode(input, failAt(1, ''));
  if (text.startsWith('\uFEFF')) failAt(1, '')('the exposition starts with a byte order mark, which must not be used');
  // exposition = metricset HASH SP eof [ LF ]
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  const last = lines.pop() as string;
  if (last !== '# EOF') {
    const eofAt = lines.indexOf('# EOF');
    if (eofAt !== -1) failAt(eofAt + 2, lines[eofAt + 1] ?? last)('nothing may follow "# EOF"');
    failAt(
      lines.length + 1,
      last,
    )('the exposition must end with the line "# EOF" (and at most one line feed after it)');
  }

  const families: ParsedFamily<OpenMetricsType>[] = [];
  /** Each sample name some finished family could use, and that family: two families must never share one. */
  const claimed = new Map<string, string>();
  const familyNames = new Set<string>();
  let family: OmFamilyState | undefined;

  const finish = (): void => {
    if (family === undefined) return;
    const done = closeOmFamily(family);
    for (const name of omSampleNames(done.name, done.type)) {
      const owner = claimed.get(name);
      if (owner !== undefined)
        family.fail(
          `family "${done.name}" (${done.type}) could expose samples named "${name}", which clashes with family "${owner}"`,
        );
      claimed.set(name, done.name);
    }
    families.push(done);
    family = undefined;
  };
  const open = (name: string, fail: Fail): OmFamilyState => {
    finish();
    if (name.startsWith('_')) fail(`metric family name "${name}" starts with "_", which is reserved`);
    if (familyNames.has(name))
      fail(`family "${name}" appears a second time: family names must be unique and families must not be interleaved`);
    familyNames.add(name);
    const opened: OmFamilyState = {
      name,
      type: undefined,
      help: undefined,
      unit: undefined,
      metadata: new Set(),
      samples: [],
      fail,
      closedMetrics: new Set(),
      metric: undefined,
      point: undefined,
    };
    family = opened;
    return opened;
  };

  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    const fail = failAt(lineNumber, line);
    if (line === '') fail('blank lines are not allowed');
    if (line.endsWith('\r')) fail('lines must end with a line feed alone, not CR LF');

    if (line.startsWith('#')) {
      if (line === '# EOF') fail('nothing may follow "# EOF"');
      // metric-descriptor = HASH SP (type|help|unit) SP metricname SP ...
      const meta = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) ([\s\S]*)$/.exec(line);
      if (meta === null)
        fail(
          'a line starting with "#" must be "# HELP name text", "# TYPE name type", "# UNIT name unit" or the final "# EOF"',
        );
      const [, keyword, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE' | 'UNIT', string, string];
      const current = family !== undefined && family.name === name ? family : open(name, fail);
      if (current.samples.length > 0)
        fail(`${keyword} for family "${name}" after its samples: metadata must come first`);
      if (current.metadata.has(keyword)) fail(`a second ${keyword} line for family "${name}"`);
      current.metadata.add(keyword);
      if (keyword === 'TYPE') {
        if (!(OM_TYPES as readonly string[]).includes(rest))
          fail(`unknown type ${JSON.stringify(rest)}: expected one of ${OM_TYPES.join(', ')}`);
        current.type = rest as OpenMetricsType;
      } else if (keyword === 'UNIT') {
        if (!/^[a-zA-Z0-9_:]*$/.test(rest)) fail(`unit ${JSON.stringify(rest)} may hold metric-name characters only`);
        current.unit = rest;
      } else {
        current.help = readEscaped(new Cursor(rest, fail), OM_HELP, 'HELP text');
      }
      return;
    }

    const syntax = parseOmSample(line, fail);
    let current = family;
    const belongs = (into: OmFamilyState): boolean =>
      OM_SUFFIXES[into.type ?? 'unknown'].some((suffix) => syntax.name === `${into.name}${suffix}`);
    if (current === undefined || !belongs(current)) {
      const owner = claimed.get(syntax.name);
      if (owner !== undefined && owner !== syntax.name)
        fail(
          `sample "${syntax.name}" belongs to family "${owner}", which has already ended: families must not be interleaved`,
        );
      current = open(syntax.name, fail);
    }
    const type = current.type ?? 'unknown';
    const sample: ParsedSample = { ...syntax, line: lineNumber };
    checkOmSample(current, type, sample, fail);

    // A Metric is a label set less the per-value label; a MetricPoint is one Metric at one timestamp.
    const suffix = sample.name.slice(current.name.length);
    const perValueLabel =
      (type === 'histogram' || type === 'gaugehistogram') && suffix === '_bucket'
        ? 'le'
        : type === 'summary' && suffix === ''
          ? 'quantile'
          : type === 'stateset'
            ? current.name
            : undefined;
    const metric = identity(sample.labels, perValueLabel);
    const series = `${sample.name}${identity(sample.labels)}`;
    if (current.metric !== metric) {
      if (current.closedMetrics.has(metric))
        fail(`the samples of Metric ${metric} of family "${current.name}" are interleaved with another Metric's`);
      if (current.metric !== undefined) current.closedMetrics.add(current.metric);
      closeOmPoint(current);
      current.metric = metric;
    }
    let point = current.point;
    if (point !== undefined) {
      if ((sample.timestamp === undefined) !== (point.timestamp === undefined))
        fail('the samples of one Metric must all have timestamps or all have none');
      if (sample.timestamp !== undefined && point.timestamp !== undefined) {
        if (sample.timestamp < point.timestamp)
          fail(
            `timestamp ${sample.timestamp} goes back from ${point.timestamp}: a Metric's MetricPoints must be in timestamp order and not interleaved`,
          );
        // A later timestamp, or the same series again at the same one, starts the next MetricPoint.
        if (sample.timestamp > point.timestamp || point.series.has(series)) {
          closeOmPoint(current);
          point = undefined;
        }
      } else if (point.series.has(series)) {
        fail(`sample ${series} appears twice; without timestamps a Metric has a single MetricPoint`);
      }
    }
    if (point === undefined) {
      point = { timestamp: sample.timestamp, series: new Set(), samples: [], fail };
      current.point = point;
    }
    point.series.add(series);
    point.samples.push(sample);
    current.samples.push(sample);
  });
  finish();
  return families;
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus text format 0.0.4

const PROM_TYPES: readonly PrometheusType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const PROM_SUFFIXES: Readonly<Record<PrometheusType, readonly string[]>> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};
/** Go's strconv.ParseFloat syntax as Prometheus reads values: decimal floats, Inf/Infinity with a sign or not, NaN. */
const PROM_FLOAT = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?)$|^nan$/i;

function promFloat(text: string, what: string, fail: Fail): number {
  if (!PROM_FLOAT.test(text)) fail(`${what} ${JSON.stringify(text)} is not a float`);
  if (NAN.test(text)) return Number.NaN;
  const inf = INFINITY.exec(text);
  if (inf !== null) return inf[1] === '-' ? -Infinity : Infinity;
  const value = Number(text);
  if (!Number.isFinite(value)) fail(`${what} ${JSON.stringify(text)} does not fit a float64`);
  return value;
}

interface PromFamilyState {
  readonly name: string;
  type: PrometheusType | undefined;
  help: string | undefined;
  readonly samples: ParsedSample[];
  readonly series: Set<string>;
  readonly fail: Fail;
}

function checkPromHistogram(family: PromFamilyState): void {
  const groups = new Map<string, { inf?: number; count?: number }>();
  for (const sample of family.samples) {
    const key = identity(sample.labels, 'le');
    const group = groups.get(key) ?? {};
    groups.set(key, group);
    if (sample.name === `${family.name}_bucket` && sample.labels.le === '+Inf') group.inf = sample.value;
    if (sample.name === `${family.name}_count`) group.count = sample.value;
  }
  for (const [key, group] of groups) {
    if (group.inf === undefined) family.fail(`histogram ${family.name}${key} has no le="+Inf" bucket`);
    if (group.count !== undefined && group.count !== group.inf)
      family.fail(`histogram ${family.name}${key}: _count ${group.count} differs from its +Inf bucket ${group.inf}`);
  }
}

/**
 * Parses a Prometheus text format 0.0.4 exposition, throwing an ExpositionError on the first violation: HELP and TYPE
 * at most once per metric and TYPE before its samples, each metric's lines in one group, no repeated sample, valid
 * names, values and escapes, `le` and `quantile` where they belong, a +Inf bucket equal to `_count`.
 */
export function parsePrometheusText(input: string | Uint8Array): ParsedFamily<PrometheusType>[] {
  const failAt =
    (lineNumber: number, lineText: string): Fail =>
    (reason) => {
      throw new ExpositionError('Prometheus 0.0.4', lineNumber, lineText, reason);
    };
  const text = decode(input, failAt(1, ''));
  const lines = text.split('\n');
  if (lines.pop() !== '') failAt(lines.length + 1, lines.at(-1) ?? '')('the last line must end with a line feed');

  const families: ParsedFamily<PrometheusType>[] = [];
  const ended = new Set<string>();
  let family: PromFamilyState | undefined;
  const finish = (): void => {
    if (family === undefined) return;
    if (family.type === 'histogram') checkPromHistogram(family);
    families.push({
      name: family.name,
      type: family.type ?? 'untyped',
      help: family.help,
      unit: undefined,
      samples: family.samples,
    });
    ended.add(family.name);
    family = undefined;
  };
  const open = (name: string, fail: Fail): PromFamilyState => {
    if (family !== undefined && family.name === name) return family;
    finish();
    if (ended.has(name))
      fail(`metric "${name}" comes back after other metrics: all lines of one metric must form a single group`);
    const opened: PromFamilyState = { name, type: undefined, help: undefined, samples: [], series: new Set(), fail };
    family = opened;
    return opened;
  };
  const isName = (name: string): boolean => {
    METRIC_NAME.lastIndex = 0;
    return METRIC_NAME.exec(name)?.[0] === name;
  };

  lines.forEach((rawLine, index) => {
    const fail = failAt(index + 1, rawLine);
    if (rawLine.endsWith('\r')) fail('lines must end with a line feed alone, not CR LF');
    // Leading and trailing blanks (spaces, tabs) are ignored; an empty line is ignored.
    const line = rawLine.replace(/^[ \t]+|[ \t]+$/g, '');
    if (line === '') return;
    if (line.startsWith('#')) {
      const meta = /^#[ \t]+(HELP|TYPE)[ \t]+([^ \t]+)(?:[ \t]+([\s\S]*))?$/.exec(line);
      if (meta === null) return; // any other comment
      const [, keyword, name, rest = ''] = meta as unknown as [string, 'HELP' | 'TYPE', string, string | undefined];
      if (!isName(name)) fail(`invalid metric name ${JSON.stringify(name)} in ${keyword}`);
      const current = open(name, fail);
      if (keyword === 'TYPE') {
        if (current.type !== undefined) fail(`a second TYPE line for metric "${name}"`);
        if (current.samples.length > 0) fail(`TYPE for metric "${name}" after its samples`);
        if (!(PROM_TYPES as readonly string[]).includes(rest)) fail(`unknown type ${JSON.stringify(rest)}`);
        current.type = rest as PrometheusType;
      } else {
        if (current.help !== undefined) fail(`a second HELP line for metric "${name}"`);
        current.help = readEscaped(new Cursor(rest, fail), PROM_HELP, 'HELP text');
      }
      return;
    }

    // metric_name [ "{" label_name "=" `"` label_value `"` { "," ... } [ "," ] "}" ] value [ timestamp ]
    const cursor = new Cursor(line, fail);
    const name = cursor.match(METRIC_NAME, 'a metric name');
    const nameEnd = cursor.pos;
    const skipBlanks = (): void => {
      while (cursor.peek() === ' ' || cursor.peek() === '\t') cursor.pos++;
    };
    skipBlanks();
    let labels: Record<string, string> = {};
    if (cursor.peek() === '{') {
      labels = readLabelSet(cursor, 'label set', '__', PROM_LABEL_VALUE, true);
      skipBlanks();
    } else if (cursor.pos === nameEnd) {
      fail(`expected blanks or "{" after the metric name at column ${cursor.pos + 1}`);
    }
    const fields = line.slice(cursor.pos).split(/[ \t]+/);
    if (fields[0] === '') fail('missing value');
    if (fields.length > 2) fail(`unexpected text after the timestamp: ${JSON.stringify(fields.slice(2).join(' '))}`);
    const value = promFloat(fields[0] as string, 'value', fail);
    const timestampText = fields[1];
    if (timestampText !== undefined && !/^-?\d+$/.test(timestampText))
      fail(`timestamp ${JSON.stringify(timestampText)} is not an integer of milliseconds`);

    let current = family;
    const belongs = (into: PromFamilyState): boolean =>
      PROM_SUFFIXES[into.type ?? 'untyped'].some((suffix) => name === `${into.name}${suffix}`);
    if (current === undefined || !belongs(current)) current = open(name, fail);
    const type = current.type ?? 'untyped';
    const suffix = name.slice(current.name.length);
    const perValueLabel = type === 'histogram' ? 'le' : type === 'summary' ? 'quantile' : undefined;
    if (perValueLabel !== undefined) {
      const wanted = (type === 'histogram' && suffix === '_bucket') || (type === 'summary' && suffix === '');
      const labelValue = labels[perValueLabel];
      if (wanted && labelValue === undefined) fail(`${name} needs a "${perValueLabel}" label`);
      if (wanted && labelValue !== undefined) promFloat(labelValue, perValueLabel, fail);
      if (!wanted && labelValue !== undefined)
        fail(
          `"${perValueLabel}" belongs on ${type === 'histogram' ? '_bucket' : 'quantile'} samples only, not on ${name}`,
        );
    }
    const series = `${name}${identity(labels)}`;
    if (current.series.has(series)) fail(`sample ${series} appears twice`);
    current.series.add(series);
    const sample: ParsedSample =
      timestampText === undefined
        ? { name, labels, value, line: index + 1 }
        : { name, labels, value, timestamp: Number(timestampText), line: index + 1 };
    current.samples.push(sample);
  });
  finish();
  return families;
}
