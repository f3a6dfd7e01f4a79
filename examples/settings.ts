/**
 * The examples' settings: each example states its defaults (the real lesson's), and
 * `--name value` on the command line overrides them, so CI can run the same file on tiny inputs.
 */
import { parseArgs } from 'node:util';

export function settings<T extends Record<string, string | number>>(defaults: T): T {
  const options = Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({ args: process.argv.slice(2), options, strict: true });
  const out: Record<string, string | number> = { ...defaults };
  for (const [k, v] of Object.entries(values)) {
    if (typeof v !== 'string') continue;
    if (typeof defaults[k] === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`--${k} expects a number, got '${v}'`);
      out[k] = n;
    } else out[k] = v;
  }
  return out as T;
}
