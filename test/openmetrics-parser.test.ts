import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ExpositionError, parseOpenMetrics, parsePrometheusText } from './openmetrics-parser.js';

/**
 * The strict parsers the exposition tests rely on must themselves be right: accepting what the formats allow and
 * refusing what they forbid. A parser that accepts everything would make every exposition test pass.
 */

interface ConformanceCase {
  readonly name: string;
  readonly shouldParse: boolean;
  readonly comment?: string;
  readonly text: string;
}

const suite = JSON.parse(readFileSync(new URL('./fixtures/openmetrics-conformance.json', import.meta.url), 'utf8')) as {
  source: string;
  cases: ConformanceCase[];
};

/**
 * The suite's only disagreement with the ABNF: `# HELP a9 \\"` ends in a bare `"`, which `normal-char` excludes; the
 * suite follows the Python client's lenient parser there. The spec says the ABNF wins, and so does this parser.
 */
const ABNF_OVER_SUITE = new Map([['help_escaping', /line 29: unescaped double quote in HELP text/]]);

function parseError(parse: () => unknown): ExpositionError | undefined {
  try {
    parse();
    return undefined;
  } catch (error) {
    if (error instanceof ExpositionError) return error;
    throw error;
  }
}

describe("parseOpenMetrics: the OpenMetrics project's parser test cases", () => {
  it('has all 211 cases of the suite', () => {
    assert.equal(suite.cases.length, 211);
    assert.equal(suite.cases.filter((c) => c.shouldParse).length, 44);
  });

  for (const testCase of suite.cases) {
    const deviation = ABNF_OVER_SUITE.get(testCase.name);
    const title = `${testCase.name}: ${deviation ? 'refused, by the ABNF' : testCase.shouldParse ? 'parses' : 'refused'}${testCase.comment ? ` (${testCase.comment})` : ''}`;
    it(title, () => {
      const error = parseError(() => parseOpenMetrics(new TextEncoder().encode(testCase.text)));
      if (deviation !== undefined) {
        assert.ok(testCase.shouldParse);
        assert.match(error?.message ?? 'parsed', deviation);
      } else if (testCase.shouldParse) {
        assert.equal(error, undefined, error?.message);
      } else {
        assert.ok(error, `accepted:\n${testCase.text}`);
      }
    });
  }
});

