/** CPU twin of flip: out[c] = x[c with c_d → size_d − 1 − c_d for d in dims]. */
import { contiguousStrides, normAxes, numel } from '../../shape.js';
import { type CpuTensor, allocData, unravel } from '../../reference/cpu-tensor.js';

export function flip(x: CpuTensor, dims: readonly number[]): CpuTensor {
  const flips = normAxes('flip', dims, x.shape);
  const n = numel(x.shape);
  const data = allocData(x.dtype, n);
  for (let i = 0; i < n; i++) {
    const c = unravel(i, x.shape);
    let off = x.offset;
    c.forEach((v, d) => (off += (flips.includes(d) ? x.shape[d]! - 1 - v : v) * x.strides[d]!));
    data[i] = x.data[off]!;
  }
  return { data, shape: [...x.shape], strides: contiguousStrides(x.shape), offset: 0, dtype: x.dtype };
}
