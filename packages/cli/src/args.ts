/**
 * A small strict argument parser: declared options only, typed values, one clear
 * line for every mistake (unknown option, missing value, bad number).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionKind = 'string' | 'number' | 'int' | 'flag';

export interface OptionSpec {
  kind: OptionKind;
  /** For flags: `--no-<name>` sets false. */
  negatable?: boolean;
  help?: string;
}

export interface Parsed {
  positional: string[];
  options: Record<string, string | number | boolean>;
}

export function parseArgs(command: string, argv: string[], spec: Record<string, OptionSpec>): Parsed {
  const out: Parsed = { positional: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    let name = a.slice(2, eq > 0 ? eq : undefined);
    let value: string | undefined = eq > 0 ? a.slice(eq + 1) : undefined;
    let negated = false;
    if (!spec[name] && name.startsWith('no-') && spec[name.slice(3)]?.negatable) {
      name = name.slice(3);
      negated = true;
    }
    const s = spec[name];
    if (!s) {
      const known = Object.keys(spec).map((k) => `--${k}`).join(', ');
      throw new UsageError(`${command}: unknown option '${a}' (options: ${known})`);
    }
    if (s.kind === 'flag' || negated) {
      if (value !== undefined) throw new UsageError(`${command}: --${negated ? 'no-' : ''}${name} takes no value`);
      out.options[name] = !negated;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${command}: --${name} needs a value`);
    }
    if (s.kind === 'string') out.options[name] = value;
    else {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n))) {
        throw new UsageError(`${command}: --${name} expects ${s.kind === 'int' ? 'an integer' : 'a number'}, got '${value}'`);
      }
      out.options[name] = n;
    }
  }
  return out;
}

/** Parses "lo-hi" (e.g. "1-5", "45-50"). */
export function parseRange(command: string, text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${command}: --range expects LO-HI like 1-5, got '${text}'`);
  return [Number(m[1]), Number(m[2])];
}
