/** matmul's public function: GPU version, CPU twin and Tensor method (see defineApi). */
import type { Tensor } from '../../tensor.js';
// The OpSet entries below augment the test vocabulary (type only: no test code ships).
import type {} from '../../testing/ops.js';
import { defineApi } from '../registry.js';
import * as op from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({
  // The twin has no attrs (the fused epilogues are kernel options, not maths).
  matmul: { gpu: (a: Tensor, b: Tensor) => op.matmul(a, b), twin: twin.matmul, method: true },
});

declare module '../../tensor.js' {
  interface Tensor {
    matmul(b: Tensor): Tensor;
  }
}
declare module '../../testing/ops.js' {
  interface OpSet<T> {
    matmul(a: T, b: T): T;
  }
}
