/**
 * ONNX files on disk: written atomically, read with the size checks every user file gets (and external data).
 * @module @tessera/onnx/node
 */
export { saveOnnx } from './onnx-files.js';
export { readOnnxFile, readOnnxModel, externalDataReader } from './read-onnx.js';
export { onnxClassifierMeta } from './classifier-meta.js';
