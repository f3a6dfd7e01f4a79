/**
 * 2-D pooling of NHWC activations [N, H, W, C]: maxPool2d, avgPool2d (PyTorch's
 * count_include_pad default), adaptiveAvgPool2d and adaptiveMaxPool2d (PyTorch's
 * bins). Max pools save the argmax (flat h·W + w per plane) and route the gradient
 * to it; average pools spread it over each window.
 */
import { runPoolBackward, runPoolForward, type PoolGeometry, type PoolKind } from './kernel.js';
import { fmtShape } from '../../../runtime/errors.js';
import type { Tensor } from '../../../tensor.js';
import { defineOp, type OpFn } from '../../registry.js';
import { newTensor } from '../../util.js';
import { contiguous } from '../../views/op.js';
import { nnError, pair, requireF32 } from '../util.js';

export type Size2 = number | readonly [number, number];

export interface MaxPool2dOptions {
  /** Window size, one number or [kh, kw]. */
  kernel: Size2;
  /** Step between windows; defaults to the kernel size (PyTorch's default). */
  stride?: Size2;
  /** Implicit padding on each side (at most half the kernel); -∞ for max, 0 for average. Default 0. */
  padding?: Size2;
}

export interface AvgPool2dOptions extends MaxPool2dOptions {
  /** Count padded positions in each window's divisor (PyTorch's default, true). */
  countIncludePad?: boolean;
}

function definePool(name: string, kind: PoolKind): OpFn<PoolGeometry> {
  return defineOp<PoolGeometry>({
    name,
    forward(ctx, [x], g) {
      const xc = contiguous(x!);
      const y = newTensor([g.N, g.OH, g.OW, g.C], 'f32', name);
      const idx = kind === 'max' ? newTensor([g.N, g.OH, g.OW, g.C], 'i32', `${name}_argmax`) : null;
      runPoolForward(kind, g, xc.buffer, xc.offset, y.buffer, idx?.buffer ?? null);
      ctx.save({ argmax: idx });
      return y;
    },
    backward(grad, { saved, attrs: g }) {
      const gc = contiguous(grad);
      const dx = newTensor([g.N, g.H, g.W, g.C], 'f32', `${name}_grad`);
      runPoolBackward(kind, g, gc.buffer, gc.offset, saved.argmax?.buffer ?? null, dx.buffer);
      return [dx];
    },
  });
}

const maxPoolOp = definePool('maxPool2d', 'max');
const avgPoolOp = definePool('avgPool2d', 'avg');
const adaptiveMaxPoolOp = definePool('adaptiveMaxPool2d', 'max');
const adaptiveAvgPoolOp = definePool('adaptiveAvgPool2d', 'avg');

function checkInput(op: string, x: Tensor): [number, number, number, number] {
  if (x.rank !== 4) throw nnError(op, `expected an NHWC input [N, H, W, C] (rank 4), got shape ${fmtShape(x.shape)}`);
  requireF32(op, x, 'the input');
  return x.shape as unknown as [number, number, number, number];
}

function fixedGeometry(op: string, x: Tensor, o: MaxPool2dOptions, countIncludePad: boolean): PoolGeometry {
  const [N, H, W, C] = checkInput(op, x);
  if (!o || o.kernel === undefined) throw nnError(op, 'options.kernel is required');
  const [kh, kw] = pair(op, 'kernel', o.kernel, 1);
  const [sh, sw] = pair(op, 'stride', o.stride ?? o.kernel, 1);
  const [ph, pw] = pair(op, 'padding', o.padding ?? 0, 0);
  if (2 * ph > kh || 2 * pw > kw) {
    throw nnError(op, `padding ${fmtShape([ph, pw])} must be at most half the kernel ${fmtShape([kh, kw])}`);
  }
  if (H + 2 * ph < kh || W + 2 * pw < kw) {
    throw nnError(
      op,
      `kernel ${fmtShape([kh, kw])} is larger than the padded input: input ${fmtShape(x.shape)} (H×W ${H}×${W}) with padding ${fmtShape([ph, pw])} is ${H + 2 * ph}×${W + 2 * pw}`,
    );
  }
  const OH = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
  return { N, H, W, C, OH, OW, kh, kw, sh, sw, ph, pw, adaptive: false, countIncludePad };
}

function adaptiveGeometry(op: string, x: Tensor, out: Size2): PoolGeometry {
  const [N, H, W, C] = checkInput(op, x);
  const [OH, OW] = pair(op, 'output size', out, 1);
  return { N, H, W, C, OH, OW, kh: 0, kw: 0, sh: 1, sw: 1, ph: 0, pw: 0, adaptive: true, countIncludePad: true };
}

/** Max over kernel windows of an NHWC input [N, H, W, C] → [N, OH, OW, C], OH = ⌊(H + 2p − k)/s⌋ + 1. */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  return maxPoolOp([x], fixedGeometry('maxPool2d', x, opts, true));
}

/** Mean over kernel windows of an NHWC input; padded zeros count in the divisor unless countIncludePad is false. */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  return avgPoolOp([x], fixedGeometry('avgPool2d', x, opts, opts?.countIncludePad ?? true));
}

/** Mean over PyTorch's adaptive bins of an NHWC input → [N, outH, outW, C]. `out` is a number or [outH, outW]. */
export function adaptiveAvgPool2d(x: Tensor, out: Size2): Tensor {
  return adaptiveAvgPoolOp([x], adaptiveGeometry('adaptiveAvgPool2d', x, out));
}

/** Max over PyTorch's adaptive bins of an NHWC input → [N, outH, outW, C]. */
export function adaptiveMaxPool2d(x: Tensor, out: Size2): Tensor {
  return adaptiveMaxPoolOp([x], adaptiveGeometry('adaptiveMaxPool2d', x, out));
}
