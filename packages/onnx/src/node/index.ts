/** @tessera/onnx/node — ONNX files on disk: written atomically, read with the size checks every user file gets. */
export { saveOnnx } from './onnx-files.js';
