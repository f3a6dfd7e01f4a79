/** CPU twins of softmax and logSoftmax along an axis (max-shifted, accumulated in float64). */
import { normAxis } from '../shape.js';
import { type CpuTensor, at, fromFn, unravel } from './cpu-tensor.js';

function rows(x: CpuTensor, axis: number, f: (row: number[], j: number) => number): CpuTensor {
  const a = normAxis('softmax', axis, x.shape);
  const dtype = x.dtype === 'f64' ? 'f64' : 'f32';
  return fromFn(x.shape, dtype, (i) => {
    const c = unravel(i, x.shape);
    const row: number[] = [];
    for (let j = 0; j < x.shape[a]!; j++) {
      c[a] = j;
      row.push(at(x, c));
    }
    return f(row, unravel(i, x.shape)[a]!);
  });
}

function logSumExp(row: number[]): { m: number; s: number } {
  const m = Math.max(...row);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  return { m, s };
}

export function softmax(x: CpuTensor, axis = -1): CpuTensor {
  return rows(x, axis, (row, j) => {
    const { m, s } = logSumExp(row);
    return Math.exp(row[j]! - m) / s;
  });
}

export function logSoftmax(x: CpuTensor, axis = -1): CpuTensor {
  return rows(x, axis, (row, j) => {
    const { m, s } = logSumExp(row);
    return row[j]! - m - Math.log(s);
  });
}
