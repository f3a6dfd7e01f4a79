/**
 * Shape ops that share storage where the layout allows: reshape, permute/transpose,
 * expand, slice, squeeze/unsqueeze. Reshape of a non-contiguous tensor copies.
 * Also concat (writes each input into a slice of one output).
 */
import { runMap } from '../../kernels/elementwise.js';
import { TesseraError, fmtShape } from '../../runtime/errors.js';
import { checkShape, isContiguous, normAxis, numel } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { defineOp } from '../registry.js';
import { tidy } from '../../autograd/scope.js';
import { newTensor, operand, requireSameDtype } from '../util.js';
import { copy } from '../elementwise/op.js';
import { sumToShape } from '../reduce/op.js';

function inferShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw new TesseraError(`${op}: only one dimension can be -1 in ${fmtShape(shape)}`);
  if (free >= 0) {
    const rest = out.reduce((p, d, i) => (i === free ? p : p * d), 1);
    if (rest === 0 || x.size % rest !== 0) throw new TesseraError(`${op}: cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    out[free] = x.size / rest;
  }
  checkShape(op, out);
  if (numel(out) !== x.size) {
    throw new TesseraError(`${op}: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)} (${numel(out)} elements)`);
  }
  return out;
}

const reshapeOp = defineOp<number[]>({
  name: 'reshape',
  forward(_c, [x], shape) {
    const src = x!.isContiguous ? x! : copy(x!);
    return src.view(shape, undefined, src.offset);
  },
  backward: (g, { inputs: [x] }) => [reshape(g, x!.shape)],
});

/** Same elements, new shape (one dimension may be -1). A view when the tensor is contiguous. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape('reshape', x, shape);
  return reshapeOp([x], s);
}

const permuteOp = defineOp<number[]>({
  name: 'permute',
  forward(_c, [x], dims) {
    return x!.view(
      dims.map((d) => x!.shape[d]!),
      dims.map((d) => x!.strides[d]!),
      x!.offset,
    );
  },
  backward(g, { attrs }) {
    const inv = new Array<number>(attrs.length);
    attrs.forEach((d, i) => (inv[d] = i));
    return [permute(g, inv)];
  },
});

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.rank) throw new TesseraError(`permute: ${fmtShape(dims)} does not list the ${x.rank} dimensions of ${fmtShape(x.shape)}`);
  const norm = dims.map((d) => normAxis('permute', d, x.shape));
  if (new Set(norm).size !== norm.length) throw new TesseraError(`permute: repeated dimension in ${fmtShape(dims)}`);
  return permuteOp([x], norm);
}

export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  const a = normAxis('transpose', d0, x.shape);
  const b = normAxis('transpose', d1, x.shape);
  const dims = [...Array(x.rank).keys()];
  dims[a] = b;
  dims[b] = a;
  return permuteOp([x], dims);
}

const expandOp = defineOp<number[]>({
  name: 'expand',
  forward(_c, [x], shape) {
    const lead = shape.length - x!.rank;
    const strides = shape.map((d, i) => {
      if (i < lead) return 0;
      const src = x!.shape[i - lead]!;
      return src === 1 && d !== 1 ? 0 : x!.strides[i - lead]!;
    });
    return x!.view(shape, strides, x!.offset);
  },
  backward: (g, { inputs: [x] }) => [sumToShape(g, x!.shape)],
});

/** Broadcasts size-1 dimensions (and new leading ones) to `shape` without copying. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  const fail = () => new TesseraError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  if (lead < 0) throw fail();
  // -1 keeps an existing dimension; new leading dimensions need a size.
  const out = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  if (out.some((d) => !Number.isInteger(d) || d < 1)) throw fail();
  if (x.shape.some((d, i) => d !== 1 && d !== out[i + lead])) throw fail();
  return expandOp([x], out);
}

export interface SliceAttrs {
  axis: number;
  start: number;
  end: number;
  step: number;
}

const sliceOp = defineOp<SliceAttrs>({
  name: 'slice',
  forward(_c, [x], { axis, start, end, step }) {
    const shape = [...x!.shape];
    shape[axis] = Math.ceil((end - start) / step);
    const strides = [...x!.strides];
    strides[axis] = x!.strides[axis]! * step;
    return x!.view(shape, strides, x!.offset + start * x!.strides[axis]!);
  },
  backward(g, { inputs: [x], attrs }) {
    const out = newTensor(x!.shape, 'f32', 'slice_grad');
    runMap({ name: 'fill', expr: 'p0', outType: 'f32' }, [], x!.shape, out.buffer, [0, 0]);
    const strides = [...out.strides];
    strides[attrs.axis] = out.strides[attrs.axis]! * attrs.step;
    runMap({ name: 'copy', expr: 'x0', outType: 'f32' }, [operand(g)], g.shape, {
      buffer: out.buffer,
      offset: attrs.start * out.strides[attrs.axis]!,
      strides,
    });
    return [out];
  },
});

/** Elements start ≤ i < end (step apart) along one axis, as a view. Negative indices count from the end. */
export function slice(x: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  const a = normAxis('slice', axis, x.shape);
  const n = x.shape[a]!;
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) {
    throw new TesseraError(`slice: bounds ${start}..${end} of axis ${axis} must be integers (shape ${fmtShape(x.shape)})`);
  }
  const s = Math.min(Math.max(start < 0 ? start + n : start, 0), n);
  const e = Math.min(Math.max(end === undefined ? n : end < 0 ? end + n : end, 0), n);
  if (!Number.isInteger(step) || step < 1) throw new TesseraError(`slice: step must be a positive integer, got ${step}`);
  if (e <= s) throw new TesseraError(`slice: range ${start}..${end} of axis ${axis} (size ${n}) is empty`);
  return sliceOp([x], { axis: a, start: s, end: e, step });
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.rank + 1 : axis;
  if (!Number.isInteger(a) || a < 0 || a > x.rank) {
    throw new TesseraError(`unsqueeze: axis ${axis} is out of range for shape ${fmtShape(x.shape)} (a new axis goes at 0..${x.rank})`);
  }
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis('squeeze', axis, x.shape);
  if (x.shape[a] !== 1) return reshape(x, x.shape);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

export function flatten(x: Tensor, startDim = 1): Tensor {
  const s = normAxis('flatten', startDim, x.shape);
  return reshape(x, [...x.shape.slice(0, s), -1]);
}

const concatOp = defineOp<number>({
  name: 'concat',
  forward(_c, xs, axis) {
    const dt = requireSameDtype('concat', ...xs);
    const shape = [...xs[0]!.shape];
    shape[axis] = xs.reduce((p, t) => p + t.shape[axis]!, 0);
    const out = newTensor(shape, dt, 'concat');
    let at = 0;
    for (const t of xs) {
      runMap({ name: 'copy', expr: 'x0', outType: dt }, [operand(t)], t.shape, {
        buffer: out.buffer,
        offset: at * out.strides[axis]!,
        strides: out.strides,
      });
      at += t.shape[axis]!;
    }
    return out;
  },
  backward(g, { inputs, attrs: axis }) {
    let at = 0;
    return inputs.map((t) => {
      const n = t.shape[axis]!;
      const part = slice(g, axis, at, at + n);
      at += n;
      return copy(part);
    });
  },
});

/** Joins tensors along an existing axis. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new TesseraError('concat: no tensors given');
  const a = normAxis('concat', axis, xs[0]!.shape);
  for (const t of xs) {
    if (t.rank !== xs[0]!.rank || t.shape.some((d, i) => i !== a && d !== xs[0]!.shape[i])) {
      throw new TesseraError(`concat: shapes ${xs.map((x) => fmtShape(x.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  return concatOp([...xs], a);
}

/** Stacks tensors of one shape along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new TesseraError('stack: no tensors given');
  if (xs.some((t) => t.rank !== xs[0]!.rank || t.shape.some((d, i) => d !== xs[0]!.shape[i]))) {
    throw new TesseraError(`stack: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} differ; stacked tensors need one shape`);
  }
  return tidy(() => concat(xs.map((t) => unsqueeze(t, axis)), axis));
}

export function contiguous(x: Tensor): Tensor {
  return isContiguous(x.shape, x.strides) ? x : copy(x);
}
