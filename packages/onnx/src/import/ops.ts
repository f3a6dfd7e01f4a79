/**
 * The ONNX operators an imported graph may use, each as: `check` (what about this node the
 * importer cannot do, as words: every problem of every node is listed before anything loads),
 * `layer` (the trainable module for a node with weights) and `run` (the Tessera ops).
 *
 * Layout: Tessera's 4-D activations are NHWC, ONNX's NCHW. A value carries a flag saying
 * which it is; convolutions and pools take NHWC, axis-sensitive ops (Concat, Softmax, Flatten,
 * Reshape, MatMul) map their axis or turn the value back to NCHW, so results are ONNX's.
 */
import {
  type Tensor, add, adaptiveAvgPool2d, adaptiveMaxPool2d, avgPool2d, clamp, concat, contiguous, dropout, full, leakyRelu,
  matmul, maxPool2d, permute, relu, reshape, softmax, tensor,
} from '@tessera/tensor';
import type { Module } from '@tessera/nn';
import type { AttrValue, GraphNode, ParsedGraph } from './graph.js';
import type { ConstTensor } from './tensor-data.js';
import { OnnxBatchNorm, OnnxConv, OnnxLinear } from './layers.js';

export interface Value {
  t: Tensor;
  /** True when a rank-4 value is stored NHWC (Tessera's layout) rather than ONNX's NCHW. */
  nhwc: boolean;
}

export interface RunContext {
  training: boolean;
  /** The node's trainable module, if it has one. */
  layer: Module | undefined;
  /** The graph's opset (Softmax changed meaning at 13). */
  opset: number;
  constant(name: string): ConstTensor | undefined;
}

interface OpSpec {
  check(n: GraphNode, g: ParsedGraph): string[];
  layer?(n: GraphNode, g: ParsedGraph): Module | undefined;
  run(n: GraphNode, x: (Value | undefined)[], ctx: RunContext): Value;
}

const int = (n: GraphNode, k: string, d: number): number => (n.attrs.has(k) ? (n.attrs.get(k) as number) : d);
const ints = (n: GraphNode, k: string): number[] | undefined => n.attrs.get(k) as number[] | undefined;
const float = (n: GraphNode, k: string, d: number): number => (n.attrs.has(k) ? (n.attrs.get(k) as number) : d);
const str = (n: GraphNode, k: string, d: string): string => (n.attrs.has(k) ? (n.attrs.get(k) as string) : d);

/** Attributes other than `known`, as problems. */
function unknownAttrs(n: GraphNode, known: string[]): string[] {
  return [...n.attrs.keys()].filter((k) => !known.includes(k)).map((k) => `attribute ${k} is not supported`);
}

function needConst(n: GraphNode, g: ParsedGraph, i: number, what: string): string[] {
  const name = n.inputs[i];
  return name && !g.constants.has(name) ? [`${what} (input ${i}) must be a constant (an initializer), not computed`] : [];
}

export function toNHWC(v: Value): Value {
  return v.t.rank === 4 && !v.nhwc ? { t: contiguous(permute(v.t, [0, 2, 3, 1])), nhwc: true } : v;
}

export function toNCHW(v: Value): Value {
  return v.t.rank === 4 && v.nhwc ? { t: contiguous(permute(v.t, [0, 3, 1, 2])), nhwc: false } : v;
}

/** ONNX's NCHW axis of a 4-D value as the axis of its NHWC storage. */
const NHWC_AXIS = [0, 3, 1, 2];

/** Symmetric 2-D pads from ONNX's [top, left, bottom, right], with the problems. */
function pads2d(n: GraphNode): { pads: [number, number]; problems: string[] } {
  const p = ints(n, 'pads') ?? [0, 0, 0, 0];
  const autoPad = str(n, 'auto_pad', 'NOTSET');
  const problems: string[] = [];
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') problems.push(`auto_pad=${autoPad} is not supported (give explicit pads)`);
  if (p.length !== 4) problems.push(`pads=[${p}] is not 2-D`);
  else if (p[0] !== p[2] || p[1] !== p[3]) problems.push(`asymmetric pads=[${p}] are not supported`);
  return { pads: autoPad === 'VALID' ? [0, 0] : [p[0] ?? 0, p[1] ?? 0], problems };
}

