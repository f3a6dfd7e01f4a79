/**
 * Index ops: gather (PyTorch's torch.gather), indexSelect and oneHot.
 *
 * Index bounds: index tensors live on the device, and checking their values at the
 * call would need a readback (a stall per op). So the kernels clamp bad indices
 * (never reading out of bounds) and flag them; the next readback or sync() throws
 * a TesseraError naming the op, the shapes and the bad value (runtime/checks.ts).
 * Everything knowable from shapes and dtypes is checked here, at the call.
 */
import { runGather, runGatherBackward, runOneHot, type StridedRef } from './kernel.js';
import { checkSlot } from '../../runtime/checks.js';
import { TesseraError, fmtShape } from '../../runtime/errors.js';
import { normAxis } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { defineOp } from '../registry.js';
import { tidy } from '../../autograd/scope.js';
import { newTensor } from '../util.js';
import { expand, reshape } from '../views/op.js';

const ref = (t: Tensor): StridedRef => ({ buffer: t.buffer, dtype: t.dtype, offset: t.offset, shape: t.shape, strides: t.strides });

interface GatherAttrs {
  axis: number;
  /** What the user called (gather or indexSelect) and the index shape they passed, for messages. */
  op: string;
  userIndexShape: readonly number[];
  xShape: readonly number[];
}

function describeBad(a: GatherAttrs, dtype: string, backward = false) {
  return (bad: number) =>
    `${a.op}${backward ? ' (backward)' : ''}: index ${dtype === 'u32' ? bad >>> 0 : bad} is out of range for axis ${a.axis} ` +
    `of size ${a.xShape[a.axis]} (x ${fmtShape(a.xShape)}, index ${fmtShape(a.userIndexShape)})`;
}

const gatherOp = defineOp<GatherAttrs>({
  name: 'gather',
  forward(_c, [x, index], a) {
    const out = newTensor(index!.shape, x!.dtype, 'gather');
    runGather(ref(x!), ref(index!), a.axis, out.buffer, checkSlot(a.op, describeBad(a, index!.dtype)));
    return out;
  },
  backward(g, { inputs: [x, index], attrs: a }) {
    const gx = newTensor(x!.shape, 'f32', 'gather_grad');
    runGatherBackward(x!.shape, ref(g), ref(index!), a.axis, gx.buffer, checkSlot(a.op, describeBad(a, index!.dtype, true)));
    return [gx, null];
  },
});

function requireIndex(op: string, index: Tensor): void {
  if (index.dtype === 'f32') throw new TesseraError(`${op}: the index ${fmtShape(index.shape)} must be i32 or u32, got f32`);
}

/**
 * out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (likewise for other axes): the
 * output has index's shape; index has x's rank and is no larger than x outside `axis`.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  requireIndex('gather', index);
  if (x.rank === 0) throw new TesseraError('gather: x must have at least one dimension');
  const ax = normAxis('gather', axis, x.shape);
  if (index.rank !== x.rank || index.shape.some((d, i) => i !== ax && d > x.shape[i]!)) {
    throw new TesseraError(
      `gather: index ${fmtShape(index.shape)} must have the rank of x ${fmtShape(x.shape)} and be no larger outside axis ${axis}`,
    );
  }
  return gatherOp([x, index], { axis: ax, op: 'gather', userIndexShape: index.shape, xShape: x.shape });
}

/** Picks the entries `index` (1-D) along `axis`: out.shape[axis] = index.size, other dimensions as x's. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  requireIndex('indexSelect', index);
  if (x.rank === 0) throw new TesseraError('indexSelect: x must have at least one dimension');
  const ax = normAxis('indexSelect', axis, x.shape);
  if (index.rank !== 1) throw new TesseraError(`indexSelect: the index must be 1-D, got shape ${fmtShape(index.shape)}`);
  // A gather whose index is the 1-D index broadcast over x's other dimensions (a view, no copy).
  const outShape = x.shape.map((d, i) => (i === ax ? index.size : d));
  // The index views are freed with the scope (the graph holds them if out needs them for backward).
  return tidy(() => {
    const wide = expand(reshape(index, x.shape.map((_, i) => (i === ax ? index.size : 1))), outShape);
    return gatherOp([x, wide], { axis: ax, op: 'indexSelect', userIndexShape: index.shape, xShape: x.shape });
  });
}

const oneHotOp = defineOp<number>({
  name: 'oneHot',
  forward(_c, [labels], classes) {
    const src = labels!.isContiguous ? labels! : labels!.contiguous();
    const out = newTensor([...labels!.shape, classes], 'f32', 'one_hot');
    const describe = (bad: number) =>
      `oneHot: label ${labels!.dtype === 'u32' ? bad >>> 0 : bad} is out of range for ${classes} classes (labels ${fmtShape(labels!.shape)})`;
    runOneHot({ buffer: src.buffer, dtype: src.dtype, offset: src.offset }, labels!.size, classes, out.buffer, checkSlot('oneHot', describe));
    return out;
  },
});

/** f32 [...labels.shape, nClasses] with 1 at each label; out-of-range labels give a zero row and an error at the next readback. */
export function oneHot(labels: Tensor, nClasses: number): Tensor {
  requireIndex('oneHot', labels);
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new TesseraError(`oneHot: nClasses must be a positive integer, got ${nClasses}`);
  return oneHotOp([labels], nClasses);
}
