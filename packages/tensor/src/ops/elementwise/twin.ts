/**
 * CPU twins of the elementwise ops. The per-element functions are not written
 * here: they are the `cpu`/`cpuInt` fields of the op declarations in
 * op.ts, so the GPU expression and its twin sit side by side. This
 * file only adds broadcasting, views and dtype handling, with the same signatures
 * as the GPU functional API.
 */
import type { DType } from '../../dtype.js';
import { BINARY, COMPARE, UNARY, type BinaryDecl, type BinaryName, type CompareName, type UnaryDecl, type UnaryName } from './op.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel } from '../../shape.js';
import { type CpuDType, type CpuTensor, allocData, forEachOffset, isFloat } from '../../reference/cpu-tensor.js';

type Operand = CpuTensor | number;

/** out[i] = f(inputs at i) over the broadcast shape, into a new dense tensor of `dtype`. */
export function mapCpu(inputs: CpuTensor[], dtype: CpuDType, f: (...v: number[]) => number, op = 'map'): CpuTensor {
  const shape = broadcastShapes(op, ...inputs.map((t) => t.shape));
  const n = numel(shape);
  const vals = inputs.map((t) => {
    const v = new Float64Array(n);
    forEachOffset(shape, broadcastStrides(t.shape, t.strides, shape), t.offset, (off, i) => (v[i] = t.data[off]!));
    return v;
  });
  const out = allocData(dtype, n);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < vals.length; k++) args[k] = vals[k]![i]!;
    out[i] = f(...args);
  }
  return { data: out, shape, strides: contiguousStrides(shape), offset: 0, dtype };
}

export function unary(name: UnaryName, x: CpuTensor, p0 = 0, p1 = 0): CpuTensor {
  const d: UnaryDecl = UNARY[name];
  const f = !isFloat(x.dtype) && d.cpuInt ? d.cpuInt : d.cpu;
  return mapCpu([x], x.dtype, (v) => f(v, p0, p1), name);
}

export function binary(name: BinaryName, a: CpuTensor, b: CpuTensor): CpuTensor {
  const d: BinaryDecl = BINARY[name];
  const dtype: CpuDType = a.dtype === 'f64' || b.dtype === 'f64' ? 'f64' : a.dtype;
  const f = !isFloat(dtype) && d.cpuInt ? d.cpuInt : d.cpu;
  return mapCpu([a, b], dtype, f, name);
}

export const neg = (x: CpuTensor) => unary('neg', x);
export const exp = (x: CpuTensor) => unary('exp', x);
export const log = (x: CpuTensor) => unary('log', x);
export const sqrt = (x: CpuTensor) => unary('sqrt', x);
export const rsqrt = (x: CpuTensor) => unary('rsqrt', x);
export const abs = (x: CpuTensor) => unary('abs', x);
export const relu = (x: CpuTensor) => unary('relu', x);
export const leakyRelu = (x: CpuTensor, slope = 0.01) => unary('leakyRelu', x, slope);
export const sigmoid = (x: CpuTensor) => unary('sigmoid', x);
export const tanh = (x: CpuTensor) => unary('tanh', x);
export const addScalar = (x: CpuTensor, s: number) => unary('addScalar', x, s);
export const mulScalar = (x: CpuTensor, s: number) => unary('mulScalar', x, s);
export const clamp = (x: CpuTensor, lo: number, hi: number) => unary('clamp', x, lo, hi);

export function add(a: Operand, b: Operand): CpuTensor {
  if (typeof a === 'number') return unary('addScalar', b as CpuTensor, a);
  if (typeof b === 'number') return unary('addScalar', a, b);
  return binary('add', a, b);
}
export function sub(a: Operand, b: Operand): CpuTensor {
  if (typeof a === 'number') return unary('rsubScalar', b as CpuTensor, a);
  if (typeof b === 'number') return unary('addScalar', a, -b);
  return binary('sub', a, b);
}
export function mul(a: Operand, b: Operand): CpuTensor {
  if (typeof a === 'number') return unary('mulScalar', b as CpuTensor, a);
  if (typeof b === 'number') return unary('mulScalar', a, b);
  return binary('mul', a, b);
}
export function div(a: Operand, b: Operand): CpuTensor {
  if (typeof a === 'number') return unary('rdivScalar', b as CpuTensor, a);
  // The GPU multiplies by 1/b (one rounding more); the twin divides, within tolerance of it.
  if (typeof b === 'number') return unary('mulScalar', a, 1 / b);
  return binary('div', a, b);
}
export function pow(a: CpuTensor, b: Operand): CpuTensor {
  return typeof b === 'number' ? unary('powScalar', a, b) : binary('pow', a, b);
}
export const maximum = (a: CpuTensor, b: CpuTensor) => binary('maximum', a, b);
export const minimum = (a: CpuTensor, b: CpuTensor) => binary('minimum', a, b);

/** u32 masks, 1 where the comparison holds. */
export function compare(name: CompareName, a: CpuTensor, b: Operand): CpuTensor {
  const f = COMPARE[name].cpu;
  if (typeof b === 'number') return mapCpu([a], 'u32', (x) => (f(x, b) ? 1 : 0), name);
  return mapCpu([a, b], 'u32', (x, y) => (f(x, y) ? 1 : 0), name);
}

export function where(cond: CpuTensor, a: CpuTensor, b: CpuTensor): CpuTensor {
  const dtype: CpuDType = a.dtype === 'f64' || b.dtype === 'f64' ? 'f64' : a.dtype;
  return mapCpu([cond, a, b], dtype, (c, x, y) => (c !== 0 ? x : y), 'where');
}

/**
 * WGSL conversions: float → integer truncates toward zero and saturates at the
 * type's range — the part of it that f32 can represent: [-2^31, 2^31 − 128] for
 * i32, [0, 2^32 − 256] for u32 (NaN → 0); i32 ↔ u32 reinterpret the bits.
 */
export function castValue(v: number, from: CpuDType, to: CpuDType): number {
  if (to === 'f32' || to === 'f64') return v;
  if (isFloat(from)) {
    if (Number.isNaN(v)) return 0;
    const t = Math.trunc(v);
    return to === 'i32' ? Math.min(Math.max(t, -2147483648), 2147483520) : Math.min(Math.max(t, 0), 4294967040);
  }
  return to === 'i32' ? v | 0 : v >>> 0;
}

export function cast(x: CpuTensor, to: DType | 'f64'): CpuTensor {
  return mapCpu([x], to, (v) => castValue(v, x.dtype, to), 'cast');
}

export const copy = (x: CpuTensor): CpuTensor => mapCpu([x], x.dtype, (v) => v, 'copy');
