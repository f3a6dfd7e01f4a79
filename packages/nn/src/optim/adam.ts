/**
 * Adam as fastai defines it (fastai.optimizer.Adam): betas (0.9, 0.99), eps 1e-5,
 * decoupled weight decay 0.01 (AdamW), none on BatchNorm parameters and biases.
 */
import { type Tensor, zeros } from '@tessera/tensor';
import { Optimizer, type GroupHyper, type NoDecayTest } from './optimizer.js';
import { adamStep } from './kernels.js';

export interface AdamHyper extends GroupHyper {
  /** Second-moment decay (fastai's sqr_mom). */
  sqrMom: number;
  eps: number;
}

export class Adam extends Optimizer<AdamHyper> {
  private readonly steps = new Map<Tensor, number>();

  constructor(params: Tensor[] | Tensor[][], opts: Partial<AdamHyper> & { noDecay?: NoDecayTest } = {}) {
    super(
      params,
      { lr: opts.lr ?? 1e-3, mom: opts.mom ?? 0.9, sqrMom: opts.sqrMom ?? 0.99, eps: opts.eps ?? 1e-5, wd: opts.wd ?? 0.01 },
      opts.noDecay,
    );
  }

  protected initState(p: Tensor): Tensor[] {
    return [zeros(p.shape), zeros(p.shape)];
  }

  protected update(p: Tensor, grad: Tensor, [m, v]: Tensor[], h: AdamHyper, noDecay: boolean): void {
    const step = (this.steps.get(p) ?? 0) + 1;
    this.steps.set(p, step);
    adamStep(p, grad, m!, v!, { lr: h.lr, beta1: h.mom, beta2: h.sqrMom, eps: h.eps, wd: noDecay ? 0 : h.wd, step });
  }

  /** Per-parameter step counts, for checkpoints. */
  paramSteps(): number[] {
    return this.groups.flatMap((g) => g.params.map((p) => this.steps.get(p) ?? 0));
  }

  loadParamSteps(steps: number[]): void {
    let i = 0;
    for (const g of this.groups) for (const p of g.params) this.steps.set(p, steps[i++] ?? 0);
  }
}

/** AdamW is fastai's Adam (weight decay is already decoupled). */
export const AdamW = Adam;
