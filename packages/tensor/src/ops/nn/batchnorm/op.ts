/**
 * Batch normalisation for channels-last activations: batchNorm2d over NHWC
 * [N, H, W, C] and batchNorm1d over [N, C] share one op and its fused kernels
 * (kernel.ts), treating the input as a matrix [M, C]. The op can apply
 * ReLU or LeakyReLU to its output in the same pass (`activation`), and its backward
 * then masks the gradient inside BatchNorm's own backward kernels: Conv → BatchNorm →
 * activation in training costs no activation pass in either direction. It can also add
 * a residual before the activation (`residual`, a ResNet block's shortcut), whose
 * gradient BatchNorm's backward kernels write as they go: act(bn(x) + r) costs no add,
 * activation or activation-gradient pass either.
 */
import {
  type BnActivation,
  type BnPoolGeometry,
  STATS_ROWS,
  bnChunks,
  bnPoolChunks,
  bnPoolRows,
  runBatchNormBackward,
  runBatchNormFold,
  runBatchNormForward,
  runBatchNormPoolBackward,
  runBatchNormPoolForward,
} from './kernel.js';
import { fmtShape } from '../../../runtime/errors.js';
import { sameShape } from '../../../shape.js';
import { Tensor } from '../../../tensor.js';
import { defineOp } from '../../registry.js';
import { tidy } from '../../../autograd/scope.js';
import { newTensor } from '../../util.js';
import { contiguous } from '../../views/op.js';
import { nnError, requireF32 } from '../util.js';

export interface BatchNormOptions {
  /** Batch statistics (and a running-stats update) when true; running statistics when false. Default false. */
  training?: boolean;
  /** Running-stat update factor, PyTorch's meaning: running = (1 − momentum)·running + momentum·batch. Default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /**
   * Applied to the normalised output in the same kernel: 'none' (default), 'relu', or
   * { leaky: slope } for LeakyReLU. Gives what relu(batchNorm(x)) / leakyRelu(batchNorm(x), slope)
   * give, gradients included, without their passes over the activation.
   */
  activation?: BnActivation;
  /**
   * Added to the normalised output before the activation, in the same kernel:
   * act(bn(x) + residual), gradients included (the residual gets one like any input).
   * An f32 tensor of the input's shape.
   */
  residual?: Tensor | null;
}

export type { BnActivation };

interface BnAttrs {
  op: string;
  M: number;
  C: number;
  /** Normalise with batch statistics (training, or no running stats). */
  useBatch: boolean;
  updateRunning: boolean;
  hasWeight: boolean;
  hasBias: boolean;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  momentum: number;
  eps: number;
  act: BnActivation;
  /** The residual is the last input. */
  hasResidual: boolean;
}

const ref = (t: Tensor | null) => (t ? { buffer: t.buffer, offset: t.offset } : null);

/**
 * The kernels' forward arguments shared by both ops (x, weight, bias dense; new stats and
 * partials), with x's dense copy and the stats for the backward to save. The forward's
 * scope frees the partials and the dense copies of weight and bias.
 */
function forwardArgs(inputs: readonly Tensor[], a: BnAttrs) {
  const x = inputs[0]!;
  const xc = contiguous(x);
  const w = a.hasWeight ? contiguous(inputs[1]!) : null;
  const b = a.hasBias ? contiguous(inputs[a.hasWeight ? 2 : 1]!) : null;
  const stats = newTensor([STATS_ROWS, a.C], 'f32', 'bn_stats');
  const partial = a.useBatch ? newTensor([bnChunks(a.M).chunks * a.C * 2], 'f32', 'bn_partial') : null;
  const args = {
    x: ref(xc)!,
    weight: ref(w),
    bias: ref(b),
    runningMean: ref(a.runningMean),
    runningVar: ref(a.runningVar),
    useBatch: a.useBatch,
    updateRunning: a.updateRunning,
    momentum: a.momentum,
    eps: a.eps,
    act: a.act,
    stats: stats.buffer,
    partial: partial?.buffer ?? null,
  };
  return { args, xc, stats };
}

