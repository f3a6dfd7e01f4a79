/**
 * The CPU twin's tensor: a typed array read through shape/strides/offset, like the
 * GPU Tensor, so views (transpose, slice, expand) are views here too. Besides the
 * GPU dtypes it has 'f64', in which the gradient checks run: float ops on f64
 * inputs stay f64, on f32 inputs they round to f32 after every op like the GPU.
 * Plain TypeScript, no device: the reference for every kernel.
 */
import type { DType } from '../dtype.js';
import { contiguousStrides, numel, type Shape } from '../shape.js';

export type CpuDType = DType | 'f64';
export type CpuData = Float64Array | Float32Array | Int32Array | Uint32Array;

export interface CpuTensor {
  readonly data: CpuData;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: CpuDType;
}

export function allocData(dtype: CpuDType, n: number): CpuData {
  switch (dtype) {
    case 'f64':
      return new Float64Array(n);
    case 'f32':
      return new Float32Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'u32':
      return new Uint32Array(n);
  }
}

export function dtypeOf(data: CpuData): CpuDType {
  if (data instanceof Float64Array) return 'f64';
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Int32Array) return 'i32';
  return 'u32';
}

export const isFloat = (d: CpuDType): boolean => d === 'f32' || d === 'f64';

/** A dense CPU tensor; `data` is copied into an array of `dtype` (inferred from a typed array, else f32). */
export function cpuTensor(data: ArrayLike<number>, shape: Shape = [data.length], dtype?: CpuDType): CpuTensor {
  const dt = dtype ?? (ArrayBuffer.isView(data) ? dtypeOf(data as unknown as CpuData) : 'f32');
  if (numel(shape) !== data.length) throw new Error(`cpuTensor: ${data.length} values for shape [${shape.join(', ')}]`);
  const d = allocData(dt, data.length);
  d.set(data);
  return { data: d, shape: [...shape], strides: contiguousStrides(shape), offset: 0, dtype: dt };
}

/** A dense tensor of `shape` filled by fn(flat index). */
export function fromFn(shape: Shape, dtype: CpuDType, fn: (i: number) => number): CpuTensor {
  const n = numel(shape);
  const d = allocData(dtype, n);
  for (let i = 0; i < n; i++) d[i] = fn(i);
  return { data: d, shape: [...shape], strides: contiguousStrides(shape), offset: 0, dtype };
}

/** Calls fn(storage offset, flat logical index) for every element in row-major order. */
export function forEachOffset(shape: Shape, strides: readonly number[], offset: number, fn: (off: number, i: number) => void): void {
  const n = numel(shape);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = offset;
  for (let i = 0; i < n; i++) {
    fn(off, i);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      off -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** The elements in row-major order, as a fresh dense array of the tensor's dtype. */
export function denseData(t: CpuTensor): CpuData {
  const out = allocData(t.dtype, numel(t.shape));
  forEachOffset(t.shape, t.strides, t.offset, (off, i) => (out[i] = t.data[off]!));
  return out;
}

export function isContiguousCpu(t: CpuTensor): boolean {
  let acc = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.strides[i] !== acc) return false;
    acc *= t.shape[i]!;
  }
  return true;
}

/** A dense copy (possibly in another dtype). */
export function toDense(t: CpuTensor, dtype: CpuDType = t.dtype): CpuTensor {
  const out = allocData(dtype, numel(t.shape));
  forEachOffset(t.shape, t.strides, t.offset, (off, i) => (out[i] = t.data[off]!));
  return { data: out, shape: [...t.shape], strides: contiguousStrides(t.shape), offset: 0, dtype };
}

/** The element at a multi-index. */
export function at(t: CpuTensor, idx: readonly number[]): number {
  let off = t.offset;
  idx.forEach((c, d) => (off += c * t.strides[d]!));
  return t.data[off]!;
}

/** Multi-index of a flat row-major index. */
export function unravel(i: number, shape: Shape): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return out;
}
