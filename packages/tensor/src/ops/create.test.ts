/**
 * Creation ops: tensor() from arrays, constant fills (exact for integers), arange,
 * and the seeded random draws — reproducible, matching their CPU twin, in range.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, zeros, ones, full, zerosLike, onesLike, arange, rand, randn, manualSeed, mean, variance, max, min } from '../index.js';
import * as ref from '../reference/index.js';
import { expectClose } from '../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

describe('from data and constant fills', () => {
  it('tensor() from nested arrays, flat arrays with a shape, typed arrays, and a scalar', async () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(await a.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    const b = tensor([1, 2, 3, 4], [2, 2], 'i32');
    expect(b.dtype).toBe('i32');
    expect(tensor(Uint32Array.from([1, 2])).dtype).toBe('u32');
    const s = tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(await s.item()).toBe(2.5);
  });

  it('zeros/ones/full/…Like in every dtype; integer fills are exact above 2^24', async () => {
    expect(Array.from(await zeros([2, 3]).toArray())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(await ones([3], 'i32').toArray())).toEqual([1, 1, 1]);
    expect(Array.from(await full([2], 16777217, 'i32').toArray())).toEqual([16777217, 16777217]);
    expect(Array.from(await full([2], 4294967295, 'u32').toArray())).toEqual([4294967295, 4294967295]);
    expect(Array.from(await full([2], -7, 'i32').toArray())).toEqual([-7, -7]);
    const t = full([3, 1], 2.5);
    const z = zerosLike(t);
    expect(z.shape).toEqual([3, 1]);
    expect(Array.from(await onesLike(tensor([1, 2], [2], 'u32')).toArray())).toEqual([1, 1]);
  });

  it('arange: one, two and three arguments; negative and fractional steps; integer dtypes', async () => {
    expect(Array.from(await arange(5).toArray())).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(await arange(2, 7, 2).toArray())).toEqual([2, 4, 6]);
    expect(Array.from(await arange(5, 0, -2, 'i32').toArray())).toEqual([5, 3, 1]);
    expect(Array.from(await arange(3, 0, -1, 'u32').toArray())).toEqual([3, 2, 1]);
    await expectClose(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
    expect(Array.from(await arange(16777216, 16777219, 1, 'i32').toArray())).toEqual([16777216, 16777217, 16777218]);
  });
});

describe('random draws', () => {
  it('the same seed gives the same numbers; manualSeed replays the sequence', async () => {
    const a = await rand([1000], 0, 1, { seed: 42 }).toArray();
    const b = await rand([1000], 0, 1, { seed: 42 }).toArray();
    const c = await rand([1000], 0, 1, { seed: 43 }).toArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    manualSeed(7);
    const d1 = await randn([100]).toArray();
    const d2 = await rand([100]).toArray();
    manualSeed(7);
    expect(Array.from(await randn([100]).toArray())).toEqual(Array.from(d1));
    expect(Array.from(await rand([100]).toArray())).toEqual(Array.from(d2));
  });

  it('rand matches its CPU twin and stays in [lo, hi) — even where lo + (hi−lo)·u rounds up to hi', async () => {
    for (const [lo, hi] of [[0, 1], [-3, 5], [1, 2], [-1, 0]] as const) {
      const n = 200_000;
      const t = rand([n], lo, hi, { seed: 5 });
      // The twin repeats the kernel's f32 steps; allow 1 ulp in case the device fuses the multiply-add.
      await expectClose(t, ref.random.rand([n], lo, hi, 5), { rtol: 1.2e-7, atol: 1e-7 });
      expect(await min(t).item()).toBeGreaterThanOrEqual(lo);
      expect(await max(t).item()).toBeLessThan(hi);
    }
  });

  it('randn matches its CPU twin; mean and std are about right', async () => {
    const n = 200_000;
    const t = randn([n], 2, 3, { seed: 9 });
    // Twin in f64 vs the kernel's f32 log/cos/sqrt: a few ulp of values up to ~|2 + 3·5.5|.
    await expectClose(t, ref.random.randn([n], 2, 3, 9), { rtol: 1e-5, atol: 2e-5 });
    // Sample mean ± 3σ/√n = ±0.02; sample std within ~1%.
    expect(Math.abs((await mean(t).item()) - 2)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(await variance(t).item()) - 3)).toBeLessThan(0.03);
  });
});