function spatial2d(n: GraphNode, keys: string[]): string[] {
  return keys.flatMap((k) => {
    const v = ints(n, k);
    return v && v.length !== 2 ? [`${k}=[${v}] is not 2-D (only 2-D ${n.op} is supported)`] : [];
  });
}

function pool(kind: 'max' | 'avg'): OpSpec {
  const known = ['kernel_shape', 'strides', 'pads', 'auto_pad', 'ceil_mode', 'dilations', 'storage_order', 'count_include_pad'];
  return {
    check(n) {
      const problems = [...unknownAttrs(n, known), ...spatial2d(n, ['kernel_shape', 'strides', 'dilations']), ...pads2d(n).problems];
      if ((ints(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) problems.push(`dilations=[${ints(n, 'dilations')}] (dilated pooling) is not supported`);
      if (int(n, 'storage_order', 0) !== 0) problems.push('storage_order=1 is not supported');
      if (n.outputs.length > 1 && n.outputs[1]) problems.push('the Indices output is not supported');
      if (kind === 'avg' && int(n, 'ceil_mode', 0) !== 0) problems.push('ceil_mode=1 is not supported for AveragePool');
      const k = ints(n, 'kernel_shape') ?? [];
      const { pads } = pads2d(n);
      if (k.length === 2 && (2 * pads[0] > k[0]! || 2 * pads[1] > k[1]!)) problems.push(`pads=[${ints(n, 'pads')}] larger than half the kernel are not supported`);
      return problems;
    },
    run(n, [x0]) {
      let x = toNHWC(x0!).t;
      const kernel = ints(n, 'kernel_shape')! as [number, number];
      const stride = (ints(n, 'strides') ?? [1, 1]) as [number, number];
      const { pads } = pads2d(n);
      if (kind === 'avg') return { t: avgPool2d(x, { kernel, stride, padding: pads, countIncludePad: int(n, 'count_include_pad', 0) === 1 }), nhwc: true };
      if (int(n, 'ceil_mode', 0) === 1) x = ceilModePad(x, kernel, stride, pads);
      return { t: maxPool2d(x, { kernel, stride, padding: pads }), nhwc: true };
    },
  };
}

/**
 * ceil_mode for max pooling: pads the bottom and right with a very negative value so that the
 * floor-mode pool gives ceil-mode's extra window (PyTorch's rule: a last window starting in the
 * right padding is dropped). The padding never wins a max, so the gradient is unchanged.
 */
function ceilModePad(x: Tensor, k: [number, number], s: [number, number], p: [number, number]): Tensor {
  const extra = (d: number, size: number) => {
    let out = Math.ceil((size + 2 * p[d]! - k[d]!) / s[d]!) + 1;
    if ((out - 1) * s[d]! >= size + p[d]!) out--;
    return Math.max(0, (out - 1) * s[d]! + k[d]! - (size + 2 * p[d]!));
  };
  const [N, H, W, C] = x.shape as unknown as [number, number, number, number];
  const eh = extra(0, H);
  const ew = extra(1, W);
  let y = x;
  if (eh > 0) y = concat([y, full([N, eh, W, C], -3.0e38)], 1);
  if (ew > 0) y = concat([y, full([N, H + eh, ew, C], -3.0e38)], 2);
  return y;
}

/** Broadcasts a constant against a 4-D NHWC value: ONNX's shape, right-aligned to rank 4, then as NHWC. */
function constantLike(c: ConstTensor, other: Value): Tensor {
  if (other.t.rank !== 4 || !other.nhwc) return tensor(c.data, c.dims.length ? c.dims : [1]);
  const dims = [...Array(4 - c.dims.length).fill(1), ...c.dims];
  return contiguous(permute(tensor(c.data, dims), [0, 2, 3, 1]));
}

function constantOrInput(ctx: RunContext, n: GraphNode, i: number, x: (Value | undefined)[], other: Value): Value {
  const c = ctx.constant(n.inputs[i]!);
  return c ? { t: constantLike(c, other), nhwc: other.nhwc } : x[i]!;
}

function constScalar(ctx: RunContext, name: string | undefined, d: number): number {
  const c = name ? ctx.constant(name) : undefined;
  return c && c.data.length ? c.data[0]! : d;
}

export const OPS: Record<string, OpSpec> = {
  Conv: {
    check(n, g) {
      const problems = [...unknownAttrs(n, ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad']), ...spatial2d(n, ['kernel_shape', 'strides', 'dilations']), ...pads2d(n).problems];
      problems.push(...needConst(n, g, 1, 'the weight'), ...needConst(n, g, 2, 'the bias'));
      const w = g.constants.get(n.inputs[1]!);
      if (w && w.dims.length !== 4) problems.push(`a ${w.dims.length - 2}-D convolution (weight [${w.dims}]) is not supported (only 2-D)`);
      return problems;
    },
    layer(n, g) {
      const w = g.constants.get(n.inputs[1]!)!;
      const b = n.inputs[2] ? g.constants.get(n.inputs[2])! : null;
      return new OnnxConv(w, b, {
        stride: (ints(n, 'strides') ?? [1, 1]) as [number, number],
        padding: pads2d(n).pads,
        dilation: (ints(n, 'dilations') ?? [1, 1]) as [number, number],
        groups: int(n, 'group', 1),
      });
    },
    run: (n, [x], ctx) => ({ t: ctx.layer!.call(toNHWC(x!).t), nhwc: true }),
  },
  BatchNormalization: {
    check(n, g) {
      const problems = unknownAttrs(n, ['epsilon', 'momentum', 'training_mode', 'spatial']);
      if (int(n, 'training_mode', 0) !== 0 || n.outputs.filter(Boolean).length > 1) problems.push('training_mode=1 (statistics as outputs) is not supported');
      if (int(n, 'spatial', 1) !== 1) problems.push('spatial=0 is not supported');
      for (let i = 1; i <= 4; i++) problems.push(...needConst(n, g, i, ['', 'the scale', 'the bias', 'the mean', 'the variance'][i]!));
      return problems;
    },
    layer(n, g) {
      const [s, b, m, v] = [1, 2, 3, 4].map((i) => g.constants.get(n.inputs[i]!)!);
      return new OnnxBatchNorm(s!, b!, m!, v!, float(n, 'epsilon', 1e-5), float(n, 'momentum', 0.9));
    },
    run(n, [x], ctx) {
      const v = x!.t.rank === 4 ? toNHWC(x!) : x!;
      return { t: ctx.layer!.call(v.t), nhwc: v.nhwc };
    },
  },
  Relu: { check: (n) => unknownAttrs(n, []), run: (n, [x]) => ({ t: relu(x!.t), nhwc: x!.nhwc }) },
  LeakyRelu: { check: (n) => unknownAttrs(n, ['alpha']), run: (n, [x]) => ({ t: leakyRelu(x!.t, float(n, 'alpha', 0.01)), nhwc: x!.nhwc }) },
  Clip: {
    check: (n, g) => [...unknownAttrs(n, ['min', 'max']), ...needConst(n, g, 1, 'min'), ...needConst(n, g, 2, 'max')],
    run(n, [x], ctx) {
      // Opset 11 moved min and max from attributes to inputs; absent means unbounded.
      const lo = n.attrs.has('min') ? float(n, 'min', 0) : constScalar(ctx, n.inputs[1], -3.4e38);
      const hi = n.attrs.has('max') ? float(n, 'max', 0) : constScalar(ctx, n.inputs[2], 3.4e38);
      return { t: clamp(x!.t, lo, hi), nhwc: x!.nhwc };
    },
  },
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: { check: (n) => unknownAttrs(n, []), run: (n, [x]) => ({ t: adaptiveAvgPool2d(toNHWC(x!).t, [1, 1]), nhwc: true }) },
  GlobalMaxPool: { check: (n) => unknownAttrs(n, []), run: (n, [x]) => ({ t: adaptiveMaxPool2d(toNHWC(x!).t, [1, 1]), nhwc: true }) },
  Add: {
    check: (n) => unknownAttrs(n, []),
    run(n, x, ctx) {
      const known = x[0] ?? x[1]!;
      let a = constantOrInput(ctx, n, 0, x, known);
      let b = constantOrInput(ctx, n, 1, x, known);
      if (a.nhwc !== b.nhwc && (a.t.rank === 4 || b.t.rank === 4)) [a, b] = [toNCHW(a), toNCHW(b)];
      return { t: add(a.t, b.t), nhwc: a.nhwc && a.t.rank === 4 };
    },
  },
  Concat: {
    check: (n) => unknownAttrs(n, ['axis']),
    run(n, x, ctx) {
      const first = x.find(Boolean)!;
      let vs = n.inputs.map((_, i) => constantOrInput(ctx, n, i, x, first));
      const rank = first.t.rank;
      let axis = int(n, 'axis', 0);
      if (axis < 0) axis += rank;
      if (rank === 4 && vs.every((v) => v.nhwc)) return { t: concat(vs.map((v) => v.t), NHWC_AXIS[axis]!), nhwc: true };
      vs = vs.map(toNCHW);
      return { t: concat(vs.map((v) => v.t), axis), nhwc: false };
    },
  },
  Flatten: {
    check: (n) => unknownAttrs(n, ['axis']),
    run(n, [x]) {
      const v = toNCHW(x!);
      let axis = int(n, 'axis', 1);
      if (axis < 0) axis += v.t.rank;
      const lead = v.t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      return { t: reshape(v.t, [lead, v.t.size / lead]), nhwc: false };
    },
  },
  Reshape: {
    check: (n, g) => [...unknownAttrs(n, ['allowzero']), ...needConst(n, g, 1, 'the shape'), ...(int(n, 'allowzero', 0) ? ['allowzero=1 is not supported'] : [])],
    run(n, [x], ctx) {
      const v = toNCHW(x!);
      const spec = [...ctx.constant(n.inputs[1]!)!.data].map((d, i) => (d === 0 ? v.t.shape[i]! : d));
      const known = spec.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return { t: reshape(contiguous(v.t), spec.map((d) => (d === -1 ? v.t.size / known : d))), nhwc: false };
    },
  },
  Gemm: {
    check(n, g) {
      const problems = [...unknownAttrs(n, ['alpha', 'beta', 'transA', 'transB']), ...needConst(n, g, 1, 'B'), ...needConst(n, g, 2, 'C')];
      if (int(n, 'transA', 0) !== 0) problems.push('transA=1 is not supported');
      const c = n.inputs[2] ? g.constants.get(n.inputs[2]) : undefined;
      const b = g.constants.get(n.inputs[1]!);
      if (b && c && c.data.length !== 1 && c.data.length !== (int(n, 'transB', 0) ? b.dims[0] : b.dims[1])) problems.push(`C of shape [${c.dims}] (not one value per output) is not supported`);
      return problems;
    },
    layer(n, g) {
      const b = g.constants.get(n.inputs[1]!)!;
      const transB = int(n, 'transB', 0) === 1;
      const [out, inF] = transB ? [b.dims[0]!, b.dims[1]!] : [b.dims[1]!, b.dims[0]!];
      const alpha = float(n, 'alpha', 1);
      const w = new Float32Array(out * inF);
      for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = alpha * b.data[transB ? o * inF + i : i * out + o]!;
      const c = n.inputs[2] ? g.constants.get(n.inputs[2]) : undefined;
      const beta = float(n, 'beta', 1);
      const bias = c ? Float32Array.from({ length: out }, (_, o) => beta * c.data[c.data.length === 1 ? 0 : o]!) : null;
      return new OnnxLinear(w, out, inF, bias);
    },
    run: (n, [x], ctx) => ({ t: ctx.layer!.call(toNCHW(x!).t), nhwc: false }),
  },
  MatMul: {
    check: (n) => unknownAttrs(n, []),
    layer(n, g) {
      const b = g.constants.get(n.inputs[1]!);
      if (!b || b.dims.length !== 2) return undefined;
      const [inF, out] = b.dims as [number, number];
      const w = new Float32Array(out * inF);
      for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) w[o * inF + i] = b.data[i * out + o]!;
      return new OnnxLinear(w, out, inF, null);
    },
    run(n, x, ctx) {
      const a = toNCHW(x[0] ?? { t: tensor(ctx.constant(n.inputs[0]!)!.data, ctx.constant(n.inputs[0]!)!.dims), nhwc: false });
      if (ctx.layer) return { t: ctx.layer.call(a.t), nhwc: false };
      const b = toNCHW(x[1] ?? { t: tensor(ctx.constant(n.inputs[1]!)!.data, ctx.constant(n.inputs[1]!)!.dims), nhwc: false });
      return { t: matmul(a.t, b.t), nhwc: false };
    },
  },
  Dropout: {
    check: (n, g) => [
      ...unknownAttrs(n, ['ratio', 'seed', 'is_test']),
      ...needConst(n, g, 1, 'ratio'),
      ...needConst(n, g, 2, 'training_mode'),
      ...(n.outputs.length > 1 && n.outputs[1] ? ['the mask output is not supported'] : []),
    ],
    run(n, [x], ctx) {
      const p = n.attrs.has('ratio') ? float(n, 'ratio', 0.5) : constScalar(ctx, n.inputs[1], 0.5);
      // Inference unless the graph says training_mode and Tessera trains the module.
      const on = ctx.training && constScalar(ctx, n.inputs[2], 1) !== 0 && p > 0;
      return { t: on ? dropout(x!.t, p, true) : reshape(x!.t, x!.t.shape), nhwc: x!.nhwc };
    },
  },
  Softmax: {
    check: (n) => unknownAttrs(n, ['axis']),
    run(n, [x], ctx) {
      const v = toNCHW(x!);
      const r = v.t.rank;
      const opset13 = ctx.opset >= 13;
      let axis = int(n, 'axis', opset13 ? -1 : 1);
      if (axis < 0) axis += r;
      if (opset13 || axis === r - 1) return { t: softmax(v.t, axis), nhwc: false };
      // Before opset 13 Softmax worked on the input flattened to 2-D at `axis`.
      const lead = v.t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      return { t: reshape(softmax(reshape(contiguous(v.t), [lead, v.t.size / lead]), -1), v.t.shape), nhwc: false };
    },
  },
  Identity: { check: (n) => unknownAttrs(n, []), run: (n, [x]) => ({ t: reshape(x!.t, x!.t.shape), nhwc: x!.nhwc }) },
  Constant: { check: (n) => (n.attrs.has('value') ? [] : [`only a tensor 'value' is supported (has ${[...n.attrs.keys()].join(', ')})`]), run: () => { throw new Error('Constant runs at load'); } },
};

export const SUPPORTED_OPS = Object.keys(OPS);

/** Every problem of every node, as `Op 'name': problem` lines; empty when the graph can load. */
export function graphProblems(g: ParsedGraph): string[] {
  const problems: string[] = [];
  const unknown = new Map<string, string[]>();
  for (const n of g.nodes) {
    const spec = OPS[n.op];
    if (!spec) unknown.set(n.op, [...(unknown.get(n.op) ?? []), n.name]);
    else for (const p of spec.check(n, g)) problems.push(`${n.op} '${n.name}': ${p}`);
  }
  const few = (names: string[]) => names.slice(0, 3).map((x) => `'${x}'`).join(', ') + (names.length > 3 ? `, … ${names.length - 3} more` : '');
  const ops = [...unknown].map(([op, names]) => `${op}: the operator is not supported (${names.length} node${names.length > 1 ? 's' : ''}: ${few(names)})`);
  return [...ops, ...problems];
}

export type { AttrValue };
