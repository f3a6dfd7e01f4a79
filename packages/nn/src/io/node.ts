// The `io` namespace of @tessera/nn/node: everything in ./index.ts plus the file readers and writers.
export * from './index.js';
export {
  detectWeightFormat, readSafetensors, readStateDict, readTfjsModel, readTorch, writeSafetensors,
} from '../node/weight-files.js';
