/**
 * An ONNX CNN classifier, fastai-style: the body is the graph up to its classifier, then
 * fastai's head for the new classes (`createHead`). The cut is fastai's rule for models it does
 * not know — before the last pooling layer — also leaving out a classifier made of a Dropout
 * and a 1×1 convolution before that pool (SqueezeNet's), as fastai's SqueezeNet cut does.
 */
import { type Tensor, TesseraError, noGrad, zeros } from '@tessera/tensor';
import { Sequential, VisionModel, createHead, type HeadOptions } from '@tessera/nn';
import type { GraphNode, ParsedGraph } from './graph.js';
import { OnnxGraphModule } from './graph-module.js';

const POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'AveragePool']);
const CLASSIFIER_CONV = new Set(['Conv', 'Relu', 'Clip', 'LeakyRelu', 'Softmax']);

/** The value the body ends with (an NCHW feature map in ONNX terms). */
export function bodyOutput(g: ParsedGraph, source: string): string {
  const pool = [...g.nodes].reverse().find((n) => POOLS.has(n.op));
  if (!pool) throw new TesseraError(`${source}: no pooling layer to cut the classifier at (GlobalAveragePool, GlobalMaxPool or AveragePool); is it a CNN classifier?`);
  const producer = new Map<string, GraphNode>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  let cur = pool.inputs[0]!;
  for (let p = producer.get(cur); p && CLASSIFIER_CONV.has(p.op); p = producer.get(cur)) cur = p.inputs[0]!;
  const before = producer.get(cur);
  return before && (before.op === 'Dropout' || before.op === 'Identity') ? before.inputs[0]! : pool.inputs[0]!;
}

/** The graph's input size (height of an NCHW input), or `fallback` when it is symbolic. */
export function inputSize(g: ParsedGraph, fallback = 224): number {
  const d = g.inputs[0]?.dims;
  return d && d.length === 4 && d[2] ? d[2] : fallback;
}

/** The body's output channels, from one forward pass of a blank image. */
function featureCount(body: OnnxGraphModule, size: number): number {
  const was = body.training;
  body.eval();
  const y = noGrad(() => {
    const x = zeros([1, size, size, 3]);
    const out: Tensor = body.call(x);
    x.dispose();
    return out;
  });
  body.train(was);
  const c = y.shape[y.rank - 1]!;
  if (y.rank !== 4) throw new TesseraError(`ONNX body: expected a feature map, got a rank-${y.rank} value`);
  y.dispose();
  return c;
}

/** Body of the ONNX classifier + fastai's head for `nClasses`. */
export function onnxVisionModel(g: ParsedGraph, nClasses: number, opts: HeadOptions & { source: string; size?: number }): VisionModel {
  const body = new OnnxGraphModule(g, { source: opts.source, outputs: [bodyOutput(g, opts.source)] });
  const nf = featureCount(body, opts.size ?? inputSize(g));
  return new VisionModel(new Sequential(body), createHead(nf, nClasses, opts), [], 'onnx');
}
