/** Linear: y = x·Wᵀ + b with W stored [out, in] like PyTorch (read transposed, no copy). */
import { type Tensor, linear } from '@tessera/tensor';
import { Module } from '../module.js';
import { defaultUniform } from '../init.js';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', defaultUniform([outFeatures, inFeatures]));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', defaultUniform([outFeatures], inFeatures));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }
}
