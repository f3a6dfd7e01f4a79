import { describe, expect, it } from 'vitest';
import { UsageError, parseArgs, parseRange } from './args.js';

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

  it('parses count ranges', () => {
    expect(parseRange('data', '45-50')).toEqual([45, 50]);
    expect(() => parseRange('data', '5')).toThrow(/LO-HI/);
  });
});
