// Compares readTorch against real PyTorch: Debian's torch (scripts/install-test-deps.sh)
// writes fixtures at test time and lists the values it saved. Skips, saying why, when
// /usr/bin/python3 cannot import torch.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTorch } from '../node/weight-files.js';
import { toNumbers } from './types.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const torchMissing = probe.status === 0 ? undefined
  : `${PYTHON} cannot import torch (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}); run scripts/install-test-deps.sh`;
if (torchMissing) console.warn(`[torch-reference] skipped: ${torchMissing}`);

type Expected = Record<string, Record<string, { shape: number[]; dtype: string; values: number[] }>>;

describe.skipIf(torchMissing !== undefined)('torch.save reader against PyTorch', () => {
  let dir = '';
  let expected: Expected = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-torch-'));
    const script = fileURLToPath(new URL('./testing/torch_fixtures.py', import.meta.url));
    const version = execFileSync(PYTHON, [script, dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    console.info(`[torch-reference] fixtures written by torch ${version.trim()}`);
    expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  for (const file of ['model.pth', 'half.pth', 'views.pth', 'checkpoint.pth']) {
    it(`reads ${file} exactly as torch saved it`, async () => {
      const sd = await readTorch(join(dir, file));
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
    const views = await readTorch(join(dir, 'views.pth'));
    expect(views.get('i64')!.data).toEqual(BigInt64Array.from([2n ** 40n, -1n]));
    const half = await readTorch(join(dir, 'half.pth'));
    expect(half.get('conv.weight')!.data).toBeInstanceOf(Float32Array);
    expect(half.get('bn.num_batches_tracked')!.dtype).toBe('i64');
  });

  it('explains the legacy (pre-zip) format', async () => {
    await expect(readTorch(join(dir, 'legacy.pth'))).rejects.toThrow(
      /legacy\.pth: unsupported legacy format: re-save with torch\.save\(\.\.\., _use_new_zipfile_serialization=True\)/,
    );
  });
});
