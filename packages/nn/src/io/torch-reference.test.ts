// Compares readTorch against real PyTorch: Debian's torch (scripts/install-test-deps.sh)
// writes fixtures at test time and lists the values it saved. Skips, saying why, when
// Python cannot import torch (the one bridge, @tessera/tensor/testing/node).

import { fileURLToPath } from 'node:url';
import { runPython, scratchDir, torchOrSkip } from '@tessera/tensor/testing/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTorch } from '../node/weight-files.js';
import { toNumbers } from './types.js';

const torch = torchOrSkip('torch-reference');

type Expected = Record<string, Record<string, { shape: number[]; dtype: string; values: number[] }>>;

describe.skipIf(!torch.ok)('torch.save reader against PyTorch', () => {
  const scratch = scratchDir('torch-reference');
  let expected: Expected = {};

  beforeAll(async () => {
    const script = fileURLToPath(new URL('./testing/torch_fixtures.py', import.meta.url));
    const version = await runPython(script, { args: [scratch.dir] });
    console.info(`[torch-reference] fixtures written by torch ${version.trim()}`);
    expected = scratch.json<Expected>('expected.json');
  });
  afterAll(() => scratch.remove());

  for (const file of ['model.pth', 'half.pth', 'views.pth', 'checkpoint.pth']) {
    it(`reads ${file} exactly as torch saved it`, async () => {
      const sd = await readTorch(scratch.path(file));
      const want = expected[file]!;
      expect([...sd.keys()]).toEqual(Object.keys(want));
      for (const [name, w] of Object.entries(want)) {
        const got = sd.get(name)!;
        expect({ name, shape: got.shape, dtype: got.dtype }).toEqual({ name, shape: w.shape, dtype: w.dtype });
        expect(toNumbers(got), name).toEqual(w.values);
      }
    });
  }

  it('decodes int64 exactly and gives float16 as float32', async () => {
    const views = await readTorch(scratch.path('views.pth'));
    expect(views.get('i64')!.data).toEqual(BigInt64Array.from([2n ** 40n, -1n]));
    const half = await readTorch(scratch.path('half.pth'));
    expect(half.get('conv.weight')!.data).toBeInstanceOf(Float32Array);
    expect(half.get('bn.num_batches_tracked')!.dtype).toBe('i64');
  });

  it('explains the legacy (pre-zip) format', async () => {
    await expect(readTorch(scratch.path('legacy.pth'))).rejects.toThrow(
      /legacy\.pth: unsupported legacy format: re-save with torch\.save\(\.\.\., _use_new_zipfile_serialization=True\)/,
    );
  });
});
