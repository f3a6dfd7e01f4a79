/**
 * fastai's ParamScheduler: before every training batch, sets each scheduled
 * hyper-parameter of every parameter group from its schedule at the current training
 * position (fraction of the fit's batches done). One-cycle training and the LR finder
 * are this callback with different schedules.
 */
import { TesseraError } from '@tessera/tensor';
import type { GroupHyper } from '../optim/optimizer.js';
import { oneCycle, type Schedule } from '../optim/schedules.js';
import { Callback } from './callback.js';

/** Per hyper-parameter: one schedule for all groups, or one per group. */
export type HyperSchedules = Partial<Record<'lr' | 'mom' | 'wd', Schedule | readonly Schedule[]>>;

export class ParamScheduler extends Callback {
  override order = 60;
  override runValid = false;

  constructor(readonly scheds: HyperSchedules) {
    super();
  }

  override beforeBatch(): void {
    this.update(this.learn.pctTrain);
  }

  /** Sets every scheduled hyper-parameter at position `pos`. */
  protected update(pos: number): void {
    const opt = this.learn.opt;
    if (!opt) throw new TesseraError('ParamScheduler: the learner has no optimizer');
    for (const [key, s] of Object.entries(this.scheds) as [keyof GroupHyper, Schedule | readonly Schedule[]][]) {
      if (typeof s === 'function') {
        opt.set(key, s(pos));
        continue;
      }
      if (s.length !== opt.groups.length) {
        throw new TesseraError(`ParamScheduler: ${s.length} '${key}' schedules for ${opt.groups.length} parameter groups`);
      }
      opt.set(key, s.map((f) => f(pos)));
    }
  }
}

export interface OneCycleSchedOptions {
  div?: number;
  divFinal?: number;
  pctStart?: number;
  moms?: readonly [number, number, number];
}

/**
 * fastai's fit_one_cycle schedules: per group, lr cosine lrMax/div → lrMax →
 * lrMax/divFinal over pctStart | 1-pctStart; momentum the mirror image (one schedule).
 */
export function oneCycleSchedules(lrMax: readonly number[], o: OneCycleSchedOptions = {}): HyperSchedules {
  const cycles = lrMax.map((lr) => oneCycle({ lrMax: lr, div: o.div, divFinal: o.divFinal, pctStart: o.pctStart, moms: o.moms }));
  return { lr: cycles.map((c) => c.lr), mom: cycles[0]!.mom };
}
