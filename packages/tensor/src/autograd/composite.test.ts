/**
 * Finite-difference gradient checks of composite expressions: many ops, shared
 * subexpressions (diamonds), broadcasting with rank mismatch and size-1 dims,
 * strided views, batch 1 — the situations where a wrong backward hides.
 *
 * Tolerance (the gradCheck default, fp32 autograd vs f64 central differences):
 * rtol 1e-3 with atol 1e-4·max(1, max|grad|). The FD side is exact to ~1e-8; the
 * fp32 chain adds ~1e-6 relative per op and sums of mixed-sign terms can cancel,
 * so 1e-3 is a comfortable margin — and any real backward bug is an O(1) error.
 */
import { beforeAll, describe, it } from 'vitest';
import { initDevice } from '../index.js';
import { gradCheck, ints, uniform } from '../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

const inp = (shape: number[], seed: number, lo = -1, hi = 1) => ({ data: uniform(shape, seed, { lo, hi }), shape });

describe('composite expressions', () => {
  it('sum(log(sigmoid(a*b + c)) * d) with broadcasting (rank mismatch, size-1 dims)', async () => {
    await gradCheck((o, a, b, c, d) => o.sum(o.mul(o.log(o.sigmoid(o.add(o.mul(a, b), c))), d)), [
      inp([7, 1, 5], 1),
      inp([13, 5], 2),
      inp([5], 3),
      inp([7, 13, 1], 4),
    ]);
  });

  it('softmax chain: softmax(x·w + b) weighted by targets, on a transposed input, batch 1 too', async () => {
    for (const batch of [1, 6]) {
      await gradCheck((o, x, w, b, t) => o.sum(o.mul(o.softmax(o.add(o.mul(o.transpose(x), w), b), 1), t)), [
        inp([9, batch], 5, -2, 2),
        inp([9], 6),
        inp([1, 9], 7),
        inp([batch, 9], 8),
      ]);
    }
  });

  it('layer-norm style: (x − mean) · rsqrt(var + eps) · γ + β', async () => {
    await gradCheck(
      (o, x, g, b) => {
        const m = o.mean(x, -1, true);
        const v = o.variance(x, -1, true, 0);
        return o.add(o.mul(o.mul(o.sub(x, m), o.rsqrt(o.add(v, 1e-5))), g), b);
      },
      [inp([4, 11], 9, -2, 2), inp([11], 10), inp([11], 11)],
    );
  });

  it('variance of a nonlinear function over several axes, and the std', async () => {
    await gradCheck((o, x) => o.sqrt(o.variance(o.tanh(x), [0, 2])), [inp([3, 5, 7], 12, -2, 2)]);
  });

  it('diamond graphs: a shared intermediate feeding several branches, x used many times', async () => {
    await gradCheck(
      (o, x, y) => {
        const h = o.mul(x, y); // used by three branches
        const p = o.exp(o.mul(h, 0.5));
        const q = o.tanh(h);
        const r = o.sum(h, 1, true);
        return o.add(o.add(o.mul(p, q), o.div(r, o.add(o.abs(h), 1))), o.mul(x, x));
      },
      [inp([4, 6], 13), inp([6], 14)],
    );
  });

  it('views inside the chain: slice, permute, expand, concat, reshape', async () => {
    await gradCheck(
      (o, x, y) => {
        const s = o.slice(o.permute(x, [2, 0, 1]), 1, 1, 7, 2); // [5, 3, 4]
        const e = o.expand(o.unsqueeze(y, 0), [5, 3, 4]);
        const c = o.concat([o.mul(s, e), o.relu(s)], 2); // [5, 3, 8]
        return o.reshape(o.maximum(c, o.mul(c, 0.3)), [15, 8]);
      },
      [inp([7, 4, 5], 15), inp([3, 4], 16)],
    );
  });

  it('cross-entropy from logSoftmax + gather, plus a clamp/pow penalty', async () => {
    await gradCheck(
      (o, x, l) => {
        const nll = o.neg(o.mean(o.gather(o.logSoftmax(x, 1), 1, l)));
        const reg = o.sum(o.pow(o.clamp(x, -1.5, 1.5), 2));
        return o.add(nll, o.mul(reg, 0.01));
      },
      [inp([5, 7], 17, -3, 3), { data: ints([5, 1], 18, 0, 7), shape: [5, 1] }],
      { grad: { rtol: 1e-3, atol: 1e-4 } },
    );
  });

  it('where and maximum with masks from comparisons', async () => {
    await gradCheck(
      (o, x, y) => {
        const m = o.compare('gt', x, y);
        return o.where(m, o.mul(x, y), o.sub(y, o.exp(x)));
      },
      [inp([6, 5], 19), inp([5], 20)],
    );
  });
});
