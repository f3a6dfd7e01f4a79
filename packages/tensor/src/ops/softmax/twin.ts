/** CPU twins of softmax and logSoftmax along an axis (max-shifted, accumulated in float64). */
import { contiguousStrides, normAxis, numel } from '../../shape.js';
import { type CpuTensor, allocData, unravel } from '../../reference/cpu-tensor.js';

/** For each row along `axis`: out[row] = f(values of the row). One pass per row, O(n) each. */
function rows(x: CpuTensor, axis: number, f: (row: Float64Array, out: Float64Array) => void): CpuTensor {
  const a = normAxis('softmax', axis, x.shape);
  const n = x.shape[a]!;
  const outStrides = contiguousStrides(x.shape);
  const keptShape = x.shape.map((d, i) => (i === a ? 1 : d));
  const out = allocData(x.dtype === 'f64' ? 'f64' : 'f32', numel(x.shape));
  const row = new Float64Array(n);
  const res = new Float64Array(n);
  for (let r = 0; r < numel(keptShape); r++) {
    const c = unravel(r, keptShape);
    let xo = x.offset;
    let oo = 0;
    c.forEach((v, d) => {
      xo += v * x.strides[d]!;
      oo += v * outStrides[d]!;
    });
    for (let j = 0; j < n; j++) row[j] = x.data[xo + j * x.strides[a]!]!;
    f(row, res);
    for (let j = 0; j < n; j++) out[oo + j * outStrides[a]!] = res[j]!;
  }
  return { data: out, shape: [...x.shape], strides: outStrides, offset: 0, dtype: x.dtype === 'f64' ? 'f64' : 'f32' };
}

function maxSum(row: Float64Array): { m: number; s: number } {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  return { m, s };
}

export function softmax(x: CpuTensor, axis = -1): CpuTensor {
  return rows(x, axis, (row, out) => {
    const { m, s } = maxSum(row);
    row.forEach((v, j) => (out[j] = Math.exp(v - m) / s));
  });
}

export function logSoftmax(x: CpuTensor, axis = -1): CpuTensor {
  return rows(x, axis, (row, out) => {
    const { m, s } = maxSum(row);
    const ls = Math.log(s);
    row.forEach((v, j) => (out[j] = v - m - ls));
  });
}
