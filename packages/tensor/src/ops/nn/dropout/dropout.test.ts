import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, manualSeed, rand, tensor } from '../../../index.js';
import { dropout } from '../index.js';
import { dropoutMaskRef, dropoutRef } from '../../../reference/nn/index.js';
import { assertClose, dot, normal, numericGrad } from '../../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

describe('dropout', () => {
  it('matches the CPU twin bit for bit (mask and 1/(1−p) scaling), forward and backward', async () => {
    const shape = [4, 5, 7, 9];
    const n = 4 * 5 * 7 * 9;
    const x = normal(n, 1);
    const g = normal(n, 2);
    const xt = tensor(x, shape).requireGrad();
    const y = dropout(xt, 0.3, true, 1234);
    y.backward({ grad: tensor(g, shape) });
    const scale = Math.fround(1 / 0.7);
    const keep = dropoutMaskRef(n, 0.3, 1234);
    const ey = Float32Array.from(x, (v, i) => (keep[i] ? Math.fround(v * scale) : 0));
    const edx = Float32Array.from(g, (v, i) => (keep[i] ? Math.fround(v * scale) : 0));
    expect(Array.from(await y.toArray())).toEqual(Array.from(ey));
    expect(Array.from(await xt.grad!.toArray())).toEqual(Array.from(edx));
    // The twin's float64 version agrees to f32 rounding.
    assertClose(await y.toArray(), dropoutRef(x, 0.3, 1234), { atol: 1e-6, rtol: 1e-6 }, 'y vs dropoutRef');
  });

  it('draws the same mask as rand(shape, 0, 1, { seed }) >= p', async () => {
    const u = await rand([1000], 0, 1, { seed: 77 }).toArray();
    const y = await dropout(tensor(new Float32Array(1000).fill(1)), 0.5, true, 77).toArray();
    expect(Array.from(y, (v) => v !== 0)).toEqual(Array.from(u, (v) => v >= 0.5));
  });

  it('is reproducible per seed, differs across seeds, and follows manualSeed without one', async () => {
    const x = tensor(new Float32Array(512).fill(1));
    const a = Array.from(await dropout(x, 0.5, true, 9).toArray());
    const b = Array.from(await dropout(x, 0.5, true, 9).toArray());
    const c = Array.from(await dropout(x, 0.5, true, 10).toArray());
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    manualSeed(42);
    const d = Array.from(await dropout(x, 0.5).toArray());
    const e = Array.from(await dropout(x, 0.5).toArray());
    manualSeed(42);
    const f = Array.from(await dropout(x, 0.5).toArray());
    expect(d).toEqual(f);
    expect(d).not.toEqual(e);
  });

  it('keeps about 1 − p of the elements and preserves the mean', async () => {
    const n = 200_000;
    for (const p of [0.1, 0.5, 0.8]) {
      const y = Array.from(await dropout(tensor(new Float32Array(n).fill(1)), p, true, 5).toArray());
      const kept = y.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0);
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * (1 - p))).toBeLessThan(5 * sd);
      const mean = y.reduce((s, v) => s + v, 0) / n;
      expect(Math.abs(mean - 1)).toBeLessThan((5 * sd) / n / (1 - p));
    }
  });

  it('is the identity in eval and for p = 0 (gradient passes through); p = 1 gives zeros', async () => {
    const x = normal(24, 3);
    for (const [p, training] of [[0.5, false], [0, true]] as const) {
      const xt = tensor(x, [2, 3, 4]).requireGrad();
      const y = dropout(xt, p, training);
      expect(Array.from(await y.toArray())).toEqual(Array.from(x));
      y.backward({ grad: tensor(new Float32Array(24).fill(2), [2, 3, 4]) });
      expect(Array.from(await xt.grad!.toArray())).toEqual(new Array(24).fill(2));
    }
    const xt = tensor(x, [24]).requireGrad();
    const y = dropout(xt, 1, true, 3);
    y.backward({ grad: tensor(new Float32Array(24).fill(1)) });
    expect(Array.from(await y.toArray())).toEqual(new Array(24).fill(0));
    expect(Array.from(await xt.grad!.toArray())).toEqual(new Array(24).fill(0));
  });

  it('masks a strided view by logical index', async () => {
    const x = normal(6 * 8, 4);
    const t = tensor(x, [6, 8]).transpose();
    const y = await dropout(t, 0.4, true, 31).toArray();
    const dense = await dropout(t.contiguous(), 0.4, true, 31).toArray();
    expect(Array.from(y)).toEqual(Array.from(dense));
  });

  it('gradient matches finite differences of the float64 twin', async () => {
    const x = normal(40, 6);
    const g = normal(40, 7);
    const xt = tensor(x, [5, 8]).requireGrad();
    dropout(xt, 0.25, true, 99).backward({ grad: tensor(g, [5, 8]) });
    const num = numericGrad((xv) => dot(dropoutRef(xv, 0.25, 99), g), x);
    assertClose(await xt.grad!.toArray(), num, { atol: 1e-5, rtol: 0 }, 'dx');
  });

  it('rejects bad p, seeds and dtypes, naming the op', () => {
    const x = tensor([1, 2, 3]);
    expect(() => dropout(x, 1.5)).toThrow(/dropout: p must be in \[0, 1\], got 1.5/);
    expect(() => dropout(x, -0.1)).toThrow(/dropout: p must be in \[0, 1\]/);
    expect(() => dropout(x, 0.5, true, -3)).toThrow(/dropout: seed must be an integer/);
    expect(() => dropout(tensor([1, 2], [2], 'i32'), 0.5)).toThrow(/dropout: the input must be f32, got i32/);
  });
});
