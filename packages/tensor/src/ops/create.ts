/**
 * Tensor creation: from arrays (one upload), constant fills and ranges (a kernel,
 * no upload), and seeded random draws (counter-based, reproducible).
 */
import { type DType, BYTES_PER_ELEMENT } from '../dtype.js';
import { runMap } from '../kernels/elementwise.js';
import { runRandom } from '../kernels/random.js';
import { TesseraError, fmtShape } from '../runtime/errors.js';
import { writeBuffer } from '../runtime/queue.js';
import { checkShape, numel } from '../shape.js';
import { Tensor } from '../tensor.js';

export type NestedArray = number | NestedArray[];

function flattenNested(data: NestedArray, shape: number[], out: number[], depth = 0): void {
  if (typeof data === 'number') {
    if (depth !== shape.length) throw new TesseraError('tensor: ragged nested array');
    out.push(data);
    return;
  }
  if (depth === shape.length) shape.push(data.length);
  else if (shape[depth] !== data.length) throw new TesseraError('tensor: ragged nested array');
  for (const d of data) flattenNested(d, shape, out, depth + 1);
}

/** A tensor from a typed array, a flat number array with a shape, or a nested array. */
export function tensor(
  data: ArrayLike<number> | NestedArray,
  shape?: readonly number[],
  dtype?: DType,
): Tensor {
  let flat: ArrayLike<number>;
  let dims: number[];
  if (typeof data === 'number') {
    flat = [data];
    dims = shape ? [...shape] : [];
  } else if (ArrayBuffer.isView(data) || !Array.isArray(data) || data.every((d) => typeof d === 'number')) {
    flat = data as ArrayLike<number>;
    dims = shape ? [...shape] : [flat.length];
  } else {
    const out: number[] = [];
    dims = [];
    flattenNested(data as NestedArray, dims, out);
    flat = out;
    if (shape) dims = [...shape];
  }
  checkShape('tensor', dims);
  if (numel(dims) !== flat.length) {
    throw new TesseraError(`tensor: ${flat.length} values do not fill shape ${fmtShape(dims)} (${numel(dims)} elements)`);
  }
  const dt: DType = dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : 'f32');
  const arr = dt === 'f32' ? Float32Array.from(flat) : dt === 'i32' ? Int32Array.from(flat) : Uint32Array.from(flat);
  const t = Tensor.empty(dims, dt, 'tensor');
  writeBuffer(t.buffer, 0, arr);
  return t;
}

function fill(op: string, shape: readonly number[], value: number, dtype: DType): Tensor {
  checkShape(op, shape);
  if (dtype !== 'f32' && !Number.isInteger(value)) throw new TesseraError(`${op}: value ${value} is not an integer, but the dtype is ${dtype}`);
  const t = Tensor.empty(shape, dtype, op);
  // Integer fills travel as exact integer words (an f32 parameter would round above 2^24).
  runMap({ name: `fill_${dtype}`, expr: 'p0', outType: dtype, paramType: dtype }, [], shape, t.buffer, [value, 0]);
  return t;
}

export const full = (shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor => fill('full', shape, value, dtype);
export const zeros = (shape: readonly number[], dtype: DType = 'f32'): Tensor => fill('zeros', shape, 0, dtype);
export const ones = (shape: readonly number[], dtype: DType = 'f32'): Tensor => fill('ones', shape, 1, dtype);
export const zerosLike = (t: Tensor): Tensor => fill('zerosLike', t.shape, 0, t.dtype);
export const onesLike = (t: Tensor): Tensor => fill('onesLike', t.shape, 1, t.dtype);

/** start, start+step, … below end (above it for a negative step). */
export function arange(start: number, end?: number, step = 1, dtype: DType = 'f32'): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step) || step === 0) {
    throw new TesseraError(`arange: start ${start}, end ${end} and step ${step} must be finite, with a non-zero step`);
  }
  const n = Math.ceil((end - start) / step);
  if (!(n > 0)) throw new TesseraError(`arange: the range ${start}..${end} step ${step} is empty`);
  const t = Tensor.empty([n], dtype, 'arange');
  const exact = dtype !== 'f32' && Number.isInteger(start) && Number.isInteger(step);
  if (exact) {
    // Integer ranges in integer arithmetic (wrapping, so a negative u32 step works too).
    runMap({ name: `arange_${dtype}`, expr: `p0 + p1 * ${dtype}(i)`, outType: dtype, paramType: dtype }, [], [n], t.buffer, [start, step]);
  } else {
    // start + step·i in f32 (i is exact up to 2^24), then converted.
    runMap({ name: `arange_${dtype}`, expr: `p0 + p1 * f32(i)`, outType: dtype }, [], [n], t.buffer, [start, step]);
  }
  return t;
}

let seedState = 0x2545f491;

/** Seeds the global generator; every later rand/randn/dropout draw follows from it. */
export function manualSeed(seed: number): void {
  seedState = seed >>> 0;
}

/** The next per-call seed (splitmix-style step of the global state). */
export function nextSeed(): number {
  seedState = (seedState + 0x9e3779b9) >>> 0;
  let z = seedState;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export function getSeedState(): number {
  return seedState;
}

export interface RandOptions {
  seed?: number;
}

/** Uniform in [lo, hi). */
export function rand(shape: readonly number[], lo = 0, hi = 1, opts: RandOptions = {}): Tensor {
  checkShape('rand', shape);
  if (!(lo < hi) || !Number.isFinite(hi - lo)) throw new TesseraError(`rand: the range [${lo}, ${hi}) is empty or not finite`);
  const t = Tensor.empty(shape, 'f32', 'rand');
  runRandom('uniform', t.buffer, numel(shape), opts.seed ?? nextSeed(), lo, hi);
  return t;
}

/** Normal with the given mean and std. */
export function randn(shape: readonly number[], mean = 0, std = 1, opts: RandOptions = {}): Tensor {
  checkShape('randn', shape);
  if (!(std >= 0) || !Number.isFinite(mean)) throw new TesseraError(`randn: mean ${mean} and std ${std} must be finite, std ≥ 0`);
  const t = Tensor.empty(shape, 'f32', 'randn');
  runRandom('normal', t.buffer, numel(shape), opts.seed ?? nextSeed(), mean, std);
  return t;
}

export { BYTES_PER_ELEMENT };
