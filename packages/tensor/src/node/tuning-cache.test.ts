/** The GEMM tuning table on disk: saved per adapter key, loaded back, other adapters kept. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterKey, gemmTuning, initDevice, setGemmTuning } from '../index.js';
import { loadGemmTuningCache, saveGemmTuningCache } from './tuning-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-tune-'));
const file = join(dir, 'sub', 'gemm-tuning.json');

beforeAll(async () => {
  await initDevice();
});
afterAll(() => {
  setGemmTuning({});
  rmSync(dir, { recursive: true, force: true });
});

describe('GEMM tuning cache', () => {
  it('saves under this adapter and driver, keeps other adapters, loads back', async () => {
    setGemmTuning({ 'conv2d_fwd_k3x3_s1|100x64x576|1': { variant: 'portable', ms: { portable: 1.5 } } });
    await saveGemmTuningCache(file);
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as { adapters: Record<string, Record<string, { variant: string }>> };
    onDisk.adapters['other|gpu|driver 2'] = { 'x|1x1x1|1': { variant: 'subgroup' } };
    writeFileSync(file, JSON.stringify(onDisk));
    setGemmTuning({});
    expect(await loadGemmTuningCache(file)).toBe(1);
    expect(gemmTuning()['conv2d_fwd_k3x3_s1|100x64x576|1']!.variant).toBe('portable');
    await saveGemmTuningCache(file);
    const again = JSON.parse(readFileSync(file, 'utf8')) as typeof onDisk;
    expect(Object.keys(again.adapters).sort()).toEqual([adapterKey(), 'other|gpu|driver 2'].sort());
  });

  it('a missing or corrupt file is an empty cache, not an error', async () => {
    expect(await loadGemmTuningCache(join(dir, 'none.json'))).toBe(0);
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(await loadGemmTuningCache(join(dir, 'bad.json'))).toBe(0);
  });
});
