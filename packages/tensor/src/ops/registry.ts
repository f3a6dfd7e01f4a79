/**
 * The op registry. Each op is declared once — its name, its forward (which checks
 * shapes and dispatches kernels) and its backward (written with other ops) — and
 * `defineOp` derives the autograd-recording function from that declaration. Tensor
 * methods and the functional API both call the derived function.
 */
import { Tensor } from '../tensor.js';
import { Node } from '../autograd/node.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';

export interface ForwardContext {
  /** Keeps a tensor made by the forward for the backward (freed with the graph node). */
  save(t: Tensor): Tensor;
  /** Whether any input requires grad (forwards can skip work the backward would need). */
  readonly needsGrad: boolean;
}

export interface BackwardContext<A> {
  inputs: readonly Tensor[];
  output: Tensor;
  attrs: A;
  saved: readonly Tensor[];
  /** Per input: whether its gradient is wanted (backwards may skip the others and return null). */
  needsInputGrad: readonly boolean[];
}

export interface OpDef<A> {
  name: string;
  forward(ctx: ForwardContext, inputs: Tensor[], attrs: A): Tensor;
  /** Gradients for each input, in input order (null where none flows). Runs with grad recording off. */
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
    const ctx: ForwardContext = {
      needsGrad,
      save(t) {
        saved.push(t);
        t.keep(); // owned by the node, not by any tidy scope
        return t;
      },
    };
    let out: Tensor;
    try {
      out = noGrad(() => def.forward(ctx, inputs, attrs));
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
      saved,
      needsInputGrad: inputs.map((t) => t.requiresGrad),
    };
    out.node = new Node(def.name, inputs, (g) => def.backward!(g, bctx), saved);
    return out;
  };
}

export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}
