/**
 * CPU twins of the view ops (reshape, permute/transpose, expand, slice,
 * squeeze/unsqueeze, flatten) and of concat/stack. Views share the data array and
 * change shape/strides/offset, exactly as on the GPU.
 */
import { contiguousStrides, normAxis, numel } from '../../shape.js';
import { type CpuTensor, allocData, forEachOffset, isContiguousCpu, toDense } from '../../reference/cpu-tensor.js';

export function reshape(x: CpuTensor, shape: readonly number[]): CpuTensor {
  const out = [...shape];
  const free = out.indexOf(-1);
  const n = numel(x.shape);
  if (free >= 0) out[free] = n / out.reduce((p, d, i) => (i === free ? p : p * d), 1);
  if (numel(out) !== n || out.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`reshape: cannot reshape [${x.shape.join(', ')}] into [${shape.join(', ')}]`);
  }
  const src = isContiguousCpu(x) ? x : toDense(x);
  return { ...src, shape: out, strides: contiguousStrides(out) };
}

export function permute(x: CpuTensor, dims: readonly number[]): CpuTensor {
  const d = dims.map((a) => normAxis('permute', a, x.shape));
  return { ...x, shape: d.map((a) => x.shape[a]!), strides: d.map((a) => x.strides[a]!) };
}

export function transpose(x: CpuTensor, d0 = -2, d1 = -1): CpuTensor {
  const a = normAxis('transpose', d0, x.shape);
  const b = normAxis('transpose', d1, x.shape);
  const dims = [...x.shape.keys()];
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

export function expand(x: CpuTensor, shape: readonly number[]): CpuTensor {
  const lead = shape.length - x.shape.length;
  const out = shape.map((d, i) => (d === -1 ? x.shape[i - lead]! : d));
  const strides = out.map((d, i) => {
    if (i < lead) return 0;
    const s = x.shape[i - lead]!;
    if (s !== 1 && s !== d) throw new Error(`expand: cannot expand [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
    return s === 1 && d !== 1 ? 0 : x.strides[i - lead]!;
  });
  return { ...x, shape: out, strides };
}

export function slice(x: CpuTensor, axis: number, start: number, end?: number, step = 1): CpuTensor {
  const a = normAxis('slice', axis, x.shape);
  const n = x.shape[a]!;
  const s = Math.min(Math.max(start < 0 ? start + n : start, 0), n);
  const e = Math.min(Math.max(end === undefined ? n : end < 0 ? end + n : end, 0), n);
  const shape = [...x.shape];
  shape[a] = Math.ceil((e - s) / step);
  const strides = [...x.strides];
  strides[a] = x.strides[a]! * step;
  return { ...x, shape, strides, offset: x.offset + s * x.strides[a]! };
}

export function unsqueeze(x: CpuTensor, axis: number): CpuTensor {
  const a = axis < 0 ? axis + x.shape.length + 1 : axis;
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: CpuTensor, axis?: number): CpuTensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.shape);
  return x.shape[a] === 1 ? reshape(x, x.shape.filter((_, i) => i !== a)) : x;
}

export function flatten(x: CpuTensor, startDim = 1): CpuTensor {
  const s = normAxis('flatten', startDim, x.shape);
  return reshape(x, [...x.shape.slice(0, s), -1]);
}

export const contiguous = (x: CpuTensor): CpuTensor => (isContiguousCpu(x) ? x : toDense(x));

export function concat(xs: readonly CpuTensor[], axis = 0): CpuTensor {
  const a = normAxis('concat', axis, xs[0]!.shape);
  const shape = [...xs[0]!.shape];
  shape[a] = xs.reduce((p, t) => p + t.shape[a]!, 0);
  const dtype = xs.some((t) => t.dtype === 'f64') ? 'f64' : xs[0]!.dtype;
  const data = allocData(dtype, numel(shape));
  const strides = contiguousStrides(shape);
  let at = 0;
  for (const t of xs) {
    // Write t into the slice [at, at + t.shape[a]) of the output along the axis.
    const tmp: number[] = [];
    forEachOffset(t.shape, t.strides, t.offset, (off) => tmp.push(t.data[off]!));
    forEachOffset(t.shape, strides, at * strides[a]!, (off, i) => (data[off] = tmp[i]!));
    at += t.shape[a]!;
  }
  return { data, shape, strides, offset: 0, dtype };
}

export function stack(xs: readonly CpuTensor[], axis = 0): CpuTensor {
  return concat(xs.map((t) => unsqueeze(t, axis)), axis);
}
