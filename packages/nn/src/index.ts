/**
 * Modules, models, weight conversion, optimizers and the learner.
 * @module @tessera/nn
 */
export * from './module.js';
export * from './init.js';
export * from './layers/conv.js';
export * from './layers/linear.js';
export * from './layers/batchnorm.js';
export * from './layers/simple.js';
export * from './layers/fused.js';
export * from './models/resnet.js';
export * from './models/darknet.js';
export * from './models/darknet-keys.js';
export * from './models/vision-model.js';
export * from './weights.js';
export * from './optim/optimizer.js';
export * from './optim/sgd.js';
export * from './optim/adam.js';
export * from './optim/schedules.js';
export * as io from './io/index.js';
export * from './learner/index.js';
export * from './model-file.js';
