/**
 * The command line's options: each command declares its options once (kind, default, one-line
 * help) in an `*_OPTIONS` table; the same table checks the arguments and prints `--help`, so the
 * help cannot drift from what the parser does.
 *
 * Splitting argv into options, values and positionals (`--x=1`, `--x 1`, `--`) is Node's own
 * `util.parseArgs` (its tokens); this file adds what it lacks: number and integer values,
 * `--no-<name>` for a string option, defaults, and one clear line for every mistake.
 */
import { parseArgs as nodeParseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionKind = 'string' | 'number' | 'int' | 'flag';
export type OptionValue = string | number | boolean;

export interface OptionSpec {
  kind: OptionKind;
  /** For flags and string options: `--no-<name>` sets false. */
  negatable?: boolean;
  /** One line for `--help`. */
  help?: string;
  /** The value when the option is not given; the parser fills it in unless `defaultLate`. */
  default?: OptionValue;
  /**
   * The command applies `default` itself, after looking elsewhere first (e.g. the run that
   * `--from` continues): the parser leaves the option unset so the command can tell.
   */
  defaultLate?: boolean;
  /** A default the command works out (from the dataset, the model…), as `--help` states it. */
  defaultText?: string;
  /** The value's name in `--help` (`--out DIR`). */
  metavar?: string;
}

export type OptionTable = Record<string, OptionSpec>;

export interface Parsed {
  positional: string[];
  options: Record<string, OptionValue>;
}

/** The option named closest to `name` (edit distance at most 2, or a prefix), for "did you mean". */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = k.startsWith(name) || name.startsWith(k) ? 1 : editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

function unknownOption(command: string, raw: string, spec: OptionTable): UsageError {
  const known = Object.keys(spec);
  const guess = raw.startsWith('--') ? closest(raw.slice(2).split('=')[0]!, known) : undefined;
  const hint = guess ? `did you mean --${guess}? ` : '';
  return new UsageError(`${command}: unknown option '${raw}' (${hint}'tessera ${command} --help' lists the options: ${known.map((k) => `--${k}`).join(', ')})`);
}

function typed(command: string, name: string, s: OptionSpec, value: string): OptionValue {
  if (s.kind === 'string') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n))) {
    throw new UsageError(`${command}: --${name} expects ${s.kind === 'int' ? 'an integer' : 'a number'}, got '${value}'`);
  }
  return n;
}

/** Declared options only, typed values, defaults filled in; a `UsageError` for every mistake. */
export function parseArgs(command: string, argv: string[], spec: OptionTable): Parsed {
  const out: Parsed = { positional: [], options: {} };
  // Non-strict: every token comes back, and the checks below word the errors.
  const { tokens } = nodeParseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, { type: s.kind === 'flag' ? 'boolean' : 'string' } as const])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      out.positional.push(t.value);
      continue;
    }
    let name = t.name;
    let negated = false;
    if (!spec[name] && name.startsWith('no-') && spec[name.slice(3)]?.negatable) {
      name = name.slice(3);
      negated = true;
    }
    const s = spec[name];
    if (!s || !t.rawName.startsWith('--')) throw unknownOption(command, t.rawName, spec);
    if (s.kind === 'flag' || negated) {
      if (t.value !== undefined) throw new UsageError(`${command}: --${negated ? 'no-' : ''}${name} takes no value`);
      out.options[name] = !negated;
      continue;
    }
    // `--out --tta`: the next option is not the value of --out.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new UsageError(`${command}: --${name} needs a value`);
    out.options[name] = typed(command, name, s, t.value);
  }
  for (const [name, s] of Object.entries(spec)) {
    if (s.default !== undefined && !s.defaultLate && !(name in out.options)) out.options[name] = s.default;
  }
  return out;
}

/** Whether `argv` asks for help (`--help` or `-h` before any `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

function describeDefault(s: OptionSpec): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined || s.default === false) return '';
  return String(s.default);
}

/** `--help` text: the usage line, then one line per option with its default and what it does. */
export function formatHelp(usage: string, summary: string, spec: OptionTable, extra: string[] = []): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const value = s.kind === 'flag' ? '' : ` ${s.metavar ?? (s.kind === 'string' ? 'TEXT' : s.kind === 'int' ? 'N' : 'X')}`;
    const flag = `--${name}${value}${s.negatable ? ` | --no-${name}` : ''}`;
    const def = describeDefault(s);
    return [flag, `${s.help ?? ''}${def ? ` (default: ${def})` : ''}`] as const;
  });
  rows.push(['--debug', 'print the stack trace of an error'], ['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([f]) => f.length));
  return [`usage: tessera ${usage}`, '', summary, ...extra, '', 'options:', ...rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`)].join('\n');
}

/** Parses "lo-hi" (e.g. "1-5", "45-50"). */
export function parseRange(command: string, text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${command}: --range expects LO-HI like 1-5, got '${text}'`);
  return [Number(m[1]), Number(m[2])];
}
