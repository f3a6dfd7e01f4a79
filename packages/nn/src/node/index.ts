/**
 * The Node-only part of @tessera/nn: weight and model files on disk,
 * the learner's file store and training-state files. Everything else (and everything a
 * browser can run) is in the main entry, @tessera/nn.
 * @module @tessera/nn/node
 */
export * as io from '../io/node.js';
export { saveModel, saveStateDictAsModel, loadModel } from './model-files.js';
export { fileStore, hasCheckpoint, readCheckpoint, readStateFile, writeStateFile } from './file-store.js';
export { writeChunksAtomic } from './atomic-write.js';
export { BUNDLED_WEIGHTS_DIR, bundledWeights } from './bundled-weights.js';
export { cliCommand, isInstalledPackage } from './cli-command.js';
export {
  TORCHVISION_BASE_URL, TORCHVISION_FILES, cachedWeightsPath, hashPrefixOf, torchvisionSource, weightsCacheDir, type WeightsSource,
} from './weights-cache.js';
export {
  describeWeights, findWeights, imagenetClassifier, loadPretrainedFile, missingWeightsMessage, modelFileMeta, tfjsClassifier,
  weightsCandidates, type WeightsPlace,
} from './pretrained-weights.js';