/** [dx, dweight?, dbias?] from the backward's dwb [4, C] (views; the scope frees dwb itself). */
function paramGrads(dx: Tensor | null, dwb: Tensor, a: BnAttrs): (Tensor | null)[] {
  const out: (Tensor | null)[] = [dx];
  if (a.hasWeight) out.push(dwb.view([a.C], undefined, 0));
  if (a.hasBias) out.push(dwb.view([a.C], undefined, a.C));
  return out;
}

const batchNormOp = defineOp<BnAttrs>({
  name: 'batchNorm',
  forward(ctx, inputs, a) {
    const x = inputs[0]!;
    const r = a.hasResidual ? inputs[inputs.length - 1]! : null;
    const rc = r ? contiguous(r) : null;
    const y = newTensor(x.shape, 'f32', a.op);
    const f = forwardArgs(inputs, a);
    runBatchNormForward({ ...f.args, M: a.M, C: a.C, residual: ref(rc), y: y.buffer });
    const { xc, stats } = f;
    // The [STATS_ROWS, C] statistics; the dense copy of x, when x was a view, and of the
    // residual, when it was a view and the mask needs it. Not y: the backward recomputes the
    // activation's mask from x and r (see kernel.ts).
    ctx.save({ stats, xc: xc !== x ? xc : null, rc: rc !== r && a.act !== 'none' ? rc : null });
    return y;
  },
  backward(grad, { inputs, saved, attrs: a, needsInputGrad }) {
    const x0 = inputs[0]!;
    const r0 = a.hasResidual ? inputs[inputs.length - 1]! : null;
    const x = saved.xc ?? x0;
    // With an activation the kernels mask g with act'(bn(x) + r) and write dr; without one, dr is g.
    const maskRes = r0 && a.act !== 'none' ? (saved.rc ?? r0) : null;
    const g = contiguous(grad);
    const partial = newTensor([bnChunks(a.M).chunks * a.C * 2], 'f32', 'bn_partial');
    const dwb = newTensor([4, a.C], 'f32', 'bn_dweight_dbias');
    const dx = x0.requiresGrad ? newTensor(x.shape, 'f32', `${a.op}_grad`) : null;
    const dr = maskRes ? newTensor(x.shape, 'f32', `${a.op}_residual_grad`) : null;
    runBatchNormBackward({
      x: ref(x)!,
      g: ref(g)!,
      M: a.M,
      C: a.C,
      stats: saved.stats!.buffer,
      useBatch: a.useBatch,
      act: a.act,
      residual: maskRes && dr ? { r: ref(maskRes)!, dr: dr.buffer } : null,
      partial: partial.buffer,
      dwb: dwb.buffer,
      dx: dx?.buffer ?? null,
    });
    const out = paramGrads(dx, dwb, a);
    if (r0) {
      // dr also feeds bn_dx (g' read once more), so it is made even when r needs no gradient.
      const wantR = needsInputGrad[inputs.length - 1]!;
      out.push(wantR ? (dr ?? grad) : null);
    }
    return out;
  },
});

