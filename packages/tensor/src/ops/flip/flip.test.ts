/**
 * flip against its CPU twin on awkward shapes and views (transposed, sliced with a
 * step, expanded), every dtype, gradients through gradCheck, and torch.flip's rules:
 * negative dims, no dims (a copy), rank 0, repeated or out-of-range dims.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expand, flip, initDevice, slice, tensor, transpose, TesseraError } from '../../index.js';
import * as ref from '../../reference/index.js';
import { cpuTensor } from '../../reference/cpu-tensor.js';
import { expectClose, gradCheck, ints, uniform } from '../../testing/index.js';
import * as twin from './twin.js';

beforeAll(async () => {
  await initDevice();
});

const EXACT = { rtol: 0, atol: 0 };

describe('flip forward', () => {
  it('reverses along the given dims, as torch.flip (the twin on a worked example)', async () => {
    const x = [1, 2, 3, 4, 5, 6];
    await expectClose(twin.flip(cpuTensor(x, [2, 3]), [1]), [3, 2, 1, 6, 5, 4], EXACT);
    await expectClose(twin.flip(cpuTensor(x, [2, 3]), [0, -1]), [6, 5, 4, 3, 2, 1], EXACT);
    await expectClose(flip(tensor(x, [2, 3]), [0]), [4, 5, 6, 1, 2, 3], EXACT);
  });

  const cases: [number[], number[]][] = [
    [[7], [0]],
    [[3, 5, 7], [0, 2]],
    [[2, 1, 4, 3], [-1, 1]],
    [[5, 6, 3], [1]],
    [[2, 3, 4, 5, 3], [0, 1, 2, 3, 4]],
    [[4, 9], []],
    [[1, 1], [0, 1]],
  ];
  for (const [shape, dims] of cases) {
    it(`${JSON.stringify(shape)} along ${JSON.stringify(dims)}, dense and as the Tensor method`, async () => {
      const d = uniform(shape, shape.length + dims.length, { lo: -3, hi: 3 });
      const r = cpuTensor(d, shape);
      await expectClose(flip(tensor(d, shape), dims), twin.flip(r, dims), EXACT);
      await expectClose(tensor(d, shape).flip(dims), twin.flip(r, dims), EXACT);
    });
  }

  it('strided views: transposed, sliced with a step, expanded (stride 0)', async () => {
    const d = uniform([6, 5, 4], 9);
    const r = cpuTensor(d, [6, 5, 4]);
    const x = tensor(d, [6, 5, 4]);
    await expectClose(flip(transpose(x, 0, 2), [0, 1]), twin.flip(ref.transpose(r, 0, 2), [0, 1]), EXACT);
    await expectClose(flip(slice(x, 1, 0, 5, 2), [1, 2]), twin.flip(ref.slice(r, 1, 0, 5, 2), [1, 2]), EXACT);
    const row = tensor([1, 2, 3], [1, 3]);
    await expectClose(flip(expand(row, [4, 3]), [0, 1]), [3, 2, 1, 3, 2, 1, 3, 2, 1, 3, 2, 1], EXACT);
  });

  it('integer dtypes and rank 0', async () => {
    const i = ints([3, 4], 5, -100, 100);
    const got = flip(tensor(i, [3, 4], 'i32'), [1]);
    expect(got.dtype).toBe('i32');
    await expectClose(got, twin.flip(cpuTensor(i, [3, 4], 'i32'), [1]), EXACT);
    const u = flip(tensor(Uint32Array.from([7, 4000000000]), [2], 'u32'), [0]);
    expect(Array.from(await u.toArray())).toEqual([4000000000, 7]);
    await expectClose(flip(tensor([2.5], []), [0]), [2.5], EXACT);
  });

  it('refuses repeated and out-of-range dims, naming them', () => {
    const x = tensor(uniform([2, 3], 1), [2, 3]);
    expect(() => flip(x, [1, -1])).toThrow(TesseraError);
    expect(() => flip(x, [1, -1])).toThrow(/flip: repeated axis in \[1, -1\] for shape \[2, 3\]/);
    expect(() => flip(x, [2])).toThrow(/flip: axis 2 is out of range for shape \[2, 3\]/);
  });
});

describe('flip backward', () => {
  it('is the flip of the gradient (gradCheck on awkward shapes, strided inputs and chains)', async () => {
    await gradCheck((o, x) => o.flip(x, [0, 2]), [{ data: uniform([3, 5, 7], 2), shape: [3, 5, 7] }]);
    await gradCheck((o, x) => o.flip(o.transpose(x, 0, 1), [-1]), [{ data: uniform([4, 3], 3), shape: [4, 3] }]);
    // The gradient reaching flip's backward is itself a strided view (transpose after flip).
    await gradCheck((o, x) => o.mul(o.transpose(o.flip(x, [1]), 0, 1), o.transpose(o.exp(x), 0, 1)), [{ data: uniform([5, 6], 4), shape: [5, 6] }]);
  });
});
