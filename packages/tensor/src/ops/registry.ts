/**
 * The op registry. Each op is declared once — its name, its forward (which checks
 * shapes and dispatches kernels) and its backward (written with other ops) — and
 * `defineOp` derives the autograd-recording function from that declaration.
 *
 * `defineApi` declares the public functions an op family exports: each one's GPU
 * function, its CPU twin and its Tensor method. Tensor methods and the test OpSet
 * (testing/ops.ts) are derived by looping over these declarations, so nothing about
 * an op is written outside its folder.
 */
import type { CpuTensor } from '../reference/cpu-tensor.js';
import { Tensor } from '../tensor.js';
import { Node } from '../autograd/node.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { tidy } from '../autograd/scope.js';

export interface ForwardContext {
  /**
   * Keeps tensors made by the forward for the backward, by name (`ctx.save({ stats, xc })`;
   * null/undefined entries are skipped): freed with the graph node, or at once when no
   * gradient is recorded.
   */
  save(tensors: Readonly<Record<string, Tensor | null | undefined>>): void;
  /** Whether any input requires grad (forwards can skip work the backward would need). */
  readonly needsGrad: boolean;
}

export interface BackwardContext<A> {
  inputs: readonly Tensor[];
  output: Tensor;
  attrs: A;
  /** What the forward saved, by name (absent: not saved). */
  saved: Readonly<Record<string, Tensor | undefined>>;
  /** Per input: whether its gradient is wanted (backwards may skip the others and return null). */
  needsInputGrad: readonly boolean[];
}

export interface OpDef<A> {
  name: string;
  /**
   * Runs in its own memory scope: every tensor it makes and neither returns nor saves
   * (temporary dense copies, partial sums) is freed when it returns or throws.
   */
  forward(ctx: ForwardContext, inputs: Tensor[], attrs: A): Tensor;
  /**
   * Gradients for each input, in input order (null where none flows). Runs with grad
   * recording off, in its own memory scope like the forward (what it does not return is freed).
   */
  backward?(grad: Tensor, ctx: BackwardContext<A>): (Tensor | null)[];
}

export type OpFn<A> = (inputs: Tensor[], attrs: A) => Tensor;

const registry = new Map<string, OpDef<never>>();

export function defineOp<A = undefined>(def: OpDef<A>): OpFn<A> {
  if (registry.has(def.name)) throw new Error(`internal: op ${def.name} declared twice`);
  registry.set(def.name, def as OpDef<never>);
  return (inputs, attrs) => {
    for (const t of inputs) t.assertAlive(def.name);
    const needsGrad = isGradEnabled() && !!def.backward && inputs.some((t) => t.requiresGrad);
    const saved: Tensor[] = [];
    const named: Record<string, Tensor> = {};
    const ctx: ForwardContext = {
      needsGrad,
      save(tensors) {
        for (const [name, t] of Object.entries(tensors)) {
          if (!t) continue;
          if (named[name]) throw new Error(`internal: op ${def.name} saved ${name} twice`);
          named[name] = t;
          saved.push(t);
          t.keep(); // owned by the node, not by any tidy scope
        }
      },
    };
    let out: Tensor;
    try {
      out = noGrad(() => tidy(() => def.forward(ctx, inputs, attrs)));
    } catch (e) {
      for (const t of saved) t.dispose();
      throw e;
    }
    // A forward that hands back an input (a no-op) must still give a new tensor:
    // attaching a node to the input itself would make the graph cyclic.
    if (inputs.includes(out)) out = out.view(out.shape, out.strides, out.offset);
    if (!needsGrad || out.dtype !== 'f32') {
      // Integer outputs (argmax, comparisons) carry no gradient.
      for (const t of saved) t.dispose();
      return out;
    }
    out.requiresGrad = true;
    const bctx: BackwardContext<A> = {
      inputs,
      output: out,
      attrs,
      saved: named,
      needsInputGrad: inputs.map((t) => t.requiresGrad),
    };
    out.node = new Node(def.name, inputs, (g) => tidy(() => def.backward!(g, bctx)), saved);
    return out;
  };
}

export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

/** A function of the public API: a tensor first, whatever else after. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds functions of every signature.
type ApiFn = (...args: any[]) => Tensor;

/** A GPU argument's CPU twin type: Tensor becomes CpuTensor (alone, in arrays, in unions). */
type OnCpu<X> = X extends Tensor ? CpuTensor : X extends readonly Tensor[] ? readonly CpuTensor[] : X;

/** The CPU twin of a GPU function: the same arguments and result with CpuTensor for Tensor. */
export type TwinOf<F> = F extends (...args: infer P) => Tensor ? (...args: { [K in keyof P]: OnCpu<P[K]> }) => CpuTensor : never;

/** One public function: its GPU version, its CPU twin (tests compare the two) and its Tensor method. */
export interface ApiEntry<F extends ApiFn = ApiFn> {
  gpu: F;
  /** The float64-capable CPU twin; with it the function sits in the test OpSet (gradCheck, twin checks). */
  twin?: TwinOf<F>;
  /** `true`: `t.name(...rest)` calls `gpu(t, ...rest)`; a string names the method differently. */
  method?: true | string;
}

const api = new Map<string, ApiEntry>();

/**
 * Declares public functions of one op family (see the module comment). Installs the
 * Tensor methods now; the entries stay listed for `apiEntries` (the test OpSet).
 */
export function defineApi<T extends Record<string, ApiFn>>(table: { [K in keyof T]: ApiEntry<T[K]> }): void {
  for (const [name, entry] of Object.entries(table) as [string, ApiEntry][]) {
    if (api.has(name)) throw new Error(`internal: API function ${name} declared twice`);
    const method = entry.method === true ? name : entry.method;
    const proto = Tensor.prototype as unknown as Record<string, unknown>;
    if (method && method in proto) throw new Error(`internal: Tensor.${method} declared twice`);
    api.set(name, entry);
    if (!method) continue;
    const gpuFn = entry.gpu;
    proto[method] = function (this: Tensor, ...rest: unknown[]) {
      return gpuFn(this, ...rest);
    };
  }
}

/** Every declared public function by name (the test OpSet is built from these). */
export function apiEntries(): ReadonlyMap<string, ApiEntry> {
  return api;
}
