// Materialises a strided view (offset + shape + strides into a flat storage) as a
// dense row-major copy. PyTorch saves views as-is (a transposed weight, a slice that
// shares its parent's storage), while everything downstream expects contiguous data.

import { numel, type TensorData } from './types.js';

/** Contiguous (row-major) strides for a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]!; }
  return strides;
}

/**
 * The highest storage index the view touches, or -1 for an empty view: the caller
 * checks it against the storage length before gathering.
 */
export function lastIndex(offset: number, shape: readonly number[], stride: readonly number[]): number {
  if (numel(shape) === 0) return -1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * stride[i]!;
  return last;
}

/** Copies the view into a new dense array of the same element type. */
export function gatherStrided<T extends TensorData>(src: T, offset: number, shape: readonly number[], stride: readonly number[]): T {
  const n = numel(shape);
  // Dimensions of size 1 may carry any stride; they do not make a view non-contiguous.
  const dense = contiguousStrides(shape);
  if (shape.every((d, i) => d === 1 || stride[i] === dense[i])) return src.slice(offset, offset + n) as T;

  const out = new (src.constructor as new (n: number) => T)(n);
  if (n === 0) return out;
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const innerStride = stride[rank - 1]!;
  const index = new Array<number>(rank - 1).fill(0);
  let base = offset;
  // Odometer over the outer dimensions, a tight loop over the innermost one.
  for (let o = 0; o < n; o += inner) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) out[o + j] = src[s]!;
    for (let d = rank - 2; d >= 0; d--) {
      base += stride[d]!;
      if (++index[d]! < shape[d]!) break;
      base -= index[d]! * stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}
