/**
 * Everything in @tessera/fastai, plus what only Node can do: folders
 * (ImageDataLoaders.fromFolder), image and model files (predict(path), export(path),
 * loadLearner(path)), worker threads for loading, and the ImageNet weights lookup
 * (@tessera/nn/node: $TESSERA_WEIGHTS, ./weights, the cache, the bundled Tiny Darknet).
 * @module @tessera/fastai/node
 */
import { registerNodePlatform } from '../platform.js';
import { nodePlatformImpl } from './platform.js';

registerNodePlatform(nodePlatformImpl);

export * from '../index.js';
