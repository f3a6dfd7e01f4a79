/**
 * Collects an ONNX graph while the exporter walks a model: nodes in order, initializers
 * (weights) by their Tessera state-dict key, and fresh value names.
 */
import type { AttributeProto, NodeProto, TensorProto } from '../proto/onnx.js';
import { AttrType, floatTensor, int64Tensor } from '../proto/onnx.js';

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: AttrType.INT, i: v };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
  return { name, type: AttrType.FLOATS, floats: v.floats };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;

  /** A new value name, e.g. `relu_12`. */
  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  /** Adds a node with one output and returns the output's name. */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name?: string): string {
    const out = this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType,
      name: name ?? out,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** Adds a float initializer named `name` and returns the name. */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** An int64 initializer named `name` (shapes, axes). */
  intsNamed(name: string, dims: readonly number[], data: readonly number[]): string {
    this.initializers.push(int64Tensor(name, dims, data));
    return name;
  }

  ints(hint: string, data: readonly number[]): string {
    const name = this.fresh(hint);
    this.initializers.push(int64Tensor(name, [data.length], data));
    return name;
  }
}
