/** The reductions' public functions: GPU version, CPU twin and Tensor method (see defineApi). */
import { defineApi } from '../registry.js';
import * as op from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({
  sum: { gpu: op.sum, twin: twin.sum, method: true },
  mean: { gpu: op.mean, twin: twin.mean, method: true },
  max: { gpu: op.max, twin: twin.max, method: true },
  min: { gpu: op.min, twin: twin.min, method: true },
  argmax: { gpu: op.argmax, twin: twin.argmax, method: true },
  argmin: { gpu: op.argmin, twin: twin.argmin, method: true },
  variance: { gpu: op.variance, twin: twin.variance, method: 'var' },
});

type Axes = number | number[] | undefined;

declare module '../../tensor.js' {
  interface Tensor {
    sum(axes?: Axes, keepdim?: boolean): Tensor;
    mean(axes?: Axes, keepdim?: boolean): Tensor;
    max(axes?: Axes, keepdim?: boolean): Tensor;
    min(axes?: Axes, keepdim?: boolean): Tensor;
    argmax(axis?: number, keepdim?: boolean): Tensor;
    argmin(axis?: number, keepdim?: boolean): Tensor;
    var(axes?: Axes, keepdim?: boolean, correction?: number): Tensor;
  }
}
