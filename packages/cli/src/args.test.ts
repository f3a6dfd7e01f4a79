import { describe, expect, it } from 'vitest';
import { UsageError, formatHelp, parseArgs, parseRange, wantsHelp, type OptionTable } from './args.js';
import { commandHelp, commands } from './commands/index.js';

const spec = {
  epochs: { kind: 'int' },
  lr: { kind: 'number' },
  out: { kind: 'string' },
  tta: { kind: 'flag' },
  pretrained: { kind: 'string', negatable: true },
} as const;

describe('parseArgs', () => {
  it('reads typed options, = forms and positionals', () => {
    const r = parseArgs('train', ['data', '--epochs', '3', '--lr=1e-3', '--tta', '--out', 'runs/x'], spec);
    expect(r.positional).toEqual(['data']);
    expect(r.options).toEqual({ epochs: 3, lr: 1e-3, tta: true, out: 'runs/x' });
  });

  it('negates a string option with --no-', () => {
    expect(parseArgs('train', ['d', '--no-pretrained', '--epochs', '2'], spec).options).toEqual({ pretrained: false, epochs: 2 });
    expect(parseArgs('train', ['d', '--pretrained', 'w.safetensors'], spec).options).toEqual({ pretrained: 'w.safetensors' });
  });

  it('rejects mistakes with one clear message', () => {
    expect(() => parseArgs('train', ['--epoch', '2'], spec)).toThrow(/unknown option '--epoch'/);
    expect(() => parseArgs('train', ['--epochs', '2.5'], spec)).toThrow(/--epochs expects an integer, got '2.5'/);
    expect(() => parseArgs('train', ['--lr', 'fast'], spec)).toThrow(/--lr expects a number/);
    expect(() => parseArgs('train', ['--out'], spec)).toThrow(/--out needs a value/);
    expect(() => parseArgs('train', ['--tta=yes'], spec)).toThrow(/--tta takes no value/);
    expect(() => parseArgs('train', ['--no-pretrained=x'], spec)).toThrow(UsageError);
  });

  it('says which option was meant, and refuses short options it does not know', () => {
    expect(() => parseArgs('train', ['--epoch', '2'], spec)).toThrow(/did you mean --epochs\?/);
    expect(() => parseArgs('train', ['--pretrain', 'w'], spec)).toThrow(/did you mean --pretrained\?/);
    expect(() => parseArgs('train', ['--zzzzzz'], spec)).not.toThrow(/did you mean/);
    expect(() => parseArgs('train', ['-x'], spec)).toThrow(/unknown option '-x'/);
  });

  it('takes negative numbers and values after --', () => {
    expect(parseArgs('t', ['--lr', '-1'], spec).options).toEqual({ lr: -1 });
    expect(parseArgs('t', ['--out=--x'], spec).options).toEqual({ out: '--x' });
    expect(parseArgs('t', ['a', '--', '--tta'], spec).positional).toEqual(['a', '--tta']);
  });

  it('fills declared defaults in, except those the command applies itself', () => {
    const table: OptionTable = { bs: { kind: 'int', default: 32 }, seed: { kind: 'int', default: 42, defaultLate: true } };
    expect(parseArgs('t', [], table).options).toEqual({ bs: 32 });
    expect(parseArgs('t', ['--bs', '8', '--seed', '1'], table).options).toEqual({ bs: 8, seed: 1 });
  });

  it('finds --help before --, not after', () => {
    expect(wantsHelp(['x', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
  });

  it('parses count ranges', () => {
    expect(parseRange('data', '45-50')).toEqual([45, 50]);
    expect(() => parseRange('data', '5')).toThrow(/LO-HI/);
  });
});

describe('--help', () => {
  const names = Object.keys(commands) as (keyof typeof commands)[];
  it.each(names)('%s lists every option with the default the parser uses', (name) => {
    const h = commandHelp[name];
    const text = formatHelp(h.usage, commands[name].summary, h.options, h.notes);
    const lines = text.split('\n');
    const parsed = parseArgs(name, [], h.options).options;
    for (const [opt, s] of Object.entries(h.options)) {
      const line = lines.find((l) => l.trimStart().startsWith(`--${opt} `) || l.trim() === `--${opt}`);
      expect(line, `--${opt} in ${name} --help`).toBeDefined();
      expect(s.help, `--${opt} has a description`).toBeTruthy();
      if (s.default !== undefined) {
        expect(line).toContain(`(default: ${String(s.default)})`);
        if (!s.defaultLate) expect(parsed[opt]).toBe(s.default);
      }
    }
    // Flags and options without a default say nothing, or say what the command works out.
    expect(text).not.toMatch(/default: undefined/);
  });
});
