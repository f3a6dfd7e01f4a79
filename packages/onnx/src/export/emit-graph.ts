/**
 * An imported ONNX graph (OnnxGraphModule) back to ONNX nodes, with its current — possibly
 * fine-tuned — weights: each node keeps its operator and attributes; weighted nodes take their
 * parameters from the state dict (Gemm and MatMul as the importer folded them: Gemm with
 * transB=1, alpha and beta applied), constants travel as initializers.
 */
import { TesseraError } from '@tessera/tensor';
import type { OnnxGraphModule } from '../import/graph-module.js';
import type { EmitContext } from './emit-modules.js';

export function emitGraph(ctx: EmitContext, m: OnnxGraphModule, prefix: string, x: string): string {
  const { g, sd } = ctx;
  const names = new Map<string, string>([[m.graph.inputs[0]!.name, x]]);
  const tensorOf = (key: string) => {
    const t = sd.get(key);
    if (!t || !(t.data instanceof Float32Array)) throw new TesseraError(`ONNX export: the model has no f32 tensor '${key}'`);
    return { shape: t.shape, data: t.data };
  };
  const param = (key: string) => {
    const t = tensorOf(key);
    return g.weight(key, t.shape, t.data);
  };
  const constant = (name: string) => {
    const c = m.graph.constants.get(name)!;
    const key = `${prefix}.const.${name}`;
    if (!names.has(name)) names.set(name, c.kind === 'float' ? g.weight(key, c.dims, c.data) : g.intsNamed(key, c.dims, [...c.data]));
    return names.get(name)!;
  };
  const input = (name: string) => (name === '' ? '' : m.graph.constants.has(name) ? constant(name) : names.get(name)!);
  for (const n of m.nodes) {
    const layer = m.layerNames.get(n);
    const p = (suffix: string) => `${prefix}.${layer}.${suffix}`;
    let op = n.op;
    let inputs: string[];
    let attrs = n.raw;
    if (!layer) inputs = n.inputs.map(input);
    else if (n.op === 'Conv') inputs = [input(n.inputs[0]!), param(p('weight')), ...(sd.has(p('bias')) ? [param(p('bias'))] : [])];
    else if (n.op === 'BatchNormalization') inputs = [input(n.inputs[0]!), ...['weight', 'bias', 'running_mean', 'running_var'].map((k) => param(p(k)))];
    else if (n.op === 'Gemm') {
      inputs = [input(n.inputs[0]!), param(p('weight')), ...(sd.has(p('bias')) ? [param(p('bias'))] : [])];
      attrs = [{ name: 'transB', type: 2, i: 1 }];
    } else {
      // MatMul with a constant right side: W is [out, in] here, MatMul wants [in, out].
      const w = tensorOf(p('weight'));
      const [out, inF] = w.shape as [number, number];
      const t = new Float32Array(out * inF);
      for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) t[i * out + o] = w.data[o * inF + i] as number;
      op = 'MatMul';
      inputs = [input(n.inputs[0]!), g.weight(p('weight'), [inF, out], t)];
      attrs = [];
    }
    const outName = g.fresh(n.op.toLowerCase());
    g.nodes.push({ opType: op, name: `${prefix}/${n.name}`, input: inputs, output: [outName], attribute: attrs });
    names.set(n.outputs[0]!, outName);
  }
  const y = names.get(m.outputs[0]!);
  if (!y) throw new TesseraError(`ONNX export: the graph's output '${m.outputs[0]}' is a constant`);
  return y;
}
