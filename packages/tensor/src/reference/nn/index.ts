/** CPU twins (float64) of the nn kernels, for tests and host-side checks. */
export * from '../../ops/nn/batchnorm/twin.js';
export * from '../../ops/nn/pool/twin.js';
export * from '../../ops/nn/dropout/twin.js';
export * from '../../ops/nn/cross-entropy/twin.js';
