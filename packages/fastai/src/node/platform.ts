/** The Node side of the API (platform.ts): files, folders, worker threads, the weights lookup. */
import { readFileChecked } from '@tessera/tensor/node';
import {
  fileStore, findWeights, loadModel, loadPretrainedFile, missingWeightsMessage, saveModel, tfjsClassifier,
} from '@tessera/nn/node';
import { saveOnnx } from '@tessera/onnx/node';
import { ImageFolder, confusionMatrix, decodeImageFile, lineChart, showBatch, workerThreads } from '@tessera/vision/node';
import type { NodePlatform } from '../platform.js';

/**
 * Each loader worker keeps up to this many bytes of decoded, resized images, so a folder that fits
 * is decoded once, not every epoch: the decoding took CPU from the training step on a machine
 * whose cores also run the (software) GPU. Paintings at 128 px: 500 images at 160² are 38 MB.
 */
export const FOLDER_MEMORY_CACHE_BYTES = 256 * 2 ** 20;

export const nodePlatformImpl: NodePlatform = {
  threads: workerThreads,
  async openFolder(folder, o) {
    const f = await ImageFolder.open(folder, {
      validPct: o.validPct, seed: o.seed, maxBadFraction: o.maxBadFraction, verify: o.verify ? 'decode' : 'header',
      cache: { memoryBytes: FOLDER_MEMORY_CACHE_BYTES },
    });
    const skipped = f.skipped.length ? `, ${f.skipped.length} unreadable files skipped` : '';
    return {
      train: f.train, valid: f.valid, classes: [...f.classes], skipped: f.skipped.length,
      describe: `${folder}: ${f.train.length} training and ${f.valid.length} validation images in ${f.classes.length} classes ` +
        `(${f.split === 'folders' ? 'train/valid folders' : `random ${Math.round(o.validPct * 100)}% validation split`})${skipped}`,
    };
  },
  decodeImageFile: (path) => decodeImageFile(path),
  readFile: (path) => readFileChecked(path),
  saveModel,
  saveOnnx,
  // A TF.js model.json (Tiny Darknet) converts on the fly; anything else is a Tessera model file.
  loadModel: (path) => (path.endsWith('.json') ? tfjsClassifier(path) : loadModel(path)),
  fileStore,
  findWeights,
  loadPretrainedFile,
  missingWeightsMessage: (arch) => missingWeightsMessage(arch, false),
  pictures: { showBatch, lineChart, confusionMatrix },
};
