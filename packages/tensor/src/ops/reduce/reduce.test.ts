/**
 * Reductions against the CPU twin (f64 accumulation): every kernel variant (thread,
 * group, chunked two-pass), any axes with keepdim, strided inputs, integer dtypes,
 * infinities, and gradients by finite differences.
 *
 * Tolerances (fp32): a sum of n terms in f32 carries a rounding error of at most
 * ~n·ε·Σ|x| in the worst case and ~√n·ε·Σ|x| typically (ε = 6e-8). For the sizes
 * here (n ≤ 3·10⁴, |x| ≤ 1) atol = 1e-5·max(1, Σ|x|/√n)… is simplest stated as
 * rtol 1e-5 + atol 1e-4 on sums of up to a few thousand unit-sized terms, and
 * relative 1e-5 on means. max/min/argmax are exact (no arithmetic).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, transpose, slice, reshape, sum, mean, max, min, argmax, argmin, variance, full, arange } from '../../index.js';
import * as ref from '../../reference/index.js';
import { cpuTensor } from '../../reference/cpu-tensor.js';
import { setMaxWorkgroupsPerDimensionForTesting } from '../../kernels/grid.js';
import { distinct, expectClose, gradCheck, uniform } from '../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});
afterEach(() => setMaxWorkgroupsPerDimensionForTesting(undefined));

const SUM_TOL = { rtol: 1e-5, atol: 1e-4 };
const EXACT = { rtol: 0, atol: 0 };
const SHAPE = [7, 13, 5];
type Axes = number | number[] | undefined;
const AXES: Axes[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2], [0, 1, 2]];

describe('reductions over any axes, keepdim or not', () => {
  const data = distinct(SHAPE, 3); // distinct values: max/argmax have unique answers
  const x = () => tensor(data, SHAPE);
  const r = cpuTensor(data, SHAPE, 'f64');
  for (const axes of AXES) {
    for (const keepdim of [false, true]) {
      it(`axes ${JSON.stringify(axes)}, keepdim ${keepdim}`, async () => {
        const t = x();
        await expectClose(sum(t, axes, keepdim), ref.sum(r, axes, keepdim), SUM_TOL, 'sum');
        await expectClose(mean(t, axes, keepdim), ref.mean(r, axes, keepdim), { rtol: 1e-5, atol: 1e-6 }, 'mean');
        await expectClose(max(t, axes, keepdim), ref.max(r, axes, keepdim), EXACT, 'max');
        await expectClose(min(t, axes, keepdim), ref.min(r, axes, keepdim), EXACT, 'min');
        await expectClose(variance(t, axes, keepdim), ref.variance(r, axes, keepdim), { rtol: 1e-4, atol: 1e-6 }, 'var');
        if (typeof axes === 'number' || axes === undefined) {
          await expectClose(argmax(t, axes, keepdim), ref.argmax(cpuTensor(data, SHAPE), axes, keepdim), EXACT, 'argmax');
          await expectClose(argmin(t, axes, keepdim), ref.argmin(cpuTensor(data, SHAPE), axes, keepdim), EXACT, 'argmin');
        }
      });
    }
  }

  it('strided inputs: transposed and sliced with a step', async () => {
    const t = slice(transpose(x(), 0, 2), 1, 1, 13, 3); // [5, 4, 7], non-contiguous with an offset
    const rt = ref.slice(ref.transpose(r, 0, 2), 1, 1, 13, 3);
    for (const axes of [undefined, 0, 1, [0, 2]] as Axes[]) {
      await expectClose(sum(t, axes), ref.sum(rt, axes), SUM_TOL, `sum ${JSON.stringify(axes)}`);
      await expectClose(max(t, axes, true), ref.max(rt, axes, true), EXACT, `max ${JSON.stringify(axes)}`);
    }
    await expectClose(argmax(t, 1), ref.argmax(ref.cast(rt, 'f32'), 1), EXACT, 'argmax');
    await expectClose(argmax(t), ref.argmax(ref.cast(rt, 'f32')), EXACT, 'argmax (flat)');
  });

  it('variance with other corrections', async () => {
    await expectClose(variance(x(), 1, false, 0), ref.variance(r, 1, false, 0), { rtol: 1e-4, atol: 1e-6 });
    await expectClose(x().var([0, 1], true, 2), ref.variance(r, [0, 1], true, 2), { rtol: 1e-4, atol: 1e-6 });
  });
});

describe('kernel variants', () => {
  // [shape, axes]: thread (many short rows), group (long rows), group (few medium rows), chunked (very long rows).
  const variants: [string, number[], number][] = [
    ['thread', [3001, 7], 1],
    ['group, long rows', [3, 1037], 1],
    ['group, few medium rows', [11, 100], 1],
    ['chunked two-pass, 2 rows', [2, 20011], 1],
    ['chunked two-pass, over axis 0 (strided rows)', [20011, 3], 0],
  ];
  for (const [label, shape, axis] of variants) {
    it(label, async () => {
      const data = uniform(shape, 9);
      const t = tensor(data, shape);
      const r = cpuTensor(data, shape, 'f64');
      await expectClose(sum(t, axis), ref.sum(r, axis), SUM_TOL, 'sum');
      await expectClose(mean(t, axis), ref.mean(r, axis), { rtol: 1e-5, atol: 1e-6 }, 'mean');
      await expectClose(max(t, axis), ref.max(r, axis), EXACT, 'max');
      await expectClose(min(t, axis), ref.min(r, axis), EXACT, 'min');
      await expectClose(argmax(t, axis), ref.argmax(cpuTensor(data, shape), axis), EXACT, 'argmax');
      await expectClose(argmin(t, axis), ref.argmin(cpuTensor(data, shape), axis), EXACT, 'argmin');
    });
  }

  it('argmax picks the first of tied maxima in every variant, including across chunks', async () => {
    for (const n of [7, 700, 30000]) {
      const data = new Float32Array(n);
      data[n - 1] = 5;
      data[Math.floor(n / 3)] = 5;
      data[Math.floor((2 * n) / 3)] = 5;
      expect(await argmax(tensor(data, [n])).item()).toBe(Math.floor(n / 3));
      expect(await argmin(tensor(data.map((v) => -v), [n])).item()).toBe(Math.floor(n / 3));
    }
  });

  it('max of −∞ is −∞ (not the most negative finite float), min of +∞ is +∞', async () => {
    for (const n of [5, 900, 20000]) {
      expect(await max(full([n], -Infinity)).item()).toBe(-Infinity);
      expect(await min(full([n], Infinity)).item()).toBe(Infinity);
      expect(await argmax(full([n], -Infinity)).item()).toBe(0);
    }
  });

  it('integer reductions: exact, wrapping sums; extremes of i32/u32', async () => {
    const v = Int32Array.from([5, -7, 2147483647, 1, -2147483648, 3]);
    const t = tensor(v, [2, 3]);
    const r = cpuTensor(v, [2, 3]);
    for (const axes of [undefined, 0, 1] as Axes[]) {
      await expectClose(sum(t, axes), ref.sum(r, axes), EXACT, 'sum');
      await expectClose(max(t, axes), ref.max(r, axes), EXACT, 'max');
      await expectClose(min(t, axes), ref.min(r, axes), EXACT, 'min');
    }
    const u = tensor(Uint32Array.from([0, 4294967295, 7]), [3]);
    expect(await max(u).item()).toBe(4294967295);
    expect(await min(u).item()).toBe(0);
    expect(await argmax(u).item()).toBe(1);
    expect(sum(u).dtype).toBe('u32');
  });
});

describe('the 2-D workgroup grid (more workgroups than one dimension holds)', () => {
  it('reduce group and thread variants with the per-dimension limit lowered to 16', async () => {
    setMaxWorkgroupsPerDimensionForTesting(16);
    const g = uniform([100, 600], 1); // group: 100 workgroups → 15 × 7 (5 idle)
    const th = uniform([5000, 3], 2); // thread: 20 workgroups of 256 → 10 × 2
    const ch = uniform([20011], 3); // chunked: 3 chunks then a second pass
    for (const [data, shape] of [[g, [100, 600]], [th, [5000, 3]], [ch, [20011]]] as const) {
      const t = tensor(data, shape);
      const r = cpuTensor(data, shape, 'f64');
      await expectClose(sum(t, -1), ref.sum(r, -1), SUM_TOL, `sum ${shape}`);
      await expectClose(argmax(t, -1), ref.argmax(cpuTensor(data, shape), -1), EXACT, `argmax ${shape}`);
    }
    // Elementwise, dense and strided, on a 2-D grid too.
    const e = uniform([300, 17], 4);
    const te = tensor(e, [300, 17]);
    await expectClose(te.mul(2).add(te), ref.add(ref.mul(cpuTensor(e, [300, 17], 'f64'), 2), cpuTensor(e, [300, 17], 'f64')), { rtol: 1e-6, atol: 1e-7 });
    await expectClose(transpose(te).exp(), ref.exp(ref.transpose(cpuTensor(e, [300, 17], 'f64'))), { rtol: 1e-5, atol: 1e-6 });
  });

  it('a real launch beyond 65535 × 256 threads: elementwise (dense, strided) and a full reduction', async () => {
    const n = 65535 * 256 + 4100; // 16,781,060 elements, 67 MB
    const a = arange(n, undefined, 1, 'i32');
    const b = a.mul(3).sub(a); // dense path: 2·i
    const tail = await slice(b, 0, n - 5).toArray();
    expect(Array.from(tail)).toEqual([0, 1, 2, 3, 4].map((k) => 2 * (n - 5 + k)));
    const head = await slice(b, 0, 0, 3).toArray();
    expect(Array.from(head)).toEqual([0, 2, 4]);
    // Strided path: a transposed view read over more than 65535 × 256 elements.
    const tt = transpose(reshape(a, [n / 2, 2])).add(0); // tt[r][j] = 2j + r
    expect(Array.from(await slice(slice(tt, 0, 1), 1, -2).toArray())).toEqual([n - 3, n - 1]);
    expect(Array.from(await slice(slice(tt, 0, 0, 1), 1, 0, 2).toArray())).toEqual([0, 2]);
    // A full sum of ones: exact in f32 with the chunked reduction (each partial ≤ 2^24).
    expect(await sum(full([n], 1)).item()).toBe(n);
    expect(await argmax(b).item()).toBe(n - 1);
    for (const t of [a, b, tt]) t.dispose();
  });
});

describe('reduction gradients', () => {
  const shape = [4, 6, 5];
  for (const axes of [undefined, 1, [0, 2], -1] as Axes[]) {
    for (const keepdim of [false, true]) {
      it(`sum/mean/var/max/min, axes ${JSON.stringify(axes)}, keepdim ${keepdim}`, async () => {
        const inputs = [{ data: distinct(shape, 5), shape }];
        await gradCheck((o, x) => o.sum(o.mul(x, x), axes, keepdim), inputs);
        await gradCheck((o, x) => o.mean(x, axes, keepdim), inputs);
        await gradCheck((o, x) => o.variance(x, axes, keepdim), inputs);
        // distinct(): unique extrema with a margin ≫ the FD step.
        await gradCheck((o, x) => o.max(x, axes, keepdim), inputs);
        await gradCheck((o, x) => o.min(o.exp(x), axes, keepdim), inputs);
      });
    }
  }

  it('max gradient splits evenly over ties', async () => {
    const x = tensor([1, 3, 3, 2]).requireGrad();
    max(x).backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0.5, 0.5, 0]);
  });

  it('gradients through a strided input (transposed and sliced)', async () => {
    await gradCheck((o, x) => o.sum(o.slice(o.transpose(x, 0, 1), 0, 1, 6, 2), 1), [{ data: uniform([5, 7], 3), shape: [5, 7] }]);
  });
});
