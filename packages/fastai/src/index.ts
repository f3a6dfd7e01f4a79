/**
 * fastai's vocabulary for Tessera, in camelCase with fastai's defaults:
 *
 *   const dls = await ImageDataLoaders.fromFolder('paintings', { itemTfms: resize(224), batchTfms: augTransforms() });
 *   const learn = await visionLearner(dls, 'resnet34', { metrics: [errorRate] });
 *   const { valley } = await learn.lrFind();
 *   await learn.fineTune(4, valley);
 *
 * A layer of names and wiring over @tessera/vision (data) and @tessera/nn (the Learner):
 * no training logic of its own. This entry runs in a browser (fromFiles, bytes, SVG pictures);
 * @tessera/fastai/node re-exports it and adds files, folders and the weights lookup.
 * @module @tessera/fastai
 */
export { resize, augTransforms, type Resize, type ResizeMethod, type AugTransformsOptions } from './transforms.js';
export { ImageDataLoaders, TooFewImagesError, type ImageDataLoadersOptions, type CountingOptions } from './data-loaders.js';
export {
  VisionLearner, visionLearner, visionLearnerFor, plotLrFind, plotLoss, tuneGemms, stepKernels, prepareKernels, type BuiltVisionModel, type VisionLearnerOptions, type LrFindSuggestions, type TtaResult,
} from './vision-learner.js';
export { ClassificationInterpretation } from './interpretation.js';
export { InferenceLearner, loadLearner, predictImage, prepareImage, readImage, toBatch, type ImageInput } from './inference.js';
export type { Picture, PictureOptions } from './pictures.js';
export { registerNodePlatform, type NodePlatform, type FolderData } from './platform.js';
// The names a lesson also uses, from the packages below.
export {
  errorRate, accuracy, valley, minimum, steep, slide, Learner, Module, Sequential, ARCHS, io,
  type Arch, type Prediction, type Metric, type Callback,
} from '@tessera/nn';
export { webWorkers, type LoaderThreads } from '@tessera/vision';
