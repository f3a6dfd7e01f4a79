/**
 * CPU twins of the reductions: sum, mean, max, min, argmax, argmin, variance, with
 * the GPU API's signatures (axes: number | number[] | undefined = all, keepdim).
 * Accumulation is in float64, so the twin is the more accurate side of a comparison.
 * max/min/argmax/argmin propagate NaN as PyTorch (the first NaN's index).
 */
import { normAxes, numel } from '../../shape.js';
import { type CpuDType, type CpuTensor, allocData, isFloat } from '../../reference/cpu-tensor.js';
import { reshape } from '../views/twin.js';

type Axes = number | number[] | undefined;

interface Grouping {
  outShape: number[];
  nOut: number;
  nRed: number;
  /** For each element in row-major order: [output index, index within the reduced dims]. */
  each(fn: (v: number, out: number, red: number) => void): void;
}

function group(op: string, x: CpuTensor, axes: Axes, keepdim: boolean): Grouping {
  const ax = normAxes(op, axes, x.shape);
  const rank = x.shape.length;
  const outShape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) outShape.push(d);
    else if (keepdim) outShape.push(1);
  });
  // Row-major strides of the kept dims (into the output) and of the reduced dims (into a group).
  const keptStride = new Array<number>(rank).fill(0);
  const redStride = new Array<number>(rank).fill(0);
  let ko = 1;
  let ro = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (ax.includes(d)) {
      redStride[d] = ro;
      ro *= x.shape[d]!;
    } else {
      keptStride[d] = ko;
      ko *= x.shape[d]!;
    }
  }
  return {
    outShape,
    nOut: ko,
    nRed: ro,
    each(fn) {
      const n = numel(x.shape);
      const idx = new Array<number>(rank).fill(0);
      for (let i = 0; i < n; i++) {
        let off = x.offset;
        let o = 0;
        let r = 0;
        for (let d = 0; d < rank; d++) {
          off += idx[d]! * x.strides[d]!;
          o += idx[d]! * keptStride[d]!;
          r += idx[d]! * redStride[d]!;
        }
        fn(x.data[off]!, o, r);
        for (let d = rank - 1; d >= 0; d--) {
          if (++idx[d]! < x.shape[d]!) break;
          idx[d] = 0;
        }
      }
    },
  };
}

function result(shape: number[], dtype: CpuDType, values: ArrayLike<number>): CpuTensor {
  const data = allocData(dtype, values.length);
  data.set(values);
  return reshape({ data, shape: [values.length], strides: [1], offset: 0, dtype }, shape);
}

export function sum(x: CpuTensor, axes?: Axes, keepdim = false): CpuTensor {
  const g = group('sum', x, axes, keepdim);
  const acc = new Float64Array(g.nOut);
  g.each((v, o) => (acc[o]! += v));
  return result(g.outShape, x.dtype, acc);
}

export function mean(x: CpuTensor, axes?: Axes, keepdim = false): CpuTensor {
  const g = group('mean', x, axes, keepdim);
  const acc = new Float64Array(g.nOut);
  g.each((v, o) => (acc[o]! += v));
  for (let i = 0; i < acc.length; i++) acc[i]! /= g.nRed;
  return result(g.outShape, x.dtype, acc);
}

/** Whether v replaces the current best c: it is better, or NaN while c is not (NaN propagates, first NaN wins). */
const beats = (better: (a: number, b: number) => boolean) => (v: number, c: number) =>
  !Number.isNaN(c) && (Number.isNaN(v) || better(v, c));

function extremum(op: string, x: CpuTensor, axes: Axes, keepdim: boolean, better: (a: number, b: number) => boolean): CpuTensor {
  const g = group(op, x, axes, keepdim);
  const acc = new Float64Array(g.nOut);
  const seen = new Uint8Array(g.nOut);
  const take = beats(better);
  g.each((v, o) => {
    if (!seen[o] || take(v, acc[o]!)) acc[o] = v;
    seen[o] = 1;
  });
  return result(g.outShape, x.dtype, acc);
}

export const max = (x: CpuTensor, axes?: Axes, keepdim = false) => extremum('max', x, axes, keepdim, (a, b) => a > b);
export const min = (x: CpuTensor, axes?: Axes, keepdim = false) => extremum('min', x, axes, keepdim, (a, b) => a < b);

/** Index within the reduced axis (flat over the whole tensor when axis is undefined); first wins on ties and among NaNs. */
function argExtremum(op: string, x: CpuTensor, axis: number | undefined, keepdim: boolean, better: (a: number, b: number) => boolean): CpuTensor {
  const g = group(op, x, axis, keepdim && axis !== undefined);
  const best = new Float64Array(g.nOut);
  const seen = new Uint8Array(g.nOut);
  const idx = new Int32Array(g.nOut);
  const take = beats(better);
  g.each((v, o, r) => {
    if (!seen[o] || take(v, best[o]!)) {
      best[o] = v;
      idx[o] = r;
    }
    seen[o] = 1;
  });
  const shape = axis === undefined && keepdim ? x.shape.map(() => 1) : g.outShape;
  return result(shape, 'i32', idx);
}

export const argmax = (x: CpuTensor, axis?: number, keepdim = false) => argExtremum('argmax', x, axis, keepdim, (a, b) => a > b);
export const argmin = (x: CpuTensor, axis?: number, keepdim = false) => argExtremum('argmin', x, axis, keepdim, (a, b) => a < b);

/** Variance with `correction` (1: Bessel). */
export function variance(x: CpuTensor, axes?: Axes, keepdim = false, correction = 1): CpuTensor {
  if (!isFloat(x.dtype)) throw new Error('var: float tensors only');
  const g = group('var', x, axes, keepdim);
  const s = new Float64Array(g.nOut);
  g.each((v, o) => (s[o]! += v));
  const m = s.map((v) => v / g.nRed);
  const sq = new Float64Array(g.nOut);
  g.each((v, o) => (sq[o]! += (v - m[o]!) ** 2));
  for (let i = 0; i < sq.length; i++) sq[i]! /= g.nRed - correction;
  return result(g.outShape, x.dtype, sq);
}
