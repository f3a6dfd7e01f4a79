/**
 * An ONNX model's main graph in plain JavaScript: nodes with decoded attributes, constants
 * (initializers and Constant nodes, values known before anything runs), the graph's real
 * inputs and its outputs. Nothing here touches the GPU.
 */
import { TesseraError } from '@tessera/tensor';
import { AttrType, decodeModel, toNumber, type AttributeProto, type ModelProto } from '../proto/onnx.js';
import { readTensor, type ConstTensor, type ExternalDataReader } from './tensor-data.js';

export type AttrValue = number | number[] | string | ConstTensor;

export interface GraphNode {
  op: string;
  /** The node's name, or `<op> #<index>` when it has none (for messages). */
  name: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttrValue>;
  /** The attributes as the file had them (the exporter writes them back unchanged). */
  raw: AttributeProto[];
}

export interface ParsedGraph {
  nodes: GraphNode[];
  /** Initializers and Constant outputs by value name. */
  constants: Map<string, ConstTensor>;
  /** Inputs fed at run time (initializers listed as inputs excluded), with their declared dims (null: symbolic). */
  inputs: { name: string; dims: (number | null)[] }[];
  outputs: string[];
  /** The default domain's opset. */
  opset: number;
  metadata: Map<string, string>;
}

function attrValue(a: AttributeProto, what: string, external?: ExternalDataReader): AttrValue | undefined {
  switch (a.type) {
    case AttrType.FLOAT: return a.f ?? 0;
    case AttrType.INT: return toNumber(a.i);
    case AttrType.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case AttrType.FLOATS: return [...(a.floats ?? [])];
    case AttrType.INTS: return (a.ints ?? []).map(toNumber);
    case AttrType.TENSOR: return a.t ? readTensor(a.t, what, external) : undefined;
    default: return undefined;
  }
}

/** Parses ONNX bytes (`source` names the file in errors). */
export function parseOnnx(bytes: Uint8Array, source: string, external?: ExternalDataReader): ParsedGraph {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new TesseraError(`${source} is not an ONNX model (${(e as Error).message})`);
  }
  const g = model.graph;
  if (!g || !g.node?.length) throw new TesseraError(`${source} is not an ONNX model (no graph nodes)`);
  const opset = toNumber((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version) || 1;
  const constants = new Map<string, ConstTensor>();
  for (const t of g.initializer ?? []) constants.set(t.name ?? '', readTensor(t, `${source}: initializer '${t.name}'`, external));
  const nodes: GraphNode[] = g.node.map((n, i) => {
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : (n.opType ?? '');
    const name = n.name || `${op} #${i}`;
    const attrs = new Map<string, AttrValue>();
    for (const a of n.attribute ?? []) {
      const v = attrValue(a, `${source}: node '${name}' attribute ${a.name}`, external);
      if (v !== undefined) attrs.set(a.name ?? '', v);
    }
    return { op, name, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs, raw: n.attribute ?? [] };
  });
  // Values known before anything runs: Constant nodes, and Identity of a constant (torch.onnx
  // shares equal initializers, e.g. zero biases, through Identity nodes).
  for (const n of nodes) {
    const value = n.attrs.get('value');
    if (n.op === 'Constant' && value && typeof value === 'object' && !Array.isArray(value)) constants.set(n.outputs[0]!, value);
    if (n.op === 'Identity' && constants.has(n.inputs[0]!)) constants.set(n.outputs[0]!, constants.get(n.inputs[0]!)!);
  }
  const inputs = (g.input ?? [])
    .filter((v) => !constants.has(v.name ?? ''))
    .map((v) => ({
      name: v.name ?? '',
      dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : null)),
    }));
  const metadata = new Map((model.metadataProps ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  return { nodes, constants, inputs, outputs: (g.output ?? []).map((o) => o.name ?? ''), opset, metadata };
}
