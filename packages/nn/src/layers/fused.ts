/**
 * Conv → BatchNorm → (+ residual) → activation in as few passes as each mode allows.
 * - BatchNorm in eval mode, nothing needing a gradient (validation, prediction): the
 *   normalisation is a per-channel affine map, folded into the convolution's epilogue
 *   (tensor's conv2dFused) together with the residual add and the activation — one
 *   kernel instead of four passes over the activation.
 * - Training (or a gradient is needed): BatchNorm needs the batch's statistics of the
 *   convolution's output first, so the convolution runs on its own; BatchNorm then
 *   adds the residual and applies the activation in its own kernels (tensor's
 *   batchNorm2d `residual` and `activation`), and its backward masks the gradient there
 *   too and writes the residual's gradient as it goes, so neither the add nor the
 *   activation costs a pass in either direction. A 2×2/2 max-pool after the activation
 *   (`pool`, Darknet's) joins BatchNorm's kernels the same way (tensor's batchNormMaxPool2d):
 *   the full-size activation is never written, and the pool has no pass of its own in
 *   either direction. In eval mode the pool stays a separate op after the epilogue.
 */
import { type BnActivation, type Tensor, add, batchNormFold, config, conv2dFused, isGradEnabled, maxPool2d, slice } from '@tessera/tensor';
import { isSummarizing } from '../module.js';
import type { Conv2d } from './conv.js';
import type { BatchNorm2d } from './batchnorm.js';

export type FusedAct = 'relu' | { leaky: number } | null;


/**
 * Turns the conv → BatchNorm → activation fusion on or off, in both modes (benchmarks
 * compare both; tests check fused = layer by layer); returns the previous setting.
 */
export function setConvBnFusion(on: boolean): boolean {
  const prev = config.convBnFusion;
  config.convBnFusion = on;
  return prev;
}

/** Whether conv → BatchNorm → activation runs fused (see the header for what that means per mode). */
export function convBnFusion(): boolean {
  return config.convBnFusion;
}

/**
 * act(bn(conv(x)) + residual), max-pooled 2×2/2 when `pool`: the eval-mode epilogue when `bn` is in eval mode and
 * nothing needs a gradient; otherwise the convolution, then BatchNorm with the residual
 * and the activation fused; layer by layer with the fusion off, or while a summary
 * records each layer.
 */
export function convBnAct(conv: Conv2d, bn: BatchNorm2d, x: Tensor, act: FusedAct, residual: Tensor | null = null, pool = false): Tensor {
  if (!config.convBnFusion || isSummarizing()) return maybePool(unfused(conv, bn, x, act, residual), pool);
  const needsGrad = isGradEnabled() && [x, conv.weight, conv.bias, bn.weight, bn.bias, residual].some((t) => t?.requiresGrad);
  if (!bn.training && !needsGrad && conv.groups === 1) return maybePool(epilogueFused(conv, bn, x, act, residual), pool);
  const a = conv.call(x);
  const y = pool && !residual ? bn.forwardActPool(a, bnActivation(act)) : maybePool(bn.forwardAct(a, bnActivation(act), residual), pool);
  a.dispose();
  return y;
}

/** y, or its 2×2/2 max-pool (y disposed) when `pool`. */
function maybePool(y: Tensor, pool: boolean): Tensor {
  if (!pool) return y;
  const p = maxPool2d(y, { kernel: 2, stride: 2 });
  y.dispose();
  return p;
}

const bnActivation = (act: FusedAct): BnActivation => act ?? 'none';

/** Eval mode without gradients: one convolution whose epilogue applies the folded BatchNorm, the residual and the activation. */
function epilogueFused(conv: Conv2d, bn: BatchNorm2d, x: Tensor, act: FusedAct, residual: Tensor | null): Tensor {
  const folded = batchNormFold(bn.weight, bn.bias, bn.runningMean, bn.runningVar, bn.eps, conv.bias);
  const scale = slice(folded, 0, 0, 1).reshape([bn.numFeatures]);
  const shift = slice(folded, 0, 1, 2).reshape([bn.numFeatures]);
  folded.dispose();
  const y = conv2dFused(x, conv.weight, shift, {
    stride: conv.stride,
    padding: conv.padding,
    dilation: conv.dilation,
    scale,
    residual,
    act,
  });
  scale.dispose();
  shift.dispose();
  return y;
}

function unfused(conv: Conv2d, bn: BatchNorm2d, x: Tensor, act: FusedAct, residual: Tensor | null): Tensor {
  const a = conv.call(x);
  let y = bn.call(a);
  a.dispose();
  const step = (next: Tensor) => {
    y.dispose();
    y = next;
  };
  if (residual) step(add(y, residual));
  if (act === 'relu') step(y.relu());
  else if (act) step(y.leakyRelu(act.leaky));
  return y;
}
