/**
 * Adam as fastai defines it (fastai.optimizer.Adam): betas (0.9, 0.99), eps 1e-5,
 * decoupled weight decay 0.01 (AdamW), none on BatchNorm parameters and biases.
 */
import type { Tensor } from '@tessera/tensor';
import { Optimizer, type GroupHyper, type OptimizerOptions } from './optimizer.js';
import { type UpdateRange, adamStep } from './kernels.js';

export interface AdamHyper extends GroupHyper {
  /** Second-moment decay (fastai's sqr_mom). */
  sqrMom: number;
  eps: number;
}

export class Adam extends Optimizer<AdamHyper> {
  protected readonly stateSlots = 2;
  private readonly steps = new Map<Tensor, number>();

  constructor(params: Tensor[] | Tensor[][], opts: Partial<AdamHyper> & OptimizerOptions = {}) {
    super(
      params,
      { lr: opts.lr ?? 1e-3, mom: opts.mom ?? 0.9, sqrMom: opts.sqrMom ?? 0.99, eps: opts.eps ?? 1e-5, wd: opts.wd ?? 0.01 },
      opts,
    );
  }

  /** Parameters on the same step share one dispatch (the debiasing depends on the step). */
  protected override fuseKey(p: Tensor): number {
    return this.steps.get(p) ?? 0;
  }

  protected update(r: UpdateRange, h: AdamHyper, params: readonly Tensor[]): void {
    const step = this.fuseKey(params[0]!) + 1;
    for (const p of params) this.steps.set(p, step);
    adamStep(r, { lr: h.lr, beta1: h.mom, beta2: h.sqrMom, eps: h.eps, wd: h.wd, step });
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
