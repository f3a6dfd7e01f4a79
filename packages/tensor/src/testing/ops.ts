/**
 * One op vocabulary over two backends: `gpuOps` (the real ops, with autograd) and
 * `cpuOps` (the CPU twins: each op folder's twin.ts). A test writes an expression once as
 * `(o, a, b) => o.sum(o.mul(a, b))` and runs it on both — the forward comparison
 * and the finite-difference gradient check then test the same formula.
 */
import type { DType } from '../dtype.js';
import type { CompareName } from '../ops/elementwise/op.js';
import type { Tensor } from '../tensor.js';
import type { CpuTensor } from '../reference/cpu-tensor.js';
// The package's entry imports every op family's api.ts, which declares the pairs listed here.
import '../index.js';
import { apiEntries } from '../ops/registry.js';

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

/** Every public function declared with a CPU twin (defineApi), on one side. */
function opSet<T>(side: 'gpu' | 'twin'): OpSet<T> {
  const o: Record<string, unknown> = {};
  for (const [name, e] of apiEntries()) if (e.twin) o[name] = side === 'gpu' ? e.gpu : e.twin;
  return o as unknown as OpSet<T>;
}

export const gpuOps: OpSet<Tensor> = opSet('gpu');
export const cpuOps: OpSet<CpuTensor> = opSet('twin');

/** An expression over either backend. */
export type Expr = <T>(o: OpSet<T>, ...xs: T[]) => T;
