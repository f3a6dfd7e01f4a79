/**
 * Test fixtures for the learner: a tiny two-group network built from elementwise ops
 * (it needs no matmul), BatchNorm included so freezing and BN-buffer restores are
 * exercised, and a deterministic synthetic dataset of separable clusters whose
 * shuffling depends only on (seed, epoch) — what resume tests require.
 */
import { type Tensor, tensor, zeros } from '@tessera/tensor';
import { Module, Sequential } from '../../module.js';
import { BatchNorm1d } from '../../layers/batchnorm.js';
import type { Batch, BatchSource, DataLoaders } from '../data.js';

/** A small seeded PRNG (mulberry32), so fixtures never depend on Math.random. */
import { rng as prng } from '@tessera/tensor/testing';
export { prng };

/** y = x·Wᵀ + b as broadcast multiply + sum. */
export class Dense extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(inF: number, outF: number, seed: number) {
    super();
    const r = prng(seed);
    const bound = 1 / Math.sqrt(inF);
    const w = Float32Array.from({ length: outF * inF }, () => (r() * 2 - 1) * bound);
    this.weight = this.registerParameter('weight', tensor(w, [outF, inF]));
    this.bias = this.registerParameter('bias', zeros([outF]));
  }

  forward(x: Tensor): Tensor {
    const prod = x.unsqueeze(1).mul(this.weight.unsqueeze(0));
    const s = prod.sum(2);
    prod.dispose();
    const y = s.add(this.bias);
    s.dispose();
    return y;
  }
}

export class Relu extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** Multiplies its input by a constant (a knob to make training diverge on purpose). */
export class Scale extends Module {
  constructor(public factor: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.factor);
  }
}

/** body: Dense → ReLU → BatchNorm1d; head: Dense. Two parameter groups, like a vision model. */
export class TinyNet extends Module {
  readonly body: Sequential;
  readonly head: Sequential;

  constructor(nIn = 4, hidden = 8, nOut = 3, seed = 1, opts: { bn?: boolean } = {}) {
    super();
    const layers: Module[] = [new Dense(nIn, hidden, seed), new Relu()];
    if (opts.bn !== false) layers.push(new BatchNorm1d(hidden));
    this.body = this.registerModule('body', new Sequential(...layers));
    this.head = this.registerModule('head', new Sequential(new Dense(hidden, nOut, seed + 1)));
  }

  forward(x: Tensor): Tensor {
    const h = this.body.call(x);
    const y = this.head.call(h);
    h.dispose();
    return y;
  }

  paramGroups(): Tensor[][] {
    return [this.body.parameters(), this.head.parameters()];
  }
}

/** Batches from host arrays; shuffled per epoch from (seed, epoch) when asked. */
export class ArraySource implements BatchSource {
  /** Every tensor handed out, to check the learner disposed them. */
  readonly handedOut: Tensor[] = [];

  constructor(
    readonly x: Float32Array,
    readonly y: Int32Array,
    readonly nFeatures: number,
    readonly bs: number,
    readonly shuffle = false,
    readonly seed = 0,
  ) {}

  get length(): number {
    return this.y.length;
  }

  get numBatches(): number {
    return Math.ceil(this.length / this.bs);
  }

  order(epoch: number): number[] {
    const idx = Array.from({ length: this.length }, (_, i) => i);
    if (!this.shuffle) return idx;
    const r = prng(this.seed * 7919 + epoch + 1);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx;
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    const order = this.order(epoch);
    for (let s = 0; s < order.length; s += this.bs) {
      const ids = order.slice(s, s + this.bs);
      const xb = new Float32Array(ids.length * this.nFeatures);
      ids.forEach((id, k) => xb.set(this.x.subarray(id * this.nFeatures, (id + 1) * this.nFeatures), k * this.nFeatures));
      const x = tensor(xb, [ids.length, this.nFeatures]);
      const y = tensor(Int32Array.from(ids, (id) => this.y[id]!), [ids.length], 'i32');
      this.handedOut.push(x, y);
      yield { x, y, size: ids.length };
    }
  }
}

/** Gaussian-ish clusters around one centre per class: separable, deterministic. */
export function clusters(n: number, nFeatures: number, nClasses: number, seed: number, spread = 0.5): { x: Float32Array; y: Int32Array } {
  const centres = prng(12345);
  const c = Array.from({ length: nClasses }, () => Array.from({ length: nFeatures }, () => (centres() * 2 - 1) * 2));
  const r = prng(seed);
  const x = new Float32Array(n * nFeatures);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % nClasses;
    y[i] = k;
    for (let f = 0; f < nFeatures; f++) x[i * nFeatures + f] = c[k]![f]! + (r() + r() + r() - 1.5) * spread;
  }
  return { x, y };
}

export interface TinyData extends DataLoaders {
  train: ArraySource;
  valid: ArraySource;
}

/** 64 training samples (4 batches of 16, shuffled per epoch), 24 validation samples (batches 16 + 8). */
export function tinyData(opts: { nTrain?: number; nValid?: number; bs?: number; shuffle?: boolean; spread?: number } = {}): TinyData {
  const nF = 4;
  const t = clusters(opts.nTrain ?? 64, nF, 3, 1, opts.spread);
  const v = clusters(opts.nValid ?? 24, nF, 3, 2, opts.spread);
  const bs = opts.bs ?? 16;
  return {
    train: new ArraySource(t.x, t.y, nF, bs, opts.shuffle ?? true, 3),
    valid: new ArraySource(v.x, v.y, nF, bs, false),
    classes: ['a', 'b', 'c'],
  };
}

/** Reads every parameter and buffer of a module (for equality checks). */
export async function snapshot(m: Module): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [k, t] of m.stateDict()) out.set(k, Array.from(await t.toArray()));
  return out;
}

export function maxAbsDiff(a: Map<string, number[]>, b: Map<string, number[]>): number {
  let d = 0;
  for (const [k, va] of a) {
    const vb = b.get(k);
    if (!vb || vb.length !== va.length) return Infinity;
    va.forEach((v, i) => (d = Math.max(d, Math.abs(v - vb[i]!))));
  }
  return d;
}

/** A writable that records what it receives (for progress output tests). */
export class Capture {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 100,
  ) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}
