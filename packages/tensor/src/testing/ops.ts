/**
 * One op vocabulary over two backends: `gpuOps` (the real ops, with autograd) and
 * `cpuOps` (the CPU twins in reference/). A test writes an expression once as
 * `(o, a, b) => o.sum(o.mul(a, b))` and runs it on both — the forward comparison
 * and the finite-difference gradient check then test the same formula.
 */
import type { DType } from '../dtype.js';
import type { CompareName } from '../ops/elementwise/op.js';
import * as ew from '../ops/elementwise/op.js';
import * as red from '../ops/reduce/op.js';
import * as views from '../ops/views/op.js';
import * as idx from '../ops/gather/op.js';
import * as sm from '../ops/softmax/op.js';
import type { Tensor } from '../tensor.js';
import * as ref from '../reference/index.js';
import type { CpuTensor } from '../reference/cpu-tensor.js';

type Axes = number | number[] | undefined;

export interface OpSet<T> {
  add(a: T | number, b: T | number): T;
  sub(a: T | number, b: T | number): T;
  mul(a: T | number, b: T | number): T;
  div(a: T | number, b: T | number): T;
  pow(a: T, b: T | number): T;
  maximum(a: T, b: T): T;
  minimum(a: T, b: T): T;
  neg(x: T): T;
  exp(x: T): T;
  log(x: T): T;
  sqrt(x: T): T;
  rsqrt(x: T): T;
  abs(x: T): T;
  relu(x: T): T;
  leakyRelu(x: T, slope?: number): T;
  sigmoid(x: T): T;
  tanh(x: T): T;
  clamp(x: T, lo: number, hi: number): T;
  compare(name: CompareName, a: T, b: T | number): T;
  where(cond: T, a: T, b: T): T;
  cast(x: T, to: DType): T;
  copy(x: T): T;
  sum(x: T, axes?: Axes, keepdim?: boolean): T;
  mean(x: T, axes?: Axes, keepdim?: boolean): T;
  max(x: T, axes?: Axes, keepdim?: boolean): T;
  min(x: T, axes?: Axes, keepdim?: boolean): T;
  argmax(x: T, axis?: number, keepdim?: boolean): T;
  argmin(x: T, axis?: number, keepdim?: boolean): T;
  variance(x: T, axes?: Axes, keepdim?: boolean, correction?: number): T;
  reshape(x: T, shape: readonly number[]): T;
  permute(x: T, dims: readonly number[]): T;
  transpose(x: T, d0?: number, d1?: number): T;
  expand(x: T, shape: readonly number[]): T;
  slice(x: T, axis: number, start: number, end?: number, step?: number): T;
  squeeze(x: T, axis?: number): T;
  unsqueeze(x: T, axis: number): T;
  flatten(x: T, startDim?: number): T;
  concat(xs: readonly T[], axis?: number): T;
  stack(xs: readonly T[], axis?: number): T;
  gather(x: T, axis: number, index: T): T;
  indexSelect(x: T, axis: number, index: T): T;
  oneHot(labels: T, nClasses: number): T;
  softmax(x: T, axis?: number): T;
  logSoftmax(x: T, axis?: number): T;
}

export const gpuOps: OpSet<Tensor> = {
  add: ew.add, sub: ew.sub, mul: ew.mul, div: ew.div, pow: ew.pow, maximum: ew.maximum, minimum: ew.minimum,
  neg: ew.neg, exp: ew.exp, log: ew.log, sqrt: ew.sqrt, rsqrt: ew.rsqrt, abs: ew.abs, relu: ew.relu,
  leakyRelu: ew.leakyRelu, sigmoid: ew.sigmoid, tanh: ew.tanh, clamp: ew.clamp, compare: ew.compare,
  where: ew.where, cast: ew.cast, copy: ew.copy,
  sum: red.sum, mean: red.mean, max: red.max, min: red.min, argmax: red.argmax, argmin: red.argmin, variance: red.variance,
  reshape: views.reshape, permute: views.permute, transpose: views.transpose, expand: views.expand, slice: views.slice,
  squeeze: views.squeeze, unsqueeze: views.unsqueeze, flatten: views.flatten, concat: views.concat, stack: views.stack,
  gather: idx.gather, indexSelect: idx.indexSelect, oneHot: idx.oneHot, softmax: sm.softmax, logSoftmax: sm.logSoftmax,
};

export const cpuOps: OpSet<CpuTensor> = {
  add: ref.add, sub: ref.sub, mul: ref.mul, div: ref.div, pow: ref.pow, maximum: ref.maximum, minimum: ref.minimum,
  neg: ref.neg, exp: ref.exp, log: ref.log, sqrt: ref.sqrt, rsqrt: ref.rsqrt, abs: ref.abs, relu: ref.relu,
  leakyRelu: ref.leakyRelu, sigmoid: ref.sigmoid, tanh: ref.tanh, clamp: ref.clamp, compare: ref.compare,
  where: ref.where, cast: ref.cast, copy: ref.copy,
  sum: ref.sum, mean: ref.mean, max: ref.max, min: ref.min, argmax: ref.argmax, argmin: ref.argmin, variance: ref.variance,
  reshape: ref.reshape, permute: ref.permute, transpose: ref.transpose, expand: ref.expand, slice: ref.slice,
  squeeze: ref.squeeze, unsqueeze: ref.unsqueeze, flatten: ref.flatten, concat: ref.concat, stack: ref.stack,
  gather: ref.gather, indexSelect: ref.indexSelect, oneHot: ref.oneHot, softmax: ref.softmax, logSoftmax: ref.logSoftmax,
};

/** An expression over either backend. */
export type Expr = <T>(o: OpSet<T>, ...xs: T[]) => T;
