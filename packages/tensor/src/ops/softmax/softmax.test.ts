/**
 * softmax / logSoftmax against the CPU twin on every axis, both kernel variants
 * (thread per short row, workgroup per long row), strided inputs, extreme values
 * (stability), and gradients — including a non-contiguous incoming gradient.
 *
 * Tolerances (fp32): each output is exp of a shifted value over a sum of n terms;
 * exp is good to a few ulp for arguments ≤ 0 of moderate size and the f32 sum of
 * n ≤ 3000 positive terms to ~√n·ε ≈ 3e-6 relative. rtol 2e-5 / atol 1e-6 for
 * softmax; logSoftmax values are O(log n) so atol 1e-5 there.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, softmax, logSoftmax, sum, TesseraError } from '../../index.js';
import * as ref from '../../reference/index.js';
import { cpuTensor } from '../../reference/cpu-tensor.js';
import { expectClose, gradCheck, ints, uniform } from '../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

const SM = { rtol: 2e-5, atol: 1e-6 };
const LSM = { rtol: 2e-5, atol: 1e-5 };

describe('forward', () => {
  const shape = [7, 13, 5];
  const d = uniform(shape, 3, { lo: -4, hi: 4 });
  for (const axis of [0, 1, 2, -1]) {
    it(`axis ${axis} of ${JSON.stringify(shape)}, dense and transposed`, async () => {
      const x = tensor(d, shape);
      const r = cpuTensor(d, shape, 'f64');
      await expectClose(softmax(x, axis), ref.softmax(r, axis), SM, 'softmax');
      await expectClose(logSoftmax(x, axis), ref.logSoftmax(r, axis), LSM, 'logSoftmax');
      await expectClose(x.transpose(0, 2).softmax(axis), ref.softmax(ref.transpose(r, 0, 2), axis), SM, 'softmax (strided)');
    });
  }

  // [shape, axis]: thread variant (many short rows), group variant (long rows / few rows).
  for (const [shape, axis] of [[[2000, 10], 1], [[3, 3001], 1], [[40, 50], 0], [[1, 7], 1], [[257, 1], 1]] as const) {
    it(`${JSON.stringify(shape)} along ${axis}`, async () => {
      const dd = uniform(shape, 8, { lo: -6, hi: 6 });
      const r = cpuTensor(dd, shape, 'f64');
      await expectClose(softmax(tensor(dd, shape), axis), ref.softmax(r, axis), SM, 'softmax');
      await expectClose(logSoftmax(tensor(dd, shape), axis), ref.logSoftmax(r, axis), LSM, 'logSoftmax');
    });
  }

  it('is stable for huge logits (max-shifted): no inf or NaN, rows sum to 1', async () => {
    const x = tensor([[1000, 1001, 1002], [-1000, -1001, -1002], [88, 89, 90]]);
    const s = softmax(x, 1);
    const l = logSoftmax(x, 1);
    const e = ref.softmax(cpuTensor([0, 1, 2, 0, -1, -2, 0, 1, 2], [3, 3], 'f64'), 1);
    await expectClose(s, e, SM);
    await expectClose(l, ref.logSoftmax(cpuTensor([0, 1, 2, 0, -1, -2, 0, 1, 2], [3, 3], 'f64'), 1), LSM);
    await expectClose(sum(s, 1), [1, 1, 1], { rtol: 0, atol: 1e-6 });
  });

  it('rejects integer input and bad axes', () => {
    expect(() => softmax(tensor(Int32Array.from([1, 2]), [2]))).toThrow(/softmax: expected a tensor of dtype f32, got i32 of shape \[2\]/);
    expect(() => logSoftmax(tensor([1, 2]), 1)).toThrow(TesseraError);
    expect(() => logSoftmax(tensor([1, 2]), 1)).toThrow(/logSoftmax: axis 1 is out of range for shape \[2\]/);
  });
});

describe('gradients', () => {
  for (const axis of [0, 1, -1]) {
    it(`softmax and logSoftmax along ${axis}`, async () => {
      const inp = [{ data: uniform([4, 6, 3], 10 + axis, { lo: -2, hi: 2 }), shape: [4, 6, 3] }];
      await gradCheck((o, x) => o.softmax(x, axis), inp);
      await gradCheck((o, x) => o.logSoftmax(x, axis), inp);
    });
  }

  it('long rows (group variant) and a non-contiguous incoming gradient', async () => {
    await gradCheck((o, x) => o.softmax(x, 1), [{ data: uniform([2, 300], 4), shape: [2, 300] }]);
    // transpose after softmax: the gradient reaching softmax's backward is a strided view.
    await gradCheck((o, x) => o.mul(o.transpose(o.logSoftmax(o.transpose(x), 0)), o.exp(x)), [{ data: uniform([5, 7], 5), shape: [5, 7] }]);
  });

  it('a softmax cross-entropy chain: -mean(gather(logSoftmax(x), labels)) and with oneHot', async () => {
    const labels = ints([6, 1], 2, 0, 9);
    await gradCheck((o, x, l) => o.neg(o.mean(o.gather(o.logSoftmax(x, 1), 1, l))), [
      { data: uniform([6, 9], 3, { lo: -3, hi: 3 }), shape: [6, 9] },
      { data: labels, shape: [6, 1] },
    ]);
    await gradCheck((o, x, l) => o.neg(o.sum(o.mul(o.logSoftmax(x, -1), o.oneHot(l, 9)))), [
      { data: uniform([6, 9], 4, { lo: -3, hi: 3 }), shape: [6, 9] },
      { data: labels.slice(), shape: [6] },
    ]);
  });

  it('softmax backward matches the closed form y·(g − Σg·y)', async () => {
    const x = tensor([[0.5, -1, 2]]).requireGrad();
    const w = [3, -2, 0.5];
    sum(softmax(x, 1).mul(tensor([w]))).backward();
    const y = ref.softmax(cpuTensor([0.5, -1, 2], [1, 3], 'f64'), 1).data;
    const s = w.reduce((p, g, i) => p + g * y[i]!, 0);
    await expectClose(x.grad!, w.map((g, i) => y[i]! * (g - s)), { rtol: 1e-5, atol: 1e-6 });
  });
});
