/** The elementwise family's public functions: GPU version, CPU twin and Tensor method (see defineApi). */
import type { DType } from '../../dtype.js';
import type { Tensor } from '../../tensor.js';
import { defineApi } from '../registry.js';
import * as op from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({
  add: { gpu: op.add, twin: twin.add, method: true },
  sub: { gpu: op.sub, twin: twin.sub, method: true },
  mul: { gpu: op.mul, twin: twin.mul, method: true },
  div: { gpu: op.div, twin: twin.div, method: true },
  pow: { gpu: op.pow, twin: twin.pow, method: true },
  maximum: { gpu: op.maximum, twin: twin.maximum, method: true },
  minimum: { gpu: op.minimum, twin: twin.minimum, method: true },
  neg: { gpu: op.neg, twin: twin.neg, method: true },
  exp: { gpu: op.exp, twin: twin.exp, method: true },
  log: { gpu: op.log, twin: twin.log, method: true },
  sqrt: { gpu: op.sqrt, twin: twin.sqrt, method: true },
  rsqrt: { gpu: op.rsqrt, twin: twin.rsqrt, method: true },
  abs: { gpu: op.abs, twin: twin.abs, method: true },
  relu: { gpu: op.relu, twin: twin.relu, method: true },
  leakyRelu: { gpu: op.leakyRelu, twin: twin.leakyRelu, method: true },
  sigmoid: { gpu: op.sigmoid, twin: twin.sigmoid, method: true },
  tanh: { gpu: op.tanh, twin: twin.tanh, method: true },
  clamp: { gpu: op.clamp, twin: twin.clamp, method: true },
  compare: { gpu: op.compare, twin: twin.compare },
  where: { gpu: op.where, twin: twin.where },
  cast: { gpu: op.cast, twin: twin.cast, method: true },
  copy: { gpu: op.copy, twin: twin.copy, method: 'clone' },
});
// Comparisons as methods: t.gt(b) is compare('gt', t, b).
for (const name of Object.keys(op.COMPARE) as op.CompareName[]) {
  defineApi({ [name]: { gpu: (a: Tensor, b: Tensor | number) => op.compare(name, a, b), method: true } });
}

declare module '../../tensor.js' {
  interface Tensor {
    add(b: Tensor | number): Tensor;
    sub(b: Tensor | number): Tensor;
    mul(b: Tensor | number): Tensor;
    div(b: Tensor | number): Tensor;
    pow(b: Tensor | number): Tensor;
    maximum(b: Tensor): Tensor;
    minimum(b: Tensor): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    abs(): Tensor;
    relu(): Tensor;
    leakyRelu(slope?: number): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    clamp(lo: number, hi: number): Tensor;
    eq(b: Tensor | number): Tensor;
    ne(b: Tensor | number): Tensor;
    lt(b: Tensor | number): Tensor;
    le(b: Tensor | number): Tensor;
    gt(b: Tensor | number): Tensor;
    ge(b: Tensor | number): Tensor;
    cast(to: DType): Tensor;
    clone(): Tensor;
  }
}
