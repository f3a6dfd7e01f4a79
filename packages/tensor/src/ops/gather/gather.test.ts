/**
 * gather / indexSelect / oneHot against the CPU twin, their gradients (duplicate
 * indices must accumulate), and the device-side bounds check: a bad index is
 * reported at the next readback or sync() as a TesseraError naming the op, the
 * shapes and the value — and only once. Gathers move values, so forward is exact.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, gather, indexSelect, oneHot, transpose, sync, sum, TesseraError } from '../../index.js';
import * as ref from '../../reference/index.js';
import { cpuTensor } from '../../reference/cpu-tensor.js';
import { expectClose, gradCheck, ints, uniform } from '../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

const EXACT = { rtol: 0, atol: 0 };
const SHAPE = [7, 13, 5];
const xd = uniform(SHAPE, 31);

describe('gather', () => {
  for (const axis of [0, 1, 2, -1]) {
    it(`axis ${axis}: index smaller than x outside the axis, longer along it`, async () => {
      const a = axis < 0 ? axis + 3 : axis;
      const ishape = [5, 11, 3];
      ishape[a] = 9; // more entries than... or fewer than x.shape[a]: both allowed
      const id = ints(ishape, 40 + a, 0, SHAPE[a]!);
      const got = gather(tensor(xd, SHAPE), axis, tensor(id, ishape));
      expect(got.shape).toEqual(ishape);
      await expectClose(got, ref.gather(cpuTensor(xd, SHAPE), axis, cpuTensor(id, ishape)), EXACT);
    });
  }

  it('strided x and index (transposed views), u32 index, integer x', async () => {
    const x = transpose(tensor(xd, SHAPE), 0, 2); // [5, 13, 7]
    const id = ints([7, 4, 5], 3, 0, 13);
    const index = transpose(tensor(id, [7, 4, 5]), 0, 2); // [5, 4, 7]
    const rx = ref.transpose(cpuTensor(xd, SHAPE), 0, 2);
    const ri = ref.transpose(cpuTensor(id, [7, 4, 5]), 0, 2);
    await expectClose(gather(x, 1, index), ref.gather(rx, 1, ri), EXACT);
    await expectClose(gather(x, 1, index.cast('u32')), ref.gather(rx, 1, ri), EXACT, 'u32 index');
    const xi = tensor(Int32Array.from([10, 20, 30, 40]), [2, 2]);
    expect(Array.from(await gather(xi, 1, tensor(Int32Array.from([1, 1, 0, 1]), [2, 2])).toArray())).toEqual([20, 20, 30, 40]);
  });

  it('gradient: scatter-add, duplicates accumulate', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]).requireGrad();
    const idx = tensor(Int32Array.from([2, 2, 0, 1, 1, 1]), [2, 3]);
    sum(gather(x, 1, idx)).backward();
    expect(Array.from(await x.grad!.toArray())).toEqual([1, 0, 2, 0, 3, 0]);
    for (const axis of [0, 1, 2]) {
      const ishape = [5, 11, 3];
      ishape[axis] = 9;
      await gradCheck((o, t, i) => o.gather(o.mul(t, t), axis, i), [
        { data: uniform([6, 12, 4], axis), shape: [6, 12, 4] },
        { data: ints(ishape, 60 + axis, 0, [6, 12, 4][axis]!), shape: ishape },
      ]);
    }
  });
});

describe('indexSelect', () => {
  it('forward on each axis, with repeated indices', async () => {
    for (const axis of [0, 1, 2]) {
      const id = ints([9], 70 + axis, 0, SHAPE[axis]!);
      await expectClose(
        indexSelect(tensor(xd, SHAPE), axis, tensor(id, [9])),
        ref.indexSelect(cpuTensor(xd, SHAPE), axis, cpuTensor(id, [9])),
        EXACT,
        `axis ${axis}`,
      );
    }
  });

  it('gradient accumulates over repeats', async () => {
    await gradCheck((o, t, i) => o.indexSelect(o.exp(t), 1, i), [
      { data: uniform([3, 8, 2], 1), shape: [3, 8, 2] },
      { data: Int32Array.from([7, 0, 7, 3, 3, 3]), shape: [6] },
    ]);
  });
});

describe('oneHot', () => {
  it('i32 and u32 labels of any shape, including a strided view', async () => {
    const l = ints([4, 3], 5, 0, 6);
    await expectClose(oneHot(tensor(l, [4, 3]), 6), ref.oneHot(cpuTensor(l, [4, 3]), 6), EXACT);
    await expectClose(tensor(l, [4, 3]).cast('u32').oneHot(6), ref.oneHot(cpuTensor(l, [4, 3]), 6), EXACT, 'u32');
    await expectClose(oneHot(transpose(tensor(l, [4, 3])), 6), ref.oneHot(ref.transpose(cpuTensor(l, [4, 3])), 6), EXACT, 'strided');
    expect(oneHot(tensor(l, [4, 3]), 6).dtype).toBe('f32');
  });
});

describe('index bounds are checked on the device and reported at the next readback', () => {
  it('gather with an index past the end: the error names op, shapes and value; reported once', async () => {
    const x = tensor(xd, SHAPE);
    const bad = tensor(Int32Array.from([0, 13, 2, 1]), [1, 4, 1]);
    const y = gather(x, 1, bad); // no error yet: the values are on the device
    const err = await y.toArray().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect(String(err)).toMatch(/gather: index 13 is out of range for axis 1 of size 13 \(x \[7, 13, 5\], index \[1, 4, 1\]\)/);
    // Clamped, and reported only once: the next readback succeeds.
    const v = await y.toArray();
    expect(v[1]).toBe(ref.at(cpuTensor(xd, SHAPE), [0, 12, 0]));
  });

  it('negative indices, indexSelect and oneHot; sync() reports too', async () => {
    const x = tensor(xd, SHAPE);
    indexSelect(x, 2, tensor(Int32Array.from([1, -1]), [2]));
    await expect(sync()).rejects.toThrow(/indexSelect: index -1 is out of range for axis 2 of size 5 \(x \[7, 13, 5\], index \[2\]\)/);
    const h = oneHot(tensor(Uint32Array.from([0, 7]), [2]), 4);
    await expect(h.toArray()).rejects.toThrow(/oneHot: label 7 is out of range for 4 classes \(labels \[2\]\)/);
    expect(Array.from(await h.toArray())).toEqual([1, 0, 0, 0, 0, 0, 0, 0]); // a bad label gives a zero row
    await sync(); // nothing pending any more
  });

  it('shape and dtype errors are immediate', () => {
    const x = tensor(xd, SHAPE);
    expect(() => gather(x, 1, tensor([1, 2], [1, 2, 1]))).toThrow(/gather: the index \[1, 2, 1\] must be i32 or u32, got f32/);
    expect(() => gather(x, 1, tensor(Int32Array.from([1]), [1, 1]))).toThrow(/gather: index \[1, 1\] must have the rank of x \[7, 13, 5\]/);
    expect(() => gather(x, 1, tensor(Int32Array.from(new Array(8).fill(0)), [8, 1, 1]))).toThrow(/no larger outside axis 1/);
    expect(() => gather(x, 3, tensor(Int32Array.from([0]), [1, 1, 1]))).toThrow(/gather: axis 3 is out of range for shape \[7, 13, 5\]/);
    expect(() => indexSelect(x, 0, tensor(Int32Array.from([0, 1]), [1, 2]))).toThrow(/indexSelect: the index must be 1-D, got shape \[1, 2\]/);
    expect(() => oneHot(tensor(Int32Array.from([1]), [1]), 0)).toThrow(/oneHot: nClasses must be a positive integer/);
    expect(() => oneHot(tensor([1], [1]), 3)).toThrow(/oneHot: the index \[1\] must be i32 or u32, got f32/);
  });
});
