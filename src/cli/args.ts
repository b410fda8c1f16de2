import { parseArgs } from 'node:util';

/**
 * The CLI's flag handling: node:util parseArgs for tokenizing, our own checks for the messages. parseArgs' strict
 * errors talk about "positional arguments" and "ambiguous" values; users need the flag's name and what it wants.
 */

/** A mistake on the command line: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** Placeholder shown in help for a string flag: `--rate N`. */
  readonly value?: string;
  readonly description: string;
  /** Left out of --help: test and tuning knobs. */
  readonly hidden?: boolean;
}

export interface CommandSpec {
  readonly name: string;
  /** One line for `push-telemetry --help`. */
  readonly brief: string;
  readonly summary: string;
  /** Paragraphs after the flag list. */
  readonly details?: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
}

export type Flags = Readonly<Record<string, string | boolean | undefined>>;

const HELP: FlagSpec = { type: 'boolean', description: 'show this help' };

/** Parses argv for one command; returns undefined when --help was asked for (the caller prints helpText). */
export function parseFlags(spec: CommandSpec, argv: readonly string[]): Flags | undefined {
  const flags: Record<string, FlagSpec> = { ...spec.flags, help: HELP };
  const options = Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, { type: flag.type }]));
  const see = `see: push-telemetry ${spec.name} --help`;
  const { tokens } = parseArgs({
    args: [...argv],
    options: { ...options, h: { type: 'boolean' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean> = {};
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`unexpected argument "${token.value}" (${see})`);
    if (token.kind === 'option-terminator') continue;
    const name = token.name === 'h' ? 'help' : token.name;
    const flag = flags[name];
    if (flag === undefined) throw new UsageError(`unknown flag ${token.rawName} (${see})`);
    if (name in values && name !== 'help') throw new UsageError(`${token.rawName} given more than once`);
    if (flag.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`${token.rawName} takes no value, got "${token.value ?? ''}"`);
      values[name] = true;
      continue;
    }
    // Without strict mode parseArgs takes `--rate --port` as rate="--port"; a value starting with "-" is a missing one.
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith('-') && !/^-\d/.test(value))) {
      throw new UsageError(
        `${token.rawName} needs a value${flag.value !== undefined ? ` (${token.rawName} ${flag.value})` : ''}`,
      );
    }
    values[name] = value;
  }
  return values.help === true ? undefined : values;
}

export function helpText(spec: CommandSpec): string {
  const usage = Object.entries(spec.flags)
    .filter(([, flag]) => flag.hidden !== true)
    .map(([name, flag]) => `[--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}]`)
    .join(' ');
  const rows = Object.entries({ ...spec.flags, help: HELP })
    .filter(([, flag]) => flag.hidden !== true)
    .map(
      ([name, flag]) =>
        [`--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}`, flag.description] as const,
    );
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = rows.map(
    ([left, right]) => `  ${left.padEnd(width)}  ${right.replace(/\n/g, `\n  ${' '.repeat(width)}  `)}`,
  );
  return [
    `Usage: push-telemetry ${spec.name} ${usage}`,
    '',
    spec.summary,
    '',
    'Flags:',
    ...lines,
    ...(spec.details ? ['', spec.details] : []),
    '',
  ].join('\n');
}

// ---- value parsers: each names the flag and says what it expected ----

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `20s`, `2m`, `1h30m`, `500ms`, or a plain number of seconds; returns milliseconds. */
export function parseDuration(flag: string, value: string): number {
  const plain = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : undefined;
  let total = plain ?? 0;
  if (plain === undefined) {
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
    if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value) {
      throw new UsageError(`--${flag} must be a duration like 20s, 2m or 1h, got "${value}"`);
    }
    for (const part of parts) total += Number(part[1]) * (UNITS[part[2] as string] as number);
  }
  if (!(total > 0)) throw new UsageError(`--${flag} must be longer than 0, got "${value}"`);
  return total;
}

export function parseNumber(flag: string, value: string, min: number, max: number, what = 'a number'): number {
  const number = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max))
    throw new UsageError(`--${flag} must be ${what} from ${min} to ${max}, got "${value}"`);
  return number;
}

export function parsePort(flag: string, value: string): number {
  const port = parseNumber(flag, value, 0, 65535, 'a port number');
  if (!Number.isInteger(port))
    throw new UsageError(`--${flag} must be a whole port number from 0 to 65535, got "${value}"`);
  return port;
}

export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value))
    throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

/** A string flag's value, or undefined; narrows the Flags record for the commands. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}
