/** Warm-up plans: written atomically per key and adapter, read back; missing, corrupt or foreign files are no plan. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '../index.js';
import { readWarmupPlan, warmupPlanPath, writeWarmupPlan } from './warmup-plan.js';
import { shareOut } from './compile-ahead.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-warmup-'));
beforeAll(async () => {
  await initDevice();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kernels = [
  { name: 'a', code: '// a\n', hasUniforms: true },
  { name: 'b', code: '// bb\n', hasUniforms: false },
];

describe('warm-up plan file', () => {
  it('is one file per key under warmup/, written without leaving temporaries, and read back', async () => {
    const key = 'train darknet-tiny 64px bs32 5 classes';
    const path = warmupPlanPath(key, dir);
    expect(path).not.toBe(warmupPlanPath('train darknet-tiny 128px bs32 5 classes', dir));
    expect(await readWarmupPlan(key, path)).toEqual({ kernels: null, reason: 'none recorded yet' });
    await writeWarmupPlan(key, kernels, path);
    expect(readdirSync(dirname(path))).toEqual([path.split('/').pop()]);
    expect(await readWarmupPlan(key, path)).toEqual({ kernels });
  });

  it('a corrupt file, or one for another key, is no plan with a reason', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"version":1,"kernels":[{"name":1}]');
    const r = await readWarmupPlan('k', path);
    expect(r.kernels).toBeNull();
    expect((r as { reason: string }).reason).toContain('unreadable');
    writeFileSync(path, JSON.stringify({ version: 1, key: 'k', adapter: 'x', kernels: [{ name: 'a' }] }));
    expect((await readWarmupPlan('k', path)).kernels).toBeNull();
    await writeWarmupPlan('other', kernels, path);
    expect((await readWarmupPlan('k', path)) as { reason: string }).toEqual({ kernels: null, reason: `${path} is for another adapter or run` });
  });

  it('shares the plan out among threads by source length, each kernel once', () => {
    const plan = ['x'.repeat(50), 'x'.repeat(40), 'x'.repeat(30), 'x'.repeat(20), 'x'.repeat(10)].map((code, i) => ({ name: `k${i}`, code, hasUniforms: true }));
    const shares = shareOut(plan, 2);
    expect(shares.map((s) => s.reduce((n, k) => n + k.code.length, 0)).sort()).toEqual([70, 80]);
    expect(shares.flat().map((k) => k.name).sort()).toEqual(plan.map((k) => k.name));
    expect(shareOut(plan.slice(0, 1), 4)).toHaveLength(1);
  });
});
