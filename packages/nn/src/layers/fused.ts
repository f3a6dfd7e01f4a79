/**
 * Conv → BatchNorm → (+ residual) → activation as one step where that is exact:
 * with BatchNorm in eval mode (running statistics) the normalisation is a per-channel
 * affine map, folded into the convolution's epilogue (tensor's conv2dFused) together
 * with the residual add and the activation — one kernel instead of four passes over
 * the activation. In training mode BatchNorm needs the batch's statistics of the
 * convolution's output first, so the modules run one after the other.
 */
import { type Tensor, add, batchNormFold, conv2dFused, isGradEnabled, slice } from '@tessera/tensor';
import { isSummarizing } from '../module.js';
import type { Conv2d } from './conv.js';
import type { BatchNorm2d } from './batchnorm.js';

export type FusedAct = 'relu' | { leaky: number } | null;

let fusionEnabled = true;

/** Turns the eval-mode fusion on or off (benchmarks compare both); returns the previous setting. */
export function setConvBnFusion(on: boolean): boolean {
  const prev = fusionEnabled;
  fusionEnabled = on;
  return prev;
}

/** Whether conv → BatchNorm → activation runs fused when BatchNorm is in eval mode. */
export function convBnFusion(): boolean {
  return fusionEnabled;
}

/**
 * act(bn(conv(x)) + residual), fused when `bn` is in eval mode and nothing needs a
 * gradient (validation, prediction); layer by layer otherwise.
 */
export function convBnAct(conv: Conv2d, bn: BatchNorm2d, x: Tensor, act: FusedAct, residual: Tensor | null = null): Tensor {
  const needsGrad = isGradEnabled() && [x, conv.weight, conv.bias, bn.weight, bn.bias, residual].some((t) => t?.requiresGrad);
  if (!fusionEnabled || bn.training || needsGrad || conv.groups !== 1 || isSummarizing()) return unfused(conv, bn, x, act, residual);
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
