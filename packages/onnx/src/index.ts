/** @tessera/onnx — ONNX export of Tessera models and import of ONNX CNN classifiers. */
export { exportOnnx, ONNX_OPSET } from './export/export.js';
export { onnxMetadata } from './metadata.js';
export { decodeModel, encodeModel, type ModelProto } from './proto/onnx.js';
