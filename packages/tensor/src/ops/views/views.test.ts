/**
 * View ops (reshape, permute/transpose, expand, slice, squeeze/unsqueeze, flatten)
 * and concat/stack against the CPU twin, reading views back (toArray/item of
 * strided, offset and expanded views), storage sharing, and gradients.
 * Views move no arithmetic, so forward comparisons are exact.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, tensor, reshape, permute, transpose, expand, slice, squeeze, unsqueeze, flatten, concat, stack, contiguous } from '../../index.js';
import * as ref from '../../reference/index.js';
import { cpuTensor } from '../../reference/cpu-tensor.js';
import { expectClose, gradCheck, uniform } from '../../testing/index.js';

beforeAll(async () => {
  await initDevice();
});

const EXACT = { rtol: 0, atol: 0 };
const SHAPE = [7, 13, 5];
const data = uniform(SHAPE, 21);
const x = () => tensor(data, SHAPE);
const r = cpuTensor(data, SHAPE);

describe('views read back in logical order', () => {
  it('reshape (with -1), and reshape of a non-contiguous view (which copies)', async () => {
    const t = x();
    const v = reshape(t, [13, -1]);
    expect(v.shape).toEqual([13, 35]);
    expect(v.buffer).toBe(t.buffer); // a view: same storage
    await expectClose(v, ref.reshape(r, [13, -1]), EXACT);
    const tt = transpose(t, 0, 2);
    const c = reshape(tt, [5, 91]);
    expect(c.buffer).not.toBe(t.buffer);
    await expectClose(c, ref.reshape(ref.transpose(r, 0, 2), [5, 91]), EXACT);
  });

  it('permute and transpose', async () => {
    for (const dims of [[2, 0, 1], [1, 2, 0], [0, 2, 1]]) {
      await expectClose(permute(x(), dims), ref.permute(r, dims), EXACT, `permute ${dims}`);
    }
    await expectClose(transpose(x()), ref.transpose(r), EXACT);
    await expectClose(x().transpose(0, -1), ref.transpose(r, 0, -1), EXACT);
  });

  it('slice: steps, negative bounds, offsets, slices of slices', async () => {
    const cases: [number, number, number | undefined, number][] = [
      [0, 2, 5, 1],
      [1, -4, undefined, 1],
      [1, 1, 13, 3],
      [2, 0, 5, 2],
      [-1, -2, -1, 1],
    ];
    for (const [axis, s, e, step] of cases) {
      await expectClose(slice(x(), axis, s, e, step), ref.slice(r, axis, s, e, step), EXACT, `slice ${axis} ${s}:${e}:${step}`);
    }
    const ss = slice(slice(transpose(x(), 1, 2), 0, 1, 6, 2), 2, 3, 12, 4);
    await expectClose(ss, ref.slice(ref.slice(ref.transpose(r, 1, 2), 0, 1, 6, 2), 2, 3, 12, 4), EXACT);
  });

  it('expand (new leading dims, size-1 dims, -1) and reading expanded views', async () => {
    const d = uniform([3, 1, 4], 2);
    const t = tensor(d, [3, 1, 4]);
    const e = expand(t, [2, 3, 5, -1]);
    expect(e.shape).toEqual([2, 3, 5, 4]);
    expect(e.strides[0]).toBe(0);
    await expectClose(e, ref.expand(cpuTensor(d, [3, 1, 4]), [2, 3, 5, 4]), EXACT);
  });

  it('squeeze, unsqueeze, flatten, contiguous', async () => {
    const t = tensor(data, [7, 1, 13, 1, 5]);
    const rr = cpuTensor(data, [7, 1, 13, 1, 5]);
    expect(squeeze(t).shape).toEqual([7, 13, 5]);
    expect(squeeze(t, 3).shape).toEqual([7, 1, 13, 5]);
    expect(squeeze(t, 0).shape).toEqual([7, 1, 13, 1, 5]); // not size 1: unchanged
    expect(unsqueeze(x(), -1).shape).toEqual([7, 13, 5, 1]);
    expect(unsqueeze(x(), 0).shape).toEqual([1, 7, 13, 5]);
    await expectClose(flatten(transpose(x(), 0, 1)), ref.flatten(ref.transpose(r, 0, 1)), EXACT);
    await expectClose(flatten(x(), 0), ref.flatten(r, 0), EXACT);
    await expectClose(squeeze(t, 1), ref.squeeze(rr, 1), EXACT);
    const c = contiguous(transpose(x()));
    expect(c.isContiguous).toBe(true);
    const y = x();
    expect(contiguous(y)).toBe(y);
  });

  it('item() of one-element views; toArray of an offset view of an integer tensor', async () => {
    const t = x();
    const one = slice(slice(slice(t, 0, 3, 4), 1, 7, 8), 2, 2, 3);
    expect(await one.item()).toBe(ref.at(r, [3, 7, 2]));
    expect(await transpose(slice(t, 2, 4, 5)).slice(0, 0, 1).slice(2, 6, 7).item()).toBe(ref.at(r, [0, 6, 4]));
    const i = tensor(Int32Array.from({ length: 24 }, (_, k) => k - 5), [4, 6]);
    expect(Array.from(await slice(i, 1, 2, 5).toArray())).toEqual([-3, -2, -1, 3, 4, 5, 9, 10, 11, 15, 16, 17]);
    expect(await slice(slice(i, 0, 2, 3), 1, 5).item()).toBe(12);
    await expect(t.item()).rejects.toThrow(/item: tensor of shape \[7, 13, 5\] has 455 elements, not 1/);
  });
});

describe('concat and stack', () => {
  it('concat along each axis, mixing contiguous and strided inputs', async () => {
    const a = uniform([7, 4, 5], 1);
    const b = uniform([5, 7, 3], 2); // used transposed
    for (const axis of [0, 1, 2]) {
      const shapeA = [...SHAPE];
      shapeA[axis] = 2;
      const da = uniform(shapeA, 3 + axis);
      const ta = tensor(da, shapeA);
      const tb = x();
      const ra = cpuTensor(da, shapeA);
      await expectClose(concat([ta, tb, ta], axis), ref.concat([ra, r, ra], axis), EXACT, `axis ${axis}`);
    }
    const ta = tensor(a, [7, 4, 5]);
    const tb = permute(tensor(b, [5, 7, 3]), [1, 2, 0]); // [7, 3, 5]
    await expectClose(concat([ta, tb], 1), ref.concat([cpuTensor(a, [7, 4, 5]), ref.permute(cpuTensor(b, [5, 7, 3]), [1, 2, 0])], 1), EXACT);
    const i = concat([tensor(Int32Array.from([1, 2]), [2]), tensor(Int32Array.from([3]), [1])]);
    expect(i.dtype).toBe('i32');
    expect(Array.from(await i.toArray())).toEqual([1, 2, 3]);
  });

  it('stack along a new first, middle and last axis', async () => {
    const parts = [0, 1, 2].map((k) => uniform([4, 6], 10 + k));
    for (const axis of [0, 1, 2, -1]) {
      await expectClose(
        stack(parts.map((p) => tensor(p, [4, 6])), axis),
        ref.stack(parts.map((p) => cpuTensor(p, [4, 6])), axis),
        EXACT,
        `axis ${axis}`,
      );
    }
  });
});

describe('view gradients', () => {
  const inp = (shape: number[], seed: number) => ({ data: uniform(shape, seed), shape });
  it('reshape, permute, transpose, flatten, squeeze/unsqueeze', async () => {
    await gradCheck((o, t) => o.mul(o.reshape(o.permute(t, [2, 0, 1]), [5, -1]), o.reshape(t, [5, 91])), [inp(SHAPE, 1)]);
    await gradCheck((o, t) => o.exp(o.flatten(o.transpose(o.unsqueeze(t, 1), 0, 2))), [inp([3, 4], 2)]);
    await gradCheck((o, t) => o.squeeze(o.mul(t, t), 1), [inp([3, 1, 4], 3)]);
  });
  it('expand (gradient sums over the broadcast dims) and slice (zeros elsewhere)', async () => {
    await gradCheck((o, t) => o.mul(o.expand(t, [2, 3, 4, 5]), o.expand(t, [2, 3, 4, 5])), [inp([3, 1, 5], 4)]);
    await gradCheck((o, t) => o.slice(o.slice(t, 1, 1, 12, 3), 0, -3), [inp([7, 13], 5)]);
  });
  it('concat and stack', async () => {
    await gradCheck((o, a, b) => o.concat([a, o.tanh(b), a], 1), [inp([3, 2, 4], 6), inp([3, 5, 4], 7)]);
    await gradCheck((o, a, b) => o.stack([a, o.transpose(b)], 1), [inp([4, 3], 8), inp([3, 4], 9)]);
  });
});
