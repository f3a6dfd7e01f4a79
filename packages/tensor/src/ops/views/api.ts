/** The view ops' public functions: GPU version, CPU twin and Tensor method (see defineApi). */
import { defineApi } from '../registry.js';
import * as op from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({
  reshape: { gpu: op.reshape, twin: twin.reshape, method: true },
  permute: { gpu: op.permute, twin: twin.permute, method: true },
  transpose: { gpu: op.transpose, twin: twin.transpose, method: true },
  expand: { gpu: op.expand, twin: twin.expand, method: true },
  slice: { gpu: op.slice, twin: twin.slice, method: true },
  squeeze: { gpu: op.squeeze, twin: twin.squeeze, method: true },
  unsqueeze: { gpu: op.unsqueeze, twin: twin.unsqueeze, method: true },
  flatten: { gpu: op.flatten, twin: twin.flatten, method: true },
  contiguous: { gpu: op.contiguous, twin: twin.contiguous, method: true },
  concat: { gpu: op.concat, twin: twin.concat },
  stack: { gpu: op.stack, twin: twin.stack },
});

declare module '../../tensor.js' {
  interface Tensor {
    reshape(shape: readonly number[]): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(d0?: number, d1?: number): Tensor;
    expand(shape: readonly number[]): Tensor;
    slice(axis: number, start: number, end?: number, step?: number): Tensor;
    squeeze(axis?: number): Tensor;
    unsqueeze(axis: number): Tensor;
    flatten(startDim?: number): Tensor;
  }
}
