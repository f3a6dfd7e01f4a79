/**
 * What a model file needs to say about an imported ONNX classifier: its class names (from
 * `labels`, the ONNX file's own `classes` metadata when Tessera exported it, or 0..N-1) and
 * its preprocessing (Tessera's own when exported by Tessera; else torchvision's ImageNet
 * convention at the graph's input size).
 */
import { noGrad, zeros, TesseraError } from '@tessera/tensor';
import type { Preprocess } from '@tessera/nn';
import type { ParsedGraph } from '../import/graph.js';
import { OnnxGraphModule } from '../import/graph-module.js';
import { inputSize } from '../import/vision.js';

export function onnxPreprocess(g: ParsedGraph): Preprocess {
  const own = g.metadata.get('tessera.preprocess');
  if (own) return JSON.parse(own) as Preprocess;
  return { size: inputSize(g), normalize: 'imagenet', resize: 'crop' };
}

/** The classifier's output count, from one forward pass of a blank image. */
function outputCount(m: OnnxGraphModule, size: number): number {
  m.eval();
  const y = noGrad(() => m.call(zeros([1, size, size, 3])));
  const n = y.shape[y.rank - 1]!;
  if (y.rank !== 2) throw new TesseraError(`the ONNX graph's output has shape [${y.shape}], not [batch, classes]: is it a classifier?`);
  y.dispose();
  return n;
}

export function onnxClassifierMeta(g: ParsedGraph, module: OnnxGraphModule, labels: string[] | null): { classes: string[]; preprocess: Preprocess; note: string } {
  const preprocess = onnxPreprocess(g);
  const n = outputCount(module, preprocess.size);
  const own = g.metadata.get('classes');
  if (labels) {
    if (labels.length !== n) throw new TesseraError(`the labels name ${labels.length} classes but the model has ${n} outputs`);
    return { classes: labels, preprocess, note: 'names from the labels file' };
  }
  if (own) return { classes: JSON.parse(own) as string[], preprocess, note: 'names from the ONNX metadata' };
  return { classes: Array.from({ length: n }, (_, i) => String(i)), preprocess, note: `no --labels file; classes are named 0..${n - 1}` };
}
