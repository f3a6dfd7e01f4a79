/** The user's weight cache now lives in @tessera/nn/node (weights-cache.ts); re-exported for `weights get`. */
export { TORCHVISION_BASE_URL, TORCHVISION_FILES, cachedWeightsPath, hashPrefixOf, torchvisionSource, weightsCacheDir, type WeightsSource } from '@tessera/nn/node';
