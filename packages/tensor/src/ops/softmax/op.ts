/**
 * softmax and logSoftmax along one axis: one fused, numerically stable row kernel
 * each way (kernel.ts), so a backward is one dispatch, not a chain of
 * reductions and broadcasts. Backwards use the forward's output, which the graph
 * keeps alive: softmax gx = y·(g − Σ g·y), logSoftmax gx = g − exp(y)·Σ g.
 */
import { runSoftmax, runSoftmaxBackward, type RowOperand, type SoftmaxKind } from './kernel.js';
import { TesseraError } from '../../runtime/errors.js';
import { normAxis } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { defineOp } from '../registry.js';
import { newTensor, requireDtype } from '../util.js';

const row = (t: Tensor): RowOperand => ({ buffer: t.buffer, offset: t.offset, strides: t.strides });

function defineSoftmax(kind: SoftmaxKind) {
  return defineOp<number>({
    name: kind,
    forward(_c, [x], axis) {
      const out = newTensor(x!.shape, 'f32', kind);
      runSoftmax(kind, x!.shape, axis, row(x!), row(out));
      return out;
    },
    backward(g, { inputs: [x], output, attrs: axis }) {
      const gx = newTensor(x!.shape, 'f32', `${kind}_grad`);
      runSoftmaxBackward(kind, x!.shape, axis, row(g), row(output), row(gx));
      return [gx];
    },
  });
}

const softmaxOp = defineSoftmax('softmax');
const logSoftmaxOp = defineSoftmax('logSoftmax');

function axisOf(op: string, x: Tensor, axis: number): number {
  requireDtype(op, x, 'f32');
  if (x.rank === 0) throw new TesseraError(`${op}: x must have at least one dimension`);
  return normAxis(op, axis, x.shape);
}

/** exp(x) / Σ exp(x) along `axis` (default: the last). */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxOp([x], axisOf('softmax', x, axis));
/** log(softmax(x)) along `axis`, computed as x − max − log Σ exp(x − max). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => logSoftmaxOp([x], axisOf('logSoftmax', x, axis));
