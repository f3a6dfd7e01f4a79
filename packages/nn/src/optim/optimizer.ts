/**
 * Optimizer base: parameter groups with their own hyper-parameters, per-parameter
 * state tensors, zeroGrad, and state export for checkpoints. Subclasses supply one
 * fused WGSL update over a range of elements (weight decay, moments and the step in
 * one pass).
 *
 * By default (`flat`) the constructor packs each group's parameters into flat buffers
 * (flat-chunk.ts) — before the first forward, so that the pool can hand their old
 * buffers to activations — and a step is one dispatch per group: the gradients are
 * copied into one range and one kernel updates it. That range is one gradient-sized
 * temporary at step time, when the activations are gone. Parameters that cannot
 * share the dispatch in a step — no gradient, or (Adam) another step count — split
 * it into runs (flat-layout.ts). `flat: false` updates each parameter with a dispatch
 * of its own: the reference the flat path is tested against.
 */
import { type Tensor, TesseraError, zeros } from '@tessera/tensor';
import { type GroupPack, FlatChunk, packGroup } from './flat-chunk.js';
import { planRuns } from './flat-layout.js';
import type { UpdateRange } from './kernels.js';

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

export interface OptimizerOptions {
  noDecay?: NoDecayTest;
  /** Pack each group into flat buffers and update it with one dispatch (default true). */
  flat?: boolean;
}

/** Where a packed parameter lives. */
interface Home {
  chunk: FlatChunk;
  slot: number;
}

export abstract class Optimizer<H extends GroupHyper = GroupHyper> {
  readonly groups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, Tensor[]>();
  stepCount = 0;
  readonly flat: boolean;
  protected readonly noDecay: NoDecayTest;
  /** Per group when flat (the placement outlives dispose(): only the state is freed). */
  private readonly packs: GroupPack[] | null;
  private readonly homes = new Map<Tensor, Home>();

  constructor(groups: Tensor[][] | Tensor[], defaults: H, opts: OptimizerOptions = {}) {
    this.noDecay = opts.noDecay ?? isBnOrBias;
    this.flat = opts.flat ?? true;
    const list = groups.length && Array.isArray(groups[0]) ? (groups as Tensor[][]) : [groups as Tensor[]];
    this.groups = list.map((params) => ({ params, hyper: { ...defaults } }));
    for (const g of this.groups) {
      for (const p of g.params) {
        if (p.dtype !== 'f32') throw new TesseraError(`optimizer: parameter ${p.name ?? p.id} is ${p.dtype}; only f32 parameters can be trained`);
      }
    }
    this.packs = this.flat ? this.pack() : null;
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
    this.groups.forEach((g, i) => {
      const pack = this.packs?.[i];
      pack?.chunks.forEach((c) => this.stepChunk(c, g.hyper));
      for (const p of pack ? pack.loose : g.params) this.stepOne(p, g.hyper);
    });
  }

  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** State tensors per parameter (momentum; Adam's m and v). */
  protected abstract readonly stateSlots: number;

  /** Updates one range. `params` are the parameters it covers; they share fuseKey(). */
  protected abstract update(r: UpdateRange, h: H, params: readonly Tensor[]): void;

  /** Parameters with equal keys may share a dispatch (Adam: the step count its debiasing uses). */
  protected fuseKey(_p: Tensor): number {
    return 0;
  }

  /** The gradient this step applies, or null for a parameter it leaves alone (frozen, unused). */
  private gradOf(p: Tensor): Tensor | null {
    if (!p.grad || !p.requiresGrad) return null;
    if (!p.isContiguous || !p.grad.isContiguous || p.grad.size !== p.size) {
      throw new Error(`internal: optimizer expects dense parameters and gradients of their size (${p.name ?? p.id})`);
    }
    return p.grad;
  }

  /** The reference path: one dispatch for one parameter. */
  private stepOne(p: Tensor, h: H): void {
    const grad = this.gradOf(p);
    if (!grad) return;
    const st = this.stateOf(p);
    const ref = (t: Tensor) => ({ buffer: t.buffer, offset: t.offset });
    this.update({ n: p.size, param: ref(p), grad: ref(grad), state: st.map(ref), decayEnd: this.noDecay(p) ? 0 : p.size }, h, [p]);
  }

  /** One dispatch per run of the chunk's parameters that can share one (see planRuns). */
  private stepChunk(c: FlatChunk, h: H): void {
    if (!c.intact()) {
      for (const p of c.members) this.stepOne(p, h);
      return;
    }
    const runs = planRuns(c.members.length, (s) => (this.gradOf(c.members[s]!) ? this.fuseKey(c.members[s]!) : null));
    for (const run of runs) {
      const params = c.members.slice(run.first, run.end);
      params.forEach((p) => this.stateOf(p));
      c.withRange(run, (r) => this.update(r, h, params));
    }
  }

  /** Packs every group and notes where each packed parameter lives. */
  private pack(): GroupPack[] {
    const placed = new Set<Tensor>();
    const packs = this.groups.map((g) => packGroup(g.params, this.noDecay, placed));
    for (const pk of packs) pk.chunks.forEach((chunk) => chunk.members.forEach((p, slot) => this.homes.set(p, { chunk, slot })));
    return packs;
  }

  /** p's state, created zeroed on first use: views of its chunk's state when packed. */
  private stateOf(p: Tensor): Tensor[] {
    let st = this.state.get(p);
    if (!st) {
      const home = this.homes.get(p);
      st = home ? home.chunk.stateViews(home.slot, this.stateSlots) : this.zeroState(p);
      this.state.set(p, st);
    }
    return st;
  }

  private zeroState(p: Tensor): Tensor[] {
    return Array.from({ length: this.stateSlots }, () => zeros(p.shape).keep());
  }

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

  /** Recreates state from stateTensors() output (shapes must match); slots it lacks start at zero. */
  loadStateTensors(saved: Map<string, Float32Array>): void {
    let i = 0;
    for (const g of this.groups) {
      for (const p of g.params) {
        if (saved.has(`${i}.0`)) {
          this.stateOf(p).forEach((t, k) => t.load(saved.get(`${i}.${k}`) ?? new Float32Array(t.size)));
        }
        i++;
      }
    }
  }

  /** Frees the state (moments restart from zero); packed parameters stay where they are. */
  dispose(): void {
    for (const st of this.state.values()) for (const t of st) t.dispose();
    this.state.clear();
    for (const pk of this.packs ?? []) for (const c of pk.chunks) c.disposeState();
  }
}
