/**
 * BatchNorm2d (NHWC, statistics per channel over N·H·W) and BatchNorm1d ([N, C]).
 * Buffers follow PyTorch: running_mean, running_var, num_batches_tracked.
 */
import { type BnActivation, type Tensor, addScalar, batchNorm1d, batchNorm2d, batchNormMaxPool2d, full, ones, zeros } from '@tessera/tensor';
import { Module } from '../module.js';

abstract class BatchNormBase extends Module {
  readonly isBatchNorm = true;
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;

  constructor(
    readonly numFeatures: number,
    readonly opts: { eps?: number; momentum?: number; biasInit?: number } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', ones([numFeatures]));
    this.bias = this.registerParameter('bias', full([numFeatures], opts.biasInit ?? 0));
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([1], 'i32'));
  }

  get eps(): number {
    return this.opts.eps ?? 1e-5;
  }

  get momentum(): number {
    return this.opts.momentum ?? 0.1;
  }

  /** PyTorch counts training batches in a buffer; kept so state dicts round-trip. */
  protected countBatch(): void {
    if (!this.training) return;
    const next = addScalar(this.numBatchesTracked, 1);
    this.numBatchesTracked.copyFrom(next);
    next.dispose();
  }
}

export class BatchNorm2d extends BatchNormBase {
  forward(x: Tensor): Tensor {
    return this.forwardAct(x, 'none');
  }

  /**
   * act(bn(x) + residual) in one op: the residual add and the activation cost no pass of
   * their own, forward or backward (layers/fused.ts uses it for Conv2d → BatchNorm2d →
   * ReLU/LeakyReLU in training, and for a ResNet block's last BatchNorm with its shortcut).
   */
  forwardAct(x: Tensor, activation: BnActivation, residual: Tensor | null = null): Tensor {
    this.countBatch();
    return batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      activation,
      residual,
    });
  }

  /** maxPool2d(act(bn(x)), 2×2/2) in one op (tensor's batchNormMaxPool2d): the pool costs no pass, forward or backward (layers/fused.ts). */
  forwardActPool(x: Tensor, activation: BnActivation): Tensor {
    this.countBatch();
    return batchNormMaxPool2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
      activation,
    });
  }
}

export class BatchNorm1d extends BatchNormBase {
  forward(x: Tensor): Tensor {
    this.countBatch();
    return batchNorm1d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}
