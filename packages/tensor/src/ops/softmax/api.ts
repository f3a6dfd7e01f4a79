/** softmax's public functions: GPU version, CPU twin and Tensor method (see defineApi). */
import { defineApi } from '../registry.js';
import { logSoftmax, softmax } from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({
  softmax: { gpu: softmax, twin: twin.softmax, method: true },
  logSoftmax: { gpu: logSoftmax, twin: twin.logSoftmax, method: true },
});

declare module '../../tensor.js' {
  interface Tensor {
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
  }
}
