/** gather's public functions: GPU version, CPU twin and Tensor method (see defineApi). */
import { defineApi } from '../registry.js';
import * as op from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({
  gather: { gpu: op.gather, twin: twin.gather, method: true },
  indexSelect: { gpu: op.indexSelect, twin: twin.indexSelect, method: true },
  oneHot: { gpu: op.oneHot, twin: twin.oneHot, method: true },
});

declare module '../../tensor.js' {
  interface Tensor {
    gather(axis: number, index: Tensor): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    /** One-hot rows for integer labels (f32, one more dimension). */
    oneHot(nClasses: number): Tensor;
  }
}
