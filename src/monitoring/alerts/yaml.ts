/**
 * A YAML emitter for the plain data the writers produce (maps, lists, strings, numbers, booleans), so the package
 * needs no YAML dependency. It errs on the side of quoting: Prometheus and Alertmanager read YAML 1.1 (go-yaml),
 * where `on`, `no` or `1_000` are not strings, so only scalars that cannot mean anything else stay plain.
 */

export type YamlValue =
  | string
  | number
  | boolean
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

// Words YAML 1.1 reads as booleans or null. Numbers (and 1.1's 1_000, 0x1f, 12:30) never stay plain: see PLAIN_VALUE.
const KEYWORD = /^(y|n|yes|no|on|off|true|false|null)$/i;
// Label and annotation names, Kubernetes label keys (app.kubernetes.io/name).
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
// Identifiers, record names (push:messages:rate5m), URLs and durations (5m, 1h30m): no spaces, quotes, `#`, or `: `.
const PLAIN_VALUE = /^([A-Za-z_][A-Za-z0-9_.:/-]*[A-Za-z0-9_./-]|[A-Za-z_]|(\d+(ms|s|m|h|d|w|y))+)$/;
// Characters YAML treats as line breaks or does not allow raw; JSON.stringify leaves them as they are.
const UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff]/;

function quoted(text: string): string {
  return JSON.stringify(text).replace(
    new RegExp(UNSAFE.source, 'g'),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function key(name: string): string {
  return PLAIN_KEY.test(name) && !KEYWORD.test(name) ? name : quoted(name);
}

function isPlain(text: string): boolean {
  return PLAIN_VALUE.test(text) && !KEYWORD.test(text);
}

/** A literal block (`|-`) keeps a multi-line expression readable; anything it could not carry exactly is quoted. */
function canBeBlock(text: string): boolean {
  return (
    text.includes('\n') &&
    !/^[ \t]/.test(text) && // a leading space would need an indentation indicator
    !/[\u0000-\u0008\u000b-\u001f]/.test(text) &&
    !UNSAFE.test(text) &&
    !/[ \t]$/m.test(text) && // trailing spaces and blank lines would not survive every reader
    !/^$/m.test(text)
  );
}

function scalar(value: string | number | boolean): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} to YAML`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (isPlain(value)) return value;
  // Single quotes escape nothing but themselves, so PromQL matchers and templates stay as written.
  if (!/[\u0000-\u001f]/.test(value) && !UNSAFE.test(value)) return `'${value.replaceAll("'", "''")}'`;
  return quoted(value);
}

function isNested(value: YamlValue): value is readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined } {
  return (
    typeof value === 'object' &&
    (Array.isArray(value) ? value.length > 0 : Object.values(value).some((item) => item !== undefined))
  );
}

/** The lines of a map or list whose entries start at `indent`. */
function nested(
  value: readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined },
  indent: string,
): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item: YamlValue) => {
      // An item's first line goes after the dash; the rest line up under it.
      if (!isNested(item))
        return [`${indent}- ${typeof item === 'object' ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`];
      const [first = '', ...rest] = nested(item, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  return Object.entries(value).flatMap(([name, item]) => {
    if (item === undefined) return [];
    const head = `${indent}${key(name)}:`;
    if (isNested(item)) return [head, ...nested(item, `${indent}  `)];
    if (typeof item === 'object') return [`${head} ${Array.isArray(item) ? '[]' : '{}'}`];
    if (typeof item === 'string' && canBeBlock(item))
      return [`${head} |-`, ...item.split('\n').map((line) => `${indent}  ${line}`)];
    return [`${head} ${scalar(item)}`];
  });
}

/** The value (a map or a list) as a YAML document, with `header` lines as comments on top. */
export function toYaml(
  value: readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined },
  header: readonly string[] = [],
): string {
  const body = isNested(value) ? nested(value, '') : [Array.isArray(value) ? '[]' : '{}'];
  return `${[...header.map((line) => `# ${line}`.trimEnd()), ...body].join('\n')}\n`;
}
