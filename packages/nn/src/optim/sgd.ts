/** SGD with momentum, Nesterov and (coupled, PyTorch-style) weight decay. */
import type { Tensor } from '@tessera/tensor';
import { Optimizer, type GroupHyper, type OptimizerOptions } from './optimizer.js';
import { type UpdateRange, sgdStep } from './kernels.js';

export interface SgdHyper extends GroupHyper {
  nesterov: boolean;
}

export class SGD extends Optimizer<SgdHyper> {
  // The momentum buffer starts at zero, so the first step sets it to the gradient, as
  // PyTorch's lazily created buffer does; no "first step" flag means nothing extra to checkpoint.
  protected readonly stateSlots = 1;

  constructor(params: Tensor[] | Tensor[][], opts: Partial<SgdHyper> & OptimizerOptions = {}) {
    super(params, { lr: opts.lr ?? 0.01, mom: opts.mom ?? 0, wd: opts.wd ?? 0, nesterov: opts.nesterov ?? false }, opts);
  }

  protected update(r: UpdateRange, h: SgdHyper): void {
    sgdStep(r, { lr: h.lr, mom: h.mom, wd: h.wd, nesterov: h.nesterov });
  }
}
