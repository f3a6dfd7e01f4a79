/**
 * Reductions over any axes with keepdim: sum, mean, max, min, argmax, argmin, var.
 * Backward of sum/mean broadcasts the gradient back; max/min route it to the
 * elements equal to the result (split evenly on ties, like torch.amax), and where the
 * result is NaN to the NaNs (like torch.max: split evenly between them).
 */
import { runReduce, type ReduceKind } from '../../kernels/reduce.js';
import { normAxes, sameShape } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { defineOp } from '../registry.js';
import { tidy } from '../../autograd/scope.js';
import { newTensor, requireDtype } from '../util.js';
import { TesseraError } from '../../runtime/errors.js';
import { isNanWgsl } from '../../kernels/wgsl-float.js';
import { mapKernel, mul, sub, mulScalar } from '../elementwise/op.js';
import { expand, reshape } from '../views/op.js';

export interface ReduceAttrs {
  axes: number[];
  keepdim: boolean;
}

function outShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

function reduceInto(kind: ReduceKind, x: Tensor, a: ReduceAttrs, scale = 1): Tensor {
  const out = newTensor(outShape(x.shape, a.axes, a.keepdim), kind.startsWith('arg') ? 'i32' : x.dtype, `reduce_${kind}`);
  runReduce(kind, x, a.axes, out.buffer, scale);
  return out;
}

/** The gradient of a reduction, reshaped to keepdim form and broadcast to the input's shape. */
function spread(g: Tensor, x: Tensor, a: ReduceAttrs): Tensor {
  const kept = reshape(g, outShape(x.shape, a.axes, true));
  return expand(kept, x.shape);
}

const sumOp = defineOp<ReduceAttrs>({
  name: 'sum',
  forward: (_c, [x], a) => reduceInto('sum', x!, a),
  backward: (g, { inputs: [x], attrs }) => [spread(g, x!, attrs)],
});

const meanOp = defineOp<ReduceAttrs>({
  name: 'mean',
  forward(_c, [x], a) {
    requireDtype('mean', x!, 'f32');
    const n = a.axes.reduce((p, ax) => p * x!.shape[ax]!, 1);
    return reduceInto('sum', x!, a, 1 / n);
  },
  backward(g, { inputs: [x], attrs }) {
    const n = attrs.axes.reduce((p, ax) => p * x!.shape[ax]!, 1);
    return [mulScalar(spread(g, x!, attrs), 1 / n)];
  },
});

function extremum(name: 'max' | 'min') {
  return defineOp<ReduceAttrs>({
    name,
    forward: (_c, [x], a) => reduceInto(name, x!, a),
    backward(g, { inputs: [x], output, attrs }) {
      const y = spread(output, x!, attrs);
      const mask = mapKernel(`${name}_mask`, `select(0.0, 1.0, x0 == x1 || (${isNanWgsl('x0')} && ${isNanWgsl('x1')}))`, [x!, y], 'f32');
      const count = reduceInto('sum', mask, { axes: attrs.axes, keepdim: true });
      const gs = spread(g, x!, attrs);
      return [mapKernel(`${name}_grad`, 'x0 * x1 / x2', [gs, mask, count], 'f32')];
    },
  });
}
const maxOp = extremum('max');
const minOp = extremum('min');

function argOp(name: 'argmax' | 'argmin') {
  return defineOp<ReduceAttrs>({ name, forward: (_c, [x], a) => reduceInto(name, x!, a) });
}
const argmaxOp = argOp('argmax');
const argminOp = argOp('argmin');

type Axes = number | number[] | undefined;
const attrs = (op: string, x: Tensor, axes: Axes, keepdim: boolean): ReduceAttrs => ({
  axes: normAxes(op, axes, x.shape),
  keepdim,
});

export const sum = (x: Tensor, axes?: Axes, keepdim = false): Tensor => sumOp([x], attrs('sum', x, axes, keepdim));
export const mean = (x: Tensor, axes?: Axes, keepdim = false): Tensor => meanOp([x], attrs('mean', x, axes, keepdim));
export const max = (x: Tensor, axes?: Axes, keepdim = false): Tensor => maxOp([x], attrs('max', x, axes, keepdim));
export const min = (x: Tensor, axes?: Axes, keepdim = false): Tensor => minOp([x], attrs('min', x, axes, keepdim));

function argReduce(name: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepdim: boolean): Tensor {
  const op = name === 'argmax' ? argmaxOp : argminOp;
  if (axis !== undefined) return op([x], attrs(name, x, axis, keepdim));
  // Over the flattened tensor: the index is a flat (row-major) one.
  x.assertAlive(name);
  return tidy(() => {
    const r = op([reshape(x, [x.size])], { axes: [0], keepdim: false });
    return keepdim ? reshape(r, x.shape.map(() => 1)) : r;
  });
}

/** Index of the largest element along one axis (or over the flattened tensor), first on ties; i32. */
export const argmax = (x: Tensor, axis?: number, keepdim = false): Tensor => argReduce('argmax', x, axis, keepdim);
/** Index of the smallest element along one axis (or over the flattened tensor), first on ties; i32. */
export const argmin = (x: Tensor, axis?: number, keepdim = false): Tensor => argReduce('argmin', x, axis, keepdim);

/** Variance with Bessel's correction by default (correction = 1), composed from primitives. */
export function variance(x: Tensor, axes?: Axes, keepdim = false, correction = 1): Tensor {
  requireDtype('var', x, 'f32');
  const a = attrs('var', x, axes, true);
  const n = a.axes.reduce((p, ax) => p * x.shape[ax]!, 1);
  if (n - correction <= 0) {
    throw new TesseraError(`var: ${n} element(s) per group over axes ${JSON.stringify(a.axes)} of shape [${x.shape.join(', ')}] leave no degrees of freedom with correction ${correction}`);
  }
  return tidy(() => {
    const d = sub(x, meanOp([x], a));
    return mulScalar(sumOp([mul(d, d)], { axes: a.axes, keepdim }), 1 / (n - correction));
  });
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tidy(() => reshape(reduceInto('sum', g, { axes, keepdim: true }), shape));
}
