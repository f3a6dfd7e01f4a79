/** `tessera data counting [--range 1-5] [--per-class N] [--size PX] [--seed S] [--out DIR]` */
import { resolve } from 'node:path';
import { writeCountingDataset } from '@tessera/vision/node';
import { UsageError, parseArgs, parseRange, type OptionTable } from '../args.js';
import type { Command } from './index.js';

export const DATA_OPTIONS = {
  range: { kind: 'string', default: '1-5', metavar: 'LO-HI', help: 'the counts, one class each' },
  'per-class': { kind: 'int', default: 1000, help: 'images per class' },
  size: { kind: 'int', default: 64, metavar: 'PX', help: 'image side in pixels' },
  seed: { kind: 'int', default: 0, help: 'seed of the drawing' },
  out: { kind: 'string', metavar: 'DIR', help: 'the folder to write', defaultText: '$TESSERA_DATA/counting (./data without it; counting-LO-HI for another range)' },
} as const satisfies OptionTable;

/** Counting images are small by design (the lesson draws them at 64 px); 4096 px is already 48 MiB each. */
const MAX_COUNTING_SIZE = 4096;

export const dataCommand: Command = {
  summary: 'generate a dataset: counting circles (data counting --range 1-5 --per-class 1000)',
  async run(argv) {
    const { positional, options } = parseArgs('data', argv, DATA_OPTIONS);
    const [kind] = positional;
    if (kind !== 'counting') throw new UsageError(`data: unknown dataset '${kind ?? ''}' (available: counting)`);
    const range = parseRange('data', String(options.range ?? '1-5'));
    const size = (options.size as number | undefined) ?? 64;
    const perClass = (options['per-class'] as number | undefined) ?? 1000;
    // Checked before anything is drawn: a huge --size would fail deep inside with a bare engine message.
    if (!(size >= 4 && size <= MAX_COUNTING_SIZE)) throw new UsageError(`data: --size must be from 4 to ${MAX_COUNTING_SIZE} pixels, got ${size}`);
    if (!(perClass >= 1)) throw new UsageError(`data: --per-class must be at least 1, got ${perClass}`);
    const dataDir = process.env.TESSERA_DATA ?? './data';
    const name = range[0] === 1 && range[1] === 5 ? 'counting' : `counting-${range[0]}-${range[1]}`;
    const out = resolve(String(options.out ?? `${dataDir}/${name}`));
    const t0 = Date.now();
    const res = await writeCountingDataset({
      range,
      perClass,
      size,
      seed: (options.seed as number | undefined) ?? 0,
      out,
    });
    console.log(`wrote ${res.files} images in ${res.classes.length} classes (${res.classes.join(', ')}) to ${res.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  },
};