/** Checks batch norm's arguments; returns the op's inputs and attributes. */
function batchNormArgs(
  op: string,
  x: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  opts: BatchNormOptions,
): BnAttrs & { inputs: Tensor[] } {
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  requireF32(op, x, 'the input');
  const C = x.shape[x.rank - 1]!;
  const M = x.size / C;
  const params: [string, Tensor | null | undefined][] = [
    ['weight', weight],
    ['bias', bias],
    ['runningMean', runningMean],
    ['runningVar', runningVar],
  ];
  for (const [name, t] of params) {
    if (!t) continue;
    requireF32(op, t, name);
    if (t.rank !== 1 || t.shape[0] !== C) {
      throw nnError(op, `${name} has shape ${fmtShape(t.shape)} but the input ${fmtShape(x.shape)} has ${C} channels (last dimension); expected [${C}]`);
    }
  }
  if (!runningMean !== !runningVar) throw nnError(op, 'pass both runningMean and runningVar, or neither');
  for (const [name, t] of params.slice(2)) {
    if (t && !t.isContiguous) throw nnError(op, `${name} must be a dense tensor (it is updated in place), got a strided view of shape ${fmtShape(t.shape)}`);
  }
  if (!(eps > 0) || !Number.isFinite(eps)) throw nnError(op, `eps must be positive, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw nnError(op, `momentum must be in [0, 1], got ${momentum}`);
  const act = checkActivation(op, opts.activation ?? 'none');
  const residual = opts.residual ?? null;
  if (residual) {
    requireF32(op, residual, 'the residual');
    if (!sameShape(residual.shape, x.shape)) {
      throw nnError(op, `residual has shape ${fmtShape(residual.shape)} but the input has shape ${fmtShape(x.shape)}; expected the same shape (no broadcasting)`);
    }
  }
  const useBatch = training || !runningMean;
  if (useBatch && M <= 1) {
    throw nnError(op, `expected more than 1 value per channel when using batch statistics, got input of shape ${fmtShape(x.shape)}`);
  }
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  return {
    inputs,
    op,
    M,
    C,
    useBatch,
    updateRunning: training && !!runningMean,
    hasWeight: !!weight,
    hasBias: !!bias,
    runningMean: runningMean ?? null,
    runningVar: runningVar ?? null,
    momentum,
    eps,
    act,
    hasResidual: !!residual,
  };
}

function checkActivation(op: string, act: BnActivation): BnActivation {
  if (act === 'none' || act === 'relu') return act;
  if (typeof act === 'object' && act !== null && typeof act.leaky === 'number' && Number.isFinite(act.leaky)) return { leaky: act.leaky };
  throw nnError(op, `activation must be 'none', 'relu' or { leaky: slope } with a finite slope, got ${JSON.stringify(act)}`);
}

/**
 * Batch normalisation of an NHWC activation x [N, H, W, C] over N, H and W, per channel:
 * y = act((x − mean) / √(var + eps) · weight + bias + residual) (weight/bias [C], each
 * optional; act from `opts.activation`, the identity by default; `opts.residual` of x's
 * shape, none by default).
 *
 * Training (`training: true`) normalises with the batch's mean and biased variance and
 * updates `runningMean`/`runningVar` ([C], dense, f32) in place on the GPU with the
 * unbiased variance, as PyTorch does; evaluation normalises with the running statistics.
 * Without running statistics, batch statistics are always used. The running statistics
 * are buffers, not graph inputs: no gradient flows to them.
 */
export function batchNorm2d(
  x: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  opts: BatchNormOptions = {},
): Tensor {
  if (x.rank !== 4) throw nnError('batchNorm2d', `expected an NHWC input [N, H, W, C] (rank 4), got shape ${fmtShape(x.shape)}`);
  return batchNorm('batchNorm2d', x, weight, bias, runningMean, runningVar, opts);
}

function batchNorm(...args: Parameters<typeof batchNormArgs>): Tensor {
  const { inputs, ...attrs } = batchNormArgs(...args);
  return batchNormOp(inputs, attrs);
}

/** batchNorm2d's twin for features x [N, C] (a classifier head), normalising over N. */
export function batchNorm1d(
  x: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  opts: BatchNormOptions = {},
): Tensor {
  if (x.rank !== 2) throw nnError('batchNorm1d', `expected an input [N, C] (rank 2), got shape ${fmtShape(x.shape)}`);
  return batchNorm('batchNorm1d', x, weight, bias, runningMean, runningVar, opts);
}

/**
 * BatchNorm in eval mode as a per-channel affine map, for folding into a convolution:
 * returns [2, C] = [scale; shift] with scale = γ/√(running_var + ε) and
 * shift = β + (convBias − running_mean)·scale, so that bn(conv(x) + convBias) =
 * conv(x)·scale + shift. One kernel; not differentiable (it is for inference —
 * under autograd, run the BatchNorm itself).
 */
export function batchNormFold(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: number, convBias: Tensor | null = null): Tensor {
  const C = weight.size;
  const parts = [weight, bias, runningMean, runningVar, convBias];
  for (const t of parts) {
    if (t) requireF32('batchNormFold', t, 'each input');
    if (t && (t.rank !== 1 || t.size !== C)) throw nnError('batchNormFold', `expected vectors of ${C} channels, got shape ${fmtShape(t.shape)}`);
  }
  // Dense copies of strided inputs are freed with the scope.
  return tidy(() => {
    const dense = parts.map((t) => (t ? contiguous(t) : null));
    const ref = (t: Tensor) => ({ buffer: t.buffer, offset: t.offset });
    const out = Tensor.empty([2, C], 'f32', 'bn_fold');
    runBatchNormFold({
      C,
      eps,
      weight: ref(dense[0]!),
      bias: ref(dense[1]!),
      runningMean: ref(dense[2]!),
      runningVar: ref(dense[3]!),
      convBias: dense[4] ? ref(dense[4]) : null,
      out: out.buffer,
    });
    return out;
  });
}

// ---------------------------------------------------------------- fused 2×2/2 max-pool

export type BatchNormMaxPoolOptions = Omit<BatchNormOptions, 'residual'>;

const batchNormMaxPoolOp = defineOp<BnAttrs & { geo: BnPoolGeometry }>({
  name: 'batchNormMaxPool2d',
  forward(ctx, inputs, a) {
    const x = inputs[0]!;
    const { N, H, W, C } = a.geo;
    const y = newTensor([N, H >> 1, W >> 1, C], 'f32', a.op);
    const f = forwardArgs(inputs, a);
    runBatchNormPoolForward(f.args, a.geo, y.buffer);
    const { xc, stats } = f;
    // The statistics and x's dense copy when x was a view. No argmax and no activation:
    // the backward recomputes both from x (see kernel.ts).
    ctx.save({ stats, xc: xc !== x ? xc : null });
    return y;
  },
  backward(grad, { inputs, saved, attrs: a }) {
    const x0 = inputs[0]!;
    const x = saved.xc ?? x0;
    const g = contiguous(grad);
    const partial = newTensor([bnPoolChunks(bnPoolRows(a.geo).windows).chunks * a.C * 2], 'f32', 'bn_partial');
    const dwb = newTensor([4, a.C], 'f32', 'bn_dweight_dbias');
    const dx = x0.requiresGrad ? newTensor(x.shape, 'f32', `${a.op}_grad`) : null;
    runBatchNormPoolBackward(
      { x: ref(x)!, g: ref(g)!, stats: saved.stats!.buffer, useBatch: a.useBatch, act: a.act, partial: partial.buffer, dwb: dwb.buffer, dx: dx?.buffer ?? null },
      a.geo,
    );
    return paramGrads(dx, dwb, a);
  },
});

/**
 * maxPool2d(act(batchNorm2d(x)), { kernel: 2, stride: 2 }) in one op: NHWC x [N, H, W, C]
 * → [N, ⌊H/2⌋, ⌊W/2⌋, C] (PyTorch's floor mode: an odd last row/column is normalised —
 * it counts in the statistics and gets a gradient — but pooled into nothing). Same
 * arguments and results as batchNorm2d (running statistics updated in training, gradients
 * of x, weight and bias), ties in a window going to the first maximum in row-major order,
 * as maxPool2d. The full-size activation is never written, and the pool costs no pass
 * in either direction.
 */
export function batchNormMaxPool2d(
  x: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  opts: BatchNormMaxPoolOptions = {},
): Tensor {
  const op = 'batchNormMaxPool2d';
  if (x.rank !== 4) throw nnError(op, `expected an NHWC input [N, H, W, C] (rank 4), got shape ${fmtShape(x.shape)}`);
  const [N, H, W, C] = x.shape as unknown as [number, number, number, number];
  if (H < 2 || W < 2) throw nnError(op, `the 2×2 window is larger than the input: H×W ${H}×${W} (input ${fmtShape(x.shape)})`);
  const { inputs, ...attrs } = batchNormArgs(op, x, weight, bias, runningMean, runningVar, { ...opts, residual: null });
  return batchNormMaxPoolOp(inputs, { ...attrs, geo: { N, H, W, C } });
}
