/**
 * Optimizer base: parameter groups with their own hyper-parameters, per-parameter
 * state tensors, zeroGrad, and state export for checkpoints. Subclasses supply one
 * fused WGSL update per parameter (weight decay, moments and the step in one pass).
 */
import { type Tensor, TesseraError } from '@tessera/tensor';

export interface GroupHyper {
  lr: number;
  /** Momentum / beta1 (one-cycle schedules change it per step). */
  mom: number;
  wd: number;
}

export interface ParamGroup<H extends GroupHyper = GroupHyper> {
  params: Tensor[];
  hyper: H;
}

/** Parameters that BatchNorm owns, or biases: fastai exempts them from weight decay. */
export type NoDecayTest = (p: Tensor) => boolean;

export const isBnOrBias: NoDecayTest = (p) => p.rank === 1;

export abstract class Optimizer<H extends GroupHyper = GroupHyper> {
  readonly groups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, Tensor[]>();
  stepCount = 0;

  constructor(
    groups: Tensor[][] | Tensor[],
    defaults: H,
    protected readonly noDecay: NoDecayTest = isBnOrBias,
  ) {
    const list = groups.length && Array.isArray(groups[0]) ? (groups as Tensor[][]) : [groups as Tensor[]];
    this.groups = list.map((params) => ({ params, hyper: { ...defaults } }));
    for (const g of this.groups) {
      for (const p of g.params) {
        if (p.dtype !== 'f32') throw new TesseraError(`optimizer: parameter ${p.name ?? p.id} is ${p.dtype}; only f32 parameters can be trained`);
      }
    }
  }

  /** Sets a hyper-parameter on every group, or per group when given an array. */
  set<K extends keyof H>(key: K, value: H[K] | H[K][]): void {
    this.groups.forEach((g, i) => {
      const v = Array.isArray(value) ? value[Math.min(i, value.length - 1)] : value;
      g.hyper[key] = v as H[K];
    });
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    for (const g of this.groups) {
      for (const p of g.params) {
        if (!p.grad || !p.requiresGrad) continue;
        let st = this.state.get(p);
        if (!st) this.state.set(p, (st = this.initState(p).map((t) => t.keep())));
        this.update(p, p.grad, st, g.hyper, this.noDecay(p));
      }
    }
  }

  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  protected abstract initState(p: Tensor): Tensor[];
  protected abstract update(p: Tensor, grad: Tensor, state: Tensor[], h: H, noDecay: boolean): void;

  /** State tensors by parameter index (in group order), for checkpoints. */
  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    let i = 0;
    for (const g of this.groups) {
      for (const p of g.params) {
        this.state.get(p)?.forEach((t, k) => out.set(`${i}.${k}`, t));
        i++;
      }
    }
    return out;
  }

  /** Recreates state from stateTensors() output (shapes must match). */
  loadStateTensors(saved: Map<string, Float32Array>): void {
    let i = 0;
    for (const g of this.groups) {
      for (const p of g.params) {
        if (saved.has(`${i}.0`)) {
          const st = this.initState(p).map((t) => t.keep());
          st.forEach((t, k) => {
            const data = saved.get(`${i}.${k}`);
            if (data) t.load(data);
          });
          this.state.get(p)?.forEach((t) => t.dispose());
          this.state.set(p, st);
        }
        i++;
      }
    }
  }

  dispose(): void {
    for (const st of this.state.values()) for (const t of st) t.dispose();
    this.state.clear();
  }
}
