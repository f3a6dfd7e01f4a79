/**
 * ONNX export of Tessera models and import of ONNX CNN classifiers (browser-safe: bytes in, bytes out).
 * @module @tessera/onnx
 */
export { exportOnnx, ONNX_OPSET } from './export/export.js';
export { onnxMetadata } from './metadata.js';
export { decodeModel, encodeModel, decodeTensor, type ModelProto, type TensorProto } from './proto/onnx.js';
export { parseOnnx, type ParsedGraph, type GraphNode } from './import/graph.js';
export { readTensor, type ConstTensor, type ExternalDataReader } from './import/tensor-data.js';
export { OnnxGraphModule, UnsupportedOnnxError } from './import/graph-module.js';
export { SUPPORTED_OPS, toNCHW, toNHWC, type Value } from './import/ops.js';
export { bodyOutput, inputSize, onnxVisionModel } from './import/vision.js';
export { encodeGraph, decodeGraph, graphModel } from './import/graph-file.js';
