/** The elementwise family's public functions: GPU version, CPU twin and Tensor method (see defineApi). */
import type { DType } from '../../dtype.js';
import type { CpuTensor } from '../../reference/cpu-tensor.js';
import type { Tensor } from '../../tensor.js';
// The OpSet entries below augment the test vocabulary (type only: no test code ships).
import type {} from '../../testing/ops.js';
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
  leakyRelu: { gpu: op.leakyRelu, twin: twin.leakyRelu, method: true },
  clamp: { gpu: op.clamp, twin: twin.clamp, method: true },
  compare: { gpu: op.compare, twin: twin.compare },
  where: { gpu: op.where, twin: twin.where },
  cast: { gpu: op.cast, twin: twin.cast, method: true },
  copy: { gpu: op.copy, twin: twin.copy, method: 'clone' },
});
// Every UNARY row with `method: true`: its function, its twin (the row's `cpu`), t.name() and o.name(x).
for (const name of Object.keys(op.UNARY_FUNCTIONS) as op.UnaryFunctionName[]) {
  defineApi({ [name]: { gpu: op.UNARY_FUNCTIONS[name], twin: (x: CpuTensor) => twin.unary(name, x), method: true } });
}
// Comparisons as methods: t.gt(b) is compare('gt', t, b).
for (const name of Object.keys(op.COMPARE) as op.CompareName[]) {
  defineApi({ [name]: { gpu: (a: Tensor, b: Tensor | number) => op.compare(name, a, b), method: true } });
}

declare module '../../tensor.js' {
  // The UNARY rows' methods (neg(), exp(), …), typed from the table.
  interface Tensor extends Record<op.UnaryFunctionName, () => Tensor> {
    add(b: Tensor | number): Tensor;
    sub(b: Tensor | number): Tensor;
    mul(b: Tensor | number): Tensor;
    div(b: Tensor | number): Tensor;
    pow(b: Tensor | number): Tensor;
    maximum(b: Tensor): Tensor;
    minimum(b: Tensor): Tensor;
    leakyRelu(slope?: number): Tensor;
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
declare module '../../testing/ops.js' {
  // The UNARY rows' entries (o.neg(x), o.exp(x), …), typed from the table.
  interface OpSet<T> extends Record<op.UnaryFunctionName, (x: T) => T> {}
}
