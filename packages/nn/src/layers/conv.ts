/**
 * Conv2d on NHWC activations. The weight is stored OHWI ([out, kh, kw, in/groups]),
 * the layout the implicit-GEMM kernels read without transposes; PyTorch's OIHW
 * weights are converted when loaded and exported (weights.ts, the one place that converts).
 */
import { type Tensor, conv2d } from '@tessera/tensor';
import { type ChainFuser, Module, isSummarizing } from '../module.js';
import { BatchNorm2d } from './batchnorm.js';
import { LeakyReLU, MaxPool2d, ReLU } from './simple.js';
import { convBnAct, convBnFusion, type FusedAct } from './fused.js';
import { defaultUniform, fans } from '../init.js';

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
  /** Weight initialiser (default: PyTorch's kaiming-uniform with a=√5). */
  init?: (shape: readonly number[]) => Tensor;
}

export class Conv2d extends Module implements ChainFuser {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: Conv2dOptions = {},
  ) {
    super();
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.groups = opts.groups ?? 1;
    const shape = [outChannels, kernelSize, kernelSize, inChannels / this.groups];
    this.weight = this.registerParameter('weight', (opts.init ?? defaultUniform)(shape));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', defaultUniform([outChannels], fans(shape).fanIn));
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias ?? undefined, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  /**
   * In a chain, Conv2d → BatchNorm2d (→ ReLU / LeakyReLU) runs through convBnAct: one fused
   * kernel with BatchNorm in eval mode, the activation inside BatchNorm's kernels in training;
   * a MaxPool2d(2, 2) after them joins BatchNorm's kernels too in training (batchNormMaxPool2d).
   */
  fuseChain(x: Tensor, following: readonly Module[]): { y: Tensor; consumed: number } | null {
    const bn = following[0];
    if (!(bn instanceof BatchNorm2d) || !convBnFusion() || isSummarizing()) return null;
    const next = following[1];
    const act: FusedAct = next instanceof ReLU ? 'relu' : next instanceof LeakyReLU ? { leaky: next.slope } : null;
    const consumed = act ? 2 : 1;
    const pool = following[consumed];
    const pool2 = pool instanceof MaxPool2d && pool.kernel === 2 && pool.stride === 2 && pool.padding === 0;
    return { y: convBnAct(this, bn, x, act, null, pool2), consumed: consumed + (pool2 ? 1 : 0) };
  }
}

