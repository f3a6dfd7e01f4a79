/**
 * Tensor.moveInto: a tensor packed into a shared flat storage (what optimizers do with
 * a group's parameters) keeps its identity and values, works in ops, autograd and
 * in-place writes at its new offset, and the shared storage lives exactly as long as
 * one of its tensors does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Tensor, add, initDevice, matmul, memoryStats, sum, tensor, zeros } from './index.js';

beforeAll(async () => {
  await initDevice();
});

const liveBytes = () => memoryStats().bytesLive;

/** Two tensors packed at elements 4 and 12 of a 20-element flat tensor of sevens. */
function packed() {
  const flat = tensor(new Float32Array(20).fill(7), [20]);
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tensor([10, 20, 30], [3, 1]);
  a.moveInto(flat, 4);
  b.moveInto(flat, 12);
  return { flat, a, b };
}

describe('moveInto', () => {
  it('keeps the object, shape and values; the tensor now reads from the flat storage at its offset', async () => {
    const { flat, a, b } = packed();
    expect([a.buffer === flat.buffer, b.buffer === flat.buffer, a.offset, b.offset]).toEqual([true, true, 4, 12]);
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(await a.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await b.toArray())).toEqual([10, 20, 30]);
    // Elements outside the moved ranges are untouched.
    expect(Array.from(await flat.toArray())).toEqual([7, 7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 7, 10, 20, 30, 7, 7, 7, 7, 7]);
    [a, b, flat].forEach((t) => t.dispose());
  });

  it('ops, gradients and in-place writes see the new place', async () => {
    const { flat, a, b } = packed();
    a.requireGrad(true);
    const y = sum(matmul(a, b)); // [1·10+2·20+3·30, 4·10+5·20+6·30] = [140, 320]
    expect(await y.item()).toBe(460);
    y.backward();
    expect(Array.from(await a.grad!.toArray())).toEqual([10, 20, 30, 10, 20, 30]);
    b.load(new Float32Array([-1, -2, -3]));
    const a1 = add(a, 1);
    a.copyFrom(a1);
    expect(Array.from(await flat.toArray())).toEqual([7, 7, 7, 7, 2, 3, 4, 5, 6, 7, 7, 7, -1, -2, -3, 7, 7, 7, 7, 7]);
    [y, a1, a.grad!, a, b, flat].forEach((t) => t.dispose());
  });

  it('frees the old storage at once and the shared one with the last tensor that uses it', () => {
    const base = liveBytes();
    const a = zeros([1024]);
    const flat = zeros([4096]);
    const withBoth = liveBytes();
    a.moveInto(flat, 1024);
    expect(liveBytes()).toBeLessThan(withBoth); // a's own buffer went back to the pool
    flat.dispose();
    expect(liveBytes()).toBeGreaterThan(base); // a still holds the flat storage
    a.dispose();
    expect(liveBytes()).toBe(base);
  });

  it('refuses what cannot be a dense range of the target', () => {
    const flat = zeros([8]);
    const m = zeros([2, 3]);
    expect(() => m.moveInto(flat, 4)).toThrow(/moveInto: cannot place dense \[2, 3\].* at element 4 of \[8\]/);
    const t = m.transpose(0, 1);
    expect(() => t.moveInto(flat, 0)).toThrow(/contiguous: false/);
    const ints = zeros([2], 'i32');
    expect(() => ints.moveInto(flat, 0)).toThrow(/moveInto/);
    const v = Tensor.empty([2]);
    v.moveInto(flat, 2);
    v.moveInto(flat, 2); // already there: nothing to do
    expect(() => v.moveInto(flat, 4)).toThrow(/own storage at another offset/);
    m.dispose();
    t.dispose();
    expect(() => m.moveInto(flat, 0)).toThrow(/used after it was disposed/);
    [v, ints, flat].forEach((x) => x.dispose());
  });
});
