/** Neural-network ops on channels-last (NHWC) activations: batch norm, pooling, dropout, softmax cross-entropy. */
export { batchNorm2d, batchNorm1d, type BatchNormOptions } from './batchnorm.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, type MaxPool2dOptions, type AvgPool2dOptions, type Size2 } from './pool.js';
export { dropout } from './dropout.js';
export { softmaxCrossEntropy, checkLabelErrors, type CrossEntropyOptions, type Reduction } from './cross-entropy.js';
