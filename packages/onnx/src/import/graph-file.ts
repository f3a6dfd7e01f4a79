/**
 * An imported network inside a Tessera model file: the ONNX graph without its weights
 * (base64 of the ModelProto, weight initializers emptied and marked), since the file's tensors
 * hold the weights — trained ones, after fine-tuning. `registerGraphModels` teaches
 * @tessera/nn's model files to rebuild such a network (arch 'graph').
 */
import { registerGraphModels, type ModelMeta, type Module } from '@tessera/nn';
import { TesseraError } from '@tessera/tensor';
import { decodeModel, reencodeModel } from '../proto/onnx.js';
import { parseOnnx, type ParsedGraph } from './graph.js';
import { OnnxGraphModule } from './graph-module.js';
import { STRIPPED } from './tensor-data.js';
import { onnxVisionModel } from './vision.js';

/** Operators whose inputs after the first are weights (they become parameters). */
const WEIGHTED = new Set(['Conv', 'BatchNormalization', 'Gemm', 'MatMul']);

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The graph of ONNX `bytes` without its weights, as a model file's `graph`. */
export function encodeGraph(bytes: Uint8Array): string {
  const model = decodeModel(bytes);
  const g = model.graph!;
  const weights = new Set((g.node ?? []).filter((n) => WEIGHTED.has(n.opType ?? '')).flatMap((n) => (n.input ?? []).slice(1)));
  for (const t of g.initializer ?? []) {
    if (!weights.has(t.name ?? '')) continue;
    t.rawData = new Uint8Array();
    t.floatData = [];
    t.externalData = [];
    t.dataLocation = 0;
    t.docString = STRIPPED;
  }
  return `onnx:${toBase64(reencodeModel(model))}`;
}

export function decodeGraph(graph: string, source: string): ParsedGraph {
  if (!graph.startsWith('onnx:')) throw new TesseraError(`${source}: its graph is not an ONNX graph`);
  const bin = atob(graph.slice(5));
  return parseOnnx(Uint8Array.from(bin, (c) => c.charCodeAt(0)), source);
}

/** The network a 'graph' model file describes, with blank weights (the file's tensors follow). */
export function graphModel(meta: ModelMeta, source = 'model file'): Module {
  const g = decodeGraph(meta.graph ?? '', source);
  return meta.kind === 'vision'
    ? onnxVisionModel(g, meta.classes.length, { source, size: meta.preprocess.size })
    : new OnnxGraphModule(g, { source });
}

registerGraphModels((meta) => graphModel(meta));
