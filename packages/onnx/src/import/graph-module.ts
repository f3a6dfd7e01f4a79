/**
 * An imported ONNX graph as a Tessera module: its weighted nodes are child modules (trainable
 * parameters with autograd), the others run as Tessera ops, in the graph's order. `outputs`
 * may name an inner value (a classifier's body): only the nodes it needs are kept, checked
 * and loaded. Every unsupported operator or attribute among them is reported at once, before
 * any weight reaches the GPU.
 */
import { type Tensor, TesseraError, tensor, tidy } from '@tessera/tensor';
import { Module } from '@tessera/nn';
import type { GraphNode, ParsedGraph } from './graph.js';
import { OPS, graphProblems, toNHWC, type Value } from './ops.js';

/** The nodes `outputs` depend on, in graph order. */
function neededNodes(g: ParsedGraph, outputs: string[]): GraphNode[] {
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const need = new Set<GraphNode>();
  const stack = [...outputs];
  while (stack.length) {
    const p = producer.get(stack.pop()!);
    if (!p || need.has(p)) continue;
    need.add(p);
    stack.push(...p.inputs.filter(Boolean));
  }
  return g.nodes.filter((n) => need.has(n));
}

/** A child module's name: the weight's name without `.weight` (torch.onnx keeps PyTorch's names), unique. */
function layerName(n: GraphNode, taken: Set<string>): string {
  const base = (n.inputs[1] ?? n.name).replace(/\.weight$/, '') || n.name;
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export class UnsupportedOnnxError extends TesseraError {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source} cannot be imported: ${problems.length} unsupported operator${problems.length > 1 ? 's or attributes' : ' or attribute'}:\n  ${problems.join('\n  ')}`);
  }
}

export class OnnxGraphModule extends Module {
  readonly nodes: GraphNode[];
  readonly outputs: string[];
  private readonly layers = new Map<GraphNode, Module>();
  /** Each weighted node's child-module name (its state-dict prefix). */
  readonly layerNames = new Map<GraphNode, string>();

  constructor(readonly graph: ParsedGraph, opts: { source: string; outputs?: string[] }) {
    super();
    this.outputs = opts.outputs ?? graph.outputs;
    // Nodes whose output is a constant (Constant, Identity of a constant) ran at load.
    this.nodes = neededNodes(graph, this.outputs).filter((n) => !graph.constants.has(n.outputs[0]!));
    const problems = graphProblems({ ...graph, nodes: this.nodes });
    if (problems.length) throw new UnsupportedOnnxError(opts.source, problems);
    const taken = new Set<string>();
    for (const n of this.nodes) {
      const layer = OPS[n.op]!.layer?.(n, graph);
      if (!layer) continue;
      const name = layerName(n, taken);
      this.layers.set(n, this.registerModule(name, layer));
      this.layerNames.set(n, name);
    }
  }

  /** The graph's first input; a 4-D input is NHWC, as every Tessera model takes it. */
  forward(x: Tensor): Tensor {
    const name = this.graph.inputs[0]?.name;
    if (!name) throw new TesseraError('this ONNX graph has no input');
    const [y] = this.run(new Map([[name, { t: x, nhwc: x.rank === 4 }]]));
    return toNHWC(y!).t;
  }

  /** Runs the graph on named inputs; returns the outputs (4-D ones in whichever layout they ended in). */
  run(inputs: Map<string, Value>): Value[] {
    return tidy(() => {
      const values = new Map<string, Value>(inputs);
      const ctx = {
        training: this.training,
        opset: this.graph.opset,
        layer: undefined as Module | undefined,
        constant: (name: string) => this.graph.constants.get(name),
      };
      for (const n of this.nodes) {
        const x = n.inputs.map((i) => (i ? values.get(i) : undefined));
        const missing = n.inputs.find((i, k) => i && !x[k] && !this.graph.constants.has(i));
        if (missing) throw new TesseraError(`ONNX graph: node '${n.name}' needs '${missing}', which nothing gave`);
        ctx.layer = this.layers.get(n);
        values.set(n.outputs[0]!, OPS[n.op]!.run(n, x, ctx));
      }
      const out = this.outputs.map((o) => {
        const c = this.graph.constants.get(o);
        return values.get(o) ?? (c ? { t: tensor(c.data, c.dims.length ? c.dims : [1]), nhwc: false } : undefined);
      });
      if (out.some((v) => !v)) throw new TesseraError(`ONNX graph: output '${this.outputs[out.findIndex((v) => !v)]}' was not computed`);
      return out as Value[];
    }) as Value[];
  }
}
