/** flip's public function: GPU version, CPU twin and Tensor method (see defineApi). */
// The OpSet entries below augment the test vocabulary (type only: no test code ships).
import type {} from '../../testing/ops.js';
import { defineApi } from '../registry.js';
import { flip } from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({ flip: { gpu: flip, twin: twin.flip, method: true } });

declare module '../../tensor.js' {
  interface Tensor {
    /** Reverses the order of elements along each of `dims` (torch.flip). */
    flip(dims: readonly number[]): Tensor;
  }
}
declare module '../../testing/ops.js' {
  interface OpSet<T> {
    flip(x: T, dims: readonly number[]): T;
  }
}
