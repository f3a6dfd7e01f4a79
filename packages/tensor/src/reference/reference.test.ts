/**
 * The CPU twins are the yardstick for every GPU test, so they are checked here
 * against values worked out by hand (no device needed).
 */
import { describe, expect, it } from 'vitest';
import * as ref from './index.js';
import { cpuTensor, denseData, forEachOffset } from './cpu-tensor.js';

const arr = (t: ref.CpuTensor) => Array.from(denseData(t));

describe('CPU twins', () => {
  const x = cpuTensor([1, 2, 3, 4, 5, 6], [2, 3]);

  it('views walk strides and offsets', () => {
    expect(arr(ref.transpose(x))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(arr(ref.slice(x, 1, 1, 3))).toEqual([2, 3, 5, 6]);
    expect(arr(ref.slice(ref.transpose(x), 0, 0, 3, 2))).toEqual([1, 4, 3, 6]);
    expect(arr(ref.expand(cpuTensor([7, 8], [2, 1]), [2, 3]))).toEqual([7, 7, 7, 8, 8, 8]);
    expect(arr(ref.concat([x, cpuTensor([0, 0], [2, 1])], 1))).toEqual([1, 2, 3, 0, 4, 5, 6, 0]);
    expect(arr(ref.stack([cpuTensor([1, 2]), cpuTensor([3, 4])], 1))).toEqual([1, 3, 2, 4]);
    const seen: number[] = [];
    forEachOffset([2, 2], [1, 2], 10, (off) => seen.push(off));
    expect(seen).toEqual([10, 12, 11, 13]);
  });

  it('elementwise: broadcasting, integer semantics, comparisons, casts', () => {
    expect(arr(ref.add(x, cpuTensor([10, 20, 30])))).toEqual([11, 22, 33, 14, 25, 36]);
    expect(arr(ref.div(cpuTensor(Int32Array.from([7, -7, 5]), [3]), cpuTensor(Int32Array.from([2, 2, 0]), [3])))).toEqual([3, -3, 5]);
    expect(arr(ref.mul(cpuTensor(Int32Array.from([65536]), [1]), cpuTensor(Int32Array.from([65536]), [1])))).toEqual([0]);
    expect(arr(ref.compare('ge', x, 3))).toEqual([0, 0, 1, 1, 1, 1]);
    expect(arr(ref.cast(cpuTensor([-1.5, 2.7, 1e10]), 'i32'))).toEqual([-1, 2, 2147483520]);
    expect(arr(ref.cast(cpuTensor(Int32Array.from([-1]), [1]), 'u32'))).toEqual([4294967295]);
    expect(arr(ref.where(cpuTensor(Uint32Array.from([1, 0]), [2]), cpuTensor([1, 2]), cpuTensor([9])))).toEqual([1, 9]);
  });

  it('reductions with keepdim, first-wins arg reductions, variance', () => {
    expect(arr(ref.sum(x, 0))).toEqual([5, 7, 9]);
    expect(ref.sum(x, 1, true).shape).toEqual([2, 1]);
    expect(arr(ref.mean(x))).toEqual([3.5]);
    expect(arr(ref.max(x, [0, 1]))).toEqual([6]);
    expect(arr(ref.argmax(cpuTensor([1, 3, 3, 2]), 0))).toEqual([1]);
    expect(arr(ref.argmin(ref.transpose(x), undefined))).toEqual([0]);
    expect(arr(ref.variance(cpuTensor([1, 2, 3, 4], [4], 'f64')))).toEqual([5 / 3]);
    expect(arr(ref.variance(cpuTensor([1, 2, 3, 4]), 0, false, 0))).toEqual([1.25]);
  });

  it('softmax, gather, indexSelect, oneHot', () => {
    const s = arr(ref.softmax(cpuTensor([0, Math.log(3)], [1, 2], 'f64'), 1));
    expect(s[0]).toBeCloseTo(0.25, 12);
    expect(s[1]).toBeCloseTo(0.75, 12);
    expect(arr(ref.logSoftmax(cpuTensor([5, 5], [2], 'f64')))[0]).toBeCloseTo(-Math.log(2), 12);
    expect(arr(ref.gather(x, 1, cpuTensor(Int32Array.from([2, 0]), [2, 1])))).toEqual([3, 4]);
    expect(arr(ref.indexSelect(x, 0, cpuTensor(Int32Array.from([1, 1, 0]), [3])))).toEqual([4, 5, 6, 4, 5, 6, 1, 2, 3]);
    expect(arr(ref.oneHot(cpuTensor(Int32Array.from([2, 0]), [2]), 3))).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => ref.gather(x, 1, cpuTensor(Int32Array.from([3]), [1, 1]))).toThrow(/out of range/);
  });
});
