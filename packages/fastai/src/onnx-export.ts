/**
 * ONNX export for the learners (VisionLearner, InferenceLearner): @tessera/onnx's exporter with
 * the learner's metadata, so the file carries the class names and the preprocessing exactly as
 * `tessera export` writes them. Bytes anywhere; a file (atomically) in Node.
 */
import type { ModelMeta, Module } from '@tessera/nn';
import { exportOnnx } from '@tessera/onnx';
import { requireNode } from './platform.js';

/** The ONNX model's bytes: input `input` [batch, 3, size, size] NCHW normalised, output `logits`. */
export function onnxBytes(model: Module, meta: ModelMeta): Promise<Uint8Array> {
  return exportOnnx(model, meta);
}

/** Writes the ONNX model at `path` (temporary file, then rename). Node only. */
export async function saveOnnxFile(path: string, model: Module, meta: ModelMeta): Promise<void> {
  const node = requireNode('exportOnnx(path)', 'use exportOnnxBytes() and save the bytes');
  if (!path.endsWith('.onnx')) throw new RangeError(`exportOnnx: the path '${path}' must end in .onnx`);
  await node.saveOnnx(path, model, meta);
}
