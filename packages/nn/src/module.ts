/**
 * Module: named parameters, buffers and child modules, with PyTorch's naming
 * (`layer1.0.conv1.weight`), train/eval, freeze/unfreeze and a printable summary.
 * Parameters and buffers are kept tensors (they outlive tidy scopes).
 */
import { type Tensor, TesseraError, noGrad } from '@tessera/tensor';

export interface SummaryRow {
  name: string;
  type: string;
  outputShape: readonly number[];
  params: number;
}

let summaryRows: SummaryRow[] | null = null;

/** Whether summary() is recording layers (fused paths then run layer by layer, so each gets its row). */
export function isSummarizing(): boolean {
  return summaryRows !== null;
}

export abstract class Module {
  training = true;
  /** Name given by the parent (for summaries). */
  protected readonly _params = new Map<string, Tensor>();
  protected readonly _buffers = new Map<string, Tensor>();
  protected readonly _children = new Map<string, Module>();
  private _path = '';

  abstract forward(x: Tensor): Tensor;

  /** Runs forward (use this rather than forward: it feeds summaries). */
  call(x: Tensor): Tensor {
    const y = this.forward(x);
    if (summaryRows && this._children.size === 0) {
      summaryRows.push({ name: this._path, type: this.constructor.name, outputShape: y.shape, params: this.numParams(false) });
    }
    return y;
  }

  protected registerParameter(name: string, t: Tensor): Tensor {
    t.keep();
    t.requireGrad(true);
    t.name = name;
    this._params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    t.keep();
    t.name = name;
    this._buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    m.setPath(this._path ? `${this._path}.${name}` : name);
    return m;
  }

  private setPath(p: string): void {
    this._path = p;
    for (const [n, c] of this._children) c.setPath(`${p}.${n}`);
  }

  children(): [string, Module][] {
    return [...this._children];
  }

  /** Every module below (and including) this one, with its dotted name. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this._children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._params) out.push([prefix ? `${prefix}.${n}` : n, t]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._buffers) out.push([prefix ? `${prefix}.${n}` : n, t]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /**
   * Parameters and buffers by PyTorch-style key, in PyTorch's state_dict order: each
   * module's own parameters, then its own buffers, then its children's, recursively.
   */
  stateDict(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const key = (n: string) => (prefix ? `${prefix}.${n}` : n);
    for (const [n, t] of this._params) out.set(key(n), t);
    for (const [n, t] of this._buffers) out.set(key(n), t);
    for (const [n, c] of this._children) for (const [k, t] of c.stateDict(key(n))) out.set(k, t);
    return out;
  }

  train(flag = true): this {
    for (const [, m] of this.namedModules()) m.training = flag;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Stops gradients for every parameter below this module. BatchNorm parameters
   * stay trainable unless trainBn is false (fastai's train_bn=True).
   */
  freeze(trainBn = true): this {
    for (const [, m] of this.namedModules()) {
      const isBn = (m as { isBatchNorm?: boolean }).isBatchNorm === true;
      for (const t of m._params.values()) t.requiresGrad = trainBn && isBn;
    }
    return this;
  }

  unfreeze(): this {
    for (const t of this.parameters()) t.requiresGrad = true;
    return this;
  }

  numParams(recurse = true, trainableOnly = false): number {
    const ps = recurse ? this.parameters() : [...this._params.values()];
    return ps.filter((t) => !trainableOnly || t.requiresGrad).reduce((n, t) => n + t.size, 0);
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of this.stateDict()) t.dispose();
  }

  /**
   * One row per leaf layer with its output shape for `input` (like torchinfo). Runs in eval
   * mode (restoring each module's mode after), so it neither updates BatchNorm statistics
   * nor needs more than one sample.
   */
  summary(input: Tensor): SummaryRow[] {
    const modes = this.namedModules().map(([, m]) => [m, m.training] as const);
    this.eval();
    summaryRows = [];
    try {
      const y = noGrad(() => this.call(input));
      y.dispose();
      return summaryRows;
    } finally {
      summaryRows = null;
      for (const [m, t] of modes) m.training = t;
    }
  }

  /** The summary as a printable table. */
  summaryTable(input: Tensor): string {
    const rows = this.summary(input);
    const w = Math.max(12, ...rows.map((r) => `${r.name} (${r.type})`.length));
    const lines = [`${'Layer (type)'.padEnd(w)}  ${'Output shape'.padEnd(22)}  Params`];
    lines.push('-'.repeat(w + 34));
    for (const r of rows) {
      lines.push(`${`${r.name} (${r.type})`.padEnd(w)}  ${`[${r.outputShape.join(', ')}]`.padEnd(22)}  ${r.params.toLocaleString('en-US')}`);
    }
    lines.push('-'.repeat(w + 34));
    lines.push(`Total params: ${this.numParams().toLocaleString('en-US')}`);
    lines.push(`Trainable params: ${this.numParams(true, true).toLocaleString('en-US')}`);
    return lines.join('\n');
  }
}

/** Applies children in order. */
export class Sequential extends Module {
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }

  add(name: string, m: Module): this {
    this.registerModule(name, m);
    return this;
  }

  get length(): number {
    return this._children.size;
  }

  at(i: number): Module {
    const m = [...this._children.values()][i];
    if (!m) throw new TesseraError(`Sequential: no layer ${i} (it has ${this._children.size})`);
    return m;
  }

  forward(x: Tensor): Tensor {
    return runChain(x, [...this._children.values()]);
  }
}

/**
 * Applies modules in order, disposing each intermediate activation as soon as the
 * next layer has consumed it: freed at once under noGrad, and as soon as the
 * backward pass has used it otherwise (the graph holds what it needs).
 */
export function runChain(x: Tensor, modules: readonly Module[]): Tensor {
  let y = x;
  for (let i = 0; i < modules.length; i++) {
    const m = modules[i]!;
    // A layer may fuse the ones after it (Conv2d → BatchNorm2d → activation, layers/fused.ts).
    const fused = (m as Partial<ChainFuser>).fuseChain?.(y, modules.slice(i + 1));
    const next = fused ? fused.y : m.call(y);
    if (fused) i += fused.consumed;
    if (y !== x && next !== y) y.dispose();
    y = next;
  }
  return y;
}

/** A module that can run itself together with the modules following it in a chain, as one kernel. */
export interface ChainFuser {
  /** The output and how many of `following` it consumed, or null to run layer by layer. */
  fuseChain(x: Tensor, following: readonly Module[]): { y: Tensor; consumed: number } | null;
}