describe('parseOpenMetrics: rules the suite does not cover', () => {
  const histogram = (bucket: string) =>
    `# TYPE a histogram\n${bucket}\na_bucket{le="+Inf"} 1\na_count 1\na_sum 0.5\n# EOF\n`;
  const refused: Array<[string, string | Uint8Array, RegExp]> = [
    ['a bare " in HELP', '# HELP a say "hi"\n# EOF\n', /unescaped double quote in HELP/],
    ['a HELP ending in a lone backslash', '# HELP a x\\\n# EOF\n', /lone backslash/],
    ['an exemplar above its bucket', histogram('a_bucket{le="1"} 1 # {} 1.5'), /outside its bucket/],
    [
      'an exemplar on a summary',
      '# TYPE a summary\na_count 1 # {} 1\na_sum 1\n# EOF\n',
      /exemplars are allowed on counter _total and histogram/,
    ],
    [
      '"le" on _count',
      '# TYPE a histogram\na_bucket{le="+Inf"} 1\na_count{le="1"} 1\na_sum 1\n# EOF\n',
      /"le" label belongs on _bucket samples only/,
    ],
    [
      '"quantile" on _sum',
      '# TYPE a summary\na_sum{quantile="0.5"} 1\n# EOF\n',
      /"quantile" label belongs on quantile samples only/,
    ],
    ['a fractional bucket count', histogram('a_bucket{le="1"} 0.5'), /must be an integer/],
    ['a counter point without _total', '# TYPE a counter\na_created 1\n# EOF\n', /without a _total sample/],
    ['a repeated sample without timestamps', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n# EOF\n', /appears twice/],
    [
      'interleaved Metrics',
      '# TYPE a gauge\na{x="1"} 1\na{x="2"} 1\na{x="1"} 1 5\n# EOF\n',
      /interleaved with another Metric/,
    ],
    [
      'a family that comes back',
      '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF\n',
      /family "a" appears a second time/,
    ],
    [
      'samples of an ended family',
      '# TYPE a counter\na_total 1\n# TYPE b gauge\nb 1\na_created 2\n# EOF\n',
      /belongs to family "a", which has already ended/,
    ],
    ['a label name starting with _', 'a{_x="1"} 1\n# EOF\n', /reserved/],
    ['a family name starting with _', '_a 1\n# EOF\n', /reserved/],
    ['a label value whose closing quote is escaped', 'a{x="\\"} 1\n# EOF\n', /no closing double quote/],
    ['a lone surrogate in a label value', 'a{x="\uD800"} 1\n# EOF\n', /lone UTF-16 surrogate/],
    [
      'bytes that are not UTF-8',
      new Uint8Array([
        0x61,
        0x7b,
        0x78,
        0x3d,
        0x22,
        0xff,
        0x22,
        0x7d,
        0x20,
        0x31,
        0x0a,
        ...new TextEncoder().encode('# EOF\n'),
      ]),
      /not valid UTF-8/,
    ],
    ['a byte order mark', '\uFEFFa 1\n# EOF\n', /byte order mark/],
    ['CR LF line ends', 'a 1\r\n# EOF\n', /not CR LF/],
    ['a blank line after # EOF', 'a 1\n# EOF\n\n', /nothing may follow "# EOF"/],
    [
      '129 code points of exemplar labels',
      `# TYPE a counter\na_total 1 # {a="${'🚀'.repeat(128)}"} 1\n# EOF\n`,
      /129 code points/,
    ],
    ['a float64 overflow', 'a 1e999\n# EOF\n', /not an OpenMetrics number/],
    [
      'positive infinity as "Inf" in le',
      '# TYPE a histogram\na_bucket{le="Inf"} 0\n# EOF\n',
      /must be written "\+Inf"/,
    ],
  ];
  for (const [name, text, reason] of refused) {
    it(`refuses ${name}`, () => {
      const error = parseError(() => parseOpenMetrics(text));
      assert.ok(error, 'accepted');
      assert.match(error.message, reason);
    });
  }

  it('decodes escapes, keeps an undefined escape as written, and counts exemplar code points, not UTF-16 units', () => {
    const families = parseOpenMetrics(
      [
        '# TYPE a counter',
        '# HELP a x \\" \\\\ \\n \\t y',
        `a_total{v="\\"q\\" \\\\ \\n \\a"} 1 # {t="${'🚀'.repeat(127)}"} 1 1.5e9`,
        '# TYPE h_seconds histogram',
        '# UNIT h_seconds seconds',
        '# EOF',
      ].join('\n'),
    );
    assert.equal(families[0]?.help, 'x " \\ \n \\t y');
    assert.equal(families[0]?.samples[0]?.labels.v, '"q" \\ \n \\a');
    assert.equal(families[0]?.samples[0]?.exemplar?.timestamp, 1.5e9);
    assert.equal(families[1]?.unit, 'seconds');
  });

  it('accepts non-canonical le renderings, as parsers must, and +Inf written exactly', () => {
    const [parsed] = parseOpenMetrics(
      '# TYPE a histogram\na_bucket{le="1"} 0\na_bucket{le="1e1"} 1\na_bucket{le="+Inf"} 1 # {} 12\na_count 1\na_sum 12\n# EOF',
    );
    assert.deepEqual(
      parsed?.samples.map((s) => s.labels.le ?? s.name),
      ['1', '1e1', '+Inf', 'a_count', 'a_sum'],
    );
  });
});

describe('parsePrometheusText', () => {
  it('reads HELP with only \\\\ and \\n escaped and label values with \\" too, allowing a trailing comma', () => {
    const [parsed] = parsePrometheusText(
      '# HELP a say "hi" \\\\ \\n\n# TYPE a gauge\na{v="\\"q\\" \\\\ \\n",} 1 1700000000000\n',
    );
    assert.equal(parsed?.help, 'say "hi" \\ \n');
    assert.deepEqual(parsed?.samples[0]?.labels, { v: '"q" \\ \n' });
    assert.equal(parsed?.samples[0]?.timestamp, 1700000000000);
  });

  const refused: Array<[string, string, RegExp]> = [
    ['\\" in HELP', '# HELP a say \\"hi\\"\na 1\n', /invalid escape sequence "\\\\\\"" in HELP/],
    ['an unknown escape in a label value', 'a{v="\\t"} 1\n', /invalid escape sequence/],
    ['a metric split in two groups', 'a 1\nb 1\na{x="1"} 2\n', /comes back after other metrics/],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n', /TYPE for metric "a" after its samples/],
    ['a repeated sample', 'a{x="1"} 1\na{x="1"} 2\n', /appears twice/],
    ['a missing final line feed', 'a 1', /must end with a line feed/],
    [
      'a +Inf bucket that differs from _count',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\nh_sum 1\n',
      /differs from its \+Inf bucket/,
    ],
    ['an exemplar', '# TYPE c counter\nc 1 # {a="b"} 1\n', /unexpected text after the timestamp|is not an integer/],
    ['a reserved label name', 'a{__x="1"} 1\n', /reserved/],
  ];
  for (const [name, text, reason] of refused) {
    it(`refuses ${name}`, () => {
      const error = parseError(() => parsePrometheusText(text));
      assert.ok(error, 'accepted');
      assert.match(error.message, reason);
    });
  }
});
