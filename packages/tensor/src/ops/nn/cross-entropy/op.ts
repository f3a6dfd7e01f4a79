/**
 * Softmax cross-entropy with optional label smoothing, fused: one kernel for the
 * forward (log-sum-exp, per-sample loss, reduction) and one for the backward
 * (softmax − smoothed one-hot). See kernel.ts.
 */
import { runCrossEntropyBackward, runCrossEntropyForward, type Reduction } from './kernel.js';
import { gpu } from '../../../runtime/device.js';
import { TesseraError, fmtShape } from '../../../runtime/errors.js';
import { STORAGE_USAGE } from '../../../runtime/pool.js';
import { readBuffer, writeBuffer } from '../../../runtime/queue.js';
import { Tensor } from '../../../tensor.js';
import { tensor } from '../../create.js';
import { defineOp } from '../../registry.js';
import { tidy } from '../../../autograd/scope.js';
import { newTensor } from '../../util.js';
import { contiguous } from '../../views/op.js';
import { nnError } from '../util.js';

export type { Reduction };

export interface CrossEntropyOptions {
  /** 'mean' (default) and 'sum' give a scalar (shape []); 'none' gives the per-sample losses [N]. */
  reduction?: Reduction;
  /**
   * ε in [0, 1): loss = (1 − ε)·nll + ε·mean_c(−log p_c), fastai's LabelSmoothingCrossEntropy
   * (the same as PyTorch's cross_entropy(label_smoothing = ε)). Default 0.
   */
  labelSmoothing?: number;
}

interface XentAttrs {
  N: number;
  C: number;
  eps: number;
  reduction: Reduction;
}

// [count of bad labels, first bad sample, a bad label, C of that call], written by the forward kernel.
let status: GPUBuffer | undefined;
let statusDevice: GPUDevice | undefined;
const STATUS_RESET = new Uint32Array([0, 0xffffffff, 0, 0]);

function statusBuffer(): GPUBuffer {
  const { device } = gpu();
  if (!status || statusDevice !== device) {
    status = device.createBuffer({ size: 16, usage: STORAGE_USAGE, label: 'softmax_xent_status' });
    statusDevice = device;
    writeBuffer(status, 0, STATUS_RESET);
  }
  return status;
}

const crossEntropyOp = defineOp<XentAttrs>({
  name: 'softmaxCrossEntropy',
  forward(ctx, [z, y], a) {
    const zc = contiguous(z!);
    const yc = contiguous(y!);
    const loss = newTensor(a.reduction === 'none' ? [a.N] : [], 'f32', 'softmax_xent');
    const lse = newTensor([a.N], 'f32', 'softmax_xent_lse');
    runCrossEntropyForward({
      z: zc.buffer,
      zOff: zc.offset,
      y: yc.buffer,
      yOff: yc.offset,
      N: a.N,
      C: a.C,
      eps: a.eps,
      reduction: a.reduction,
      loss: loss.buffer,
      lse: lse.buffer,
      status: statusBuffer(),
    });
    // With the dense copies of logits/labels when the inputs were views.
    ctx.save({ lse, zc: zc !== z ? zc : null, yc: yc !== y ? yc : null });
    return loss;
  },
  backward(grad, { inputs: [z, y], saved, attrs: a }) {
    const lse = saved.lse!;
    const zc = saved.zc ?? z!;
    const yc = saved.yc ?? y!;
    const dz = newTensor([a.N, a.C], 'f32', 'softmax_xent_grad');
    runCrossEntropyBackward({
      z: zc.buffer,
      zOff: zc.offset,
      y: yc.buffer,
      yOff: yc.offset,
      lse: lse.buffer,
      g: grad.buffer,
      gOff: grad.offset,
      gStride: grad.rank === 1 ? grad.strides[0]! : 0,
      N: a.N,
      C: a.C,
      eps: a.eps,
      reduction: a.reduction,
      dz: dz.buffer,
    });
    return [dz, null];
  },
});

/**
 * Cross-entropy of softmax(logits) against integer class labels, fused.
 * logits: f32 [N, C]. labels: an i32/u32 tensor [N], or an Int32Array / number[] of
 * length N (validated on the CPU, then uploaded). Labels already on the GPU cannot
 * be checked without a readback: an out-of-range one is clamped for memory safety,
 * makes its sample's loss NaN, and is recorded; `checkLabelErrors()` reports it.
 */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: Tensor | Int32Array | Uint32Array | readonly number[],
  opts: CrossEntropyOptions = {},
): Tensor {
  const op = 'softmaxCrossEntropy';
  const reduction = opts.reduction ?? 'mean';
  const eps = opts.labelSmoothing ?? 0;
  if (!['mean', 'sum', 'none'].includes(reduction)) throw nnError(op, `reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  if (!(eps >= 0 && eps < 1)) throw nnError(op, `labelSmoothing must be in [0, 1), got ${eps}`);
  if (logits.rank !== 2) throw nnError(op, `expected logits [N, C] (rank 2), got shape ${fmtShape(logits.shape)}`);
  if (logits.dtype !== 'f32') throw nnError(op, `logits must be f32, got ${logits.dtype} of shape ${fmtShape(logits.shape)}`);
  const [N, C] = logits.shape as [number, number];
  if (labels instanceof Tensor) {
    if (labels.dtype === 'f32') {
      throw nnError(op, `labels must be integer class indices (an i32 tensor), got an f32 tensor of shape ${fmtShape(labels.shape)}; cast it with .cast('i32')`);
    }
    if (labels.rank !== 1 || labels.shape[0] !== N) {
      throw nnError(op, `labels have shape ${fmtShape(labels.shape)} but logits ${fmtShape(logits.shape)} need labels [${N}]`);
    }
    return crossEntropyOp([logits, labels], { N, C, eps, reduction });
  }
  if (labels.length !== N) throw nnError(op, `got ${labels.length} labels for logits ${fmtShape(logits.shape)}; expected ${N}`);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (!Number.isInteger(v)) throw nnError(op, `label ${i} is ${v}, not an integer class index`);
    if (v < 0 || v >= C) throw nnError(op, `label ${i} is ${v}, out of range for ${C} classes [0, ${C})`);
  }
  // The uploaded labels are freed with the scope (after the backward, when the graph holds them).
  return tidy(() => crossEntropyOp([logits, tensor(Int32Array.from(labels), [N], 'i32')], { N, C, eps, reduction }));
}

/**
 * Reads the record of out-of-range labels seen on the GPU by softmaxCrossEntropy
 * since the last check, clears it, and throws a TesseraError naming the first bad
 * sample if there was any. One small readback: call it when the loss is read anyway.
 */
export async function checkLabelErrors(): Promise<void> {
  if (!status) return;
  const buf = status;
  const [count, first, label, C] = new Uint32Array(await readBuffer(buf, 0, 16));
  if (!count) return;
  writeBuffer(buf, 0, STATUS_RESET);
  throw new TesseraError(
    `softmaxCrossEntropy: ${count} label(s) out of range for ${C} classes [0, ${C}); the first at sample ${first} ` +
      `(e.g. label ${label! | 0}). Their losses are NaN.`,
  );
}
