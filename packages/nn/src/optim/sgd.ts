/** SGD with momentum, Nesterov and (coupled, PyTorch-style) weight decay. */
import { type Tensor, zeros } from '@tessera/tensor';
import { Optimizer, type GroupHyper, type NoDecayTest } from './optimizer.js';
import { sgdStep } from './kernels.js';

export interface SgdHyper extends GroupHyper {
  nesterov: boolean;
}

export class SGD extends Optimizer<SgdHyper> {
  constructor(params: Tensor[] | Tensor[][], opts: Partial<SgdHyper> & { noDecay?: NoDecayTest } = {}) {
    super(params, { lr: opts.lr ?? 0.01, mom: opts.mom ?? 0, wd: opts.wd ?? 0, nesterov: opts.nesterov ?? false }, opts.noDecay);
  }

  protected initState(p: Tensor): Tensor[] {
    return [zeros(p.shape)];
  }

  protected update(p: Tensor, grad: Tensor, [buf]: Tensor[], h: SgdHyper, noDecay: boolean): void {
    // The buffer starts at zero, so the first step sets it to the gradient, as PyTorch's
    // lazily created buffer does; no "first step" flag means nothing extra to checkpoint.
    sgdStep(p, grad, buf!, { lr: h.lr, mom: h.mom, wd: noDecay ? 0 : h.wd, nesterov: h.nesterov });
  }
}
