/**
 * CPU twins of every op (plain TypeScript over typed arrays with shape/strides),
 * with the GPU functional API's names and signatures so one expression can run on
 * both (see testing/ops.ts). Import as a namespace: `import * as ref from './reference/index.js'`.
 */
export * from './cpu-tensor.js';
export * from '../ops/elementwise/twin.js';
export * from '../ops/reduce/twin.js';
export * from '../ops/views/twin.js';
export * from '../ops/gather/twin.js';
export * from '../ops/softmax/twin.js';
export * as random from './random.js';
