/**
 * CPU twins of the index ops: gather, indexSelect, oneHot. Out-of-range indices
 * throw at once here (the GPU clamps them and reports at the next readback).
 */
import { normAxis, numel } from '../../shape.js';
import { type CpuTensor, at, fromFn, unravel } from '../../reference/cpu-tensor.js';

function checkIndex(op: string, j: number, size: number): number {
  if (!Number.isInteger(j) || j < 0 || j >= size) throw new Error(`${op}: index ${j} is out of range for size ${size}`);
  return j;
}

export function gather(x: CpuTensor, axis: number, index: CpuTensor): CpuTensor {
  const a = normAxis('gather', axis, x.shape);
  return fromFn(index.shape, x.dtype, (i) => {
    const c = unravel(i, index.shape);
    c[a] = checkIndex('gather', at(index, c), x.shape[a]!);
    return at(x, c);
  });
}

export function indexSelect(x: CpuTensor, axis: number, index: CpuTensor): CpuTensor {
  const a = normAxis('indexSelect', axis, x.shape);
  const shape = x.shape.map((d, i) => (i === a ? numel(index.shape) : d));
  return fromFn(shape, x.dtype, (i) => {
    const c = unravel(i, shape);
    c[a] = checkIndex('indexSelect', at(index, [c[a]!]), x.shape[a]!);
    return at(x, c);
  });
}

export function oneHot(labels: CpuTensor, nClasses: number): CpuTensor {
  const shape = [...labels.shape, nClasses];
  return fromFn(shape, 'f32', (i) => {
    const c = unravel(i, shape);
    const l = checkIndex('oneHot', at(labels, c.slice(0, -1)), nClasses);
    return l === c[c.length - 1] ? 1 : 0;
  });
}
