/**
 * Neural-network ops: batch norm, pooling, dropout and fused softmax cross-entropy,
 * each in its folder here with autograd and a float64 CPU twin (twin.ts).
 *
 * Layout: 4-D activations are channels-last, NHWC — every op here takes and returns
 * tensors of shape [N, H, W, C] (batch, height, width, channels), which is what the
 * implicit-GEMM convolutions read and write. Converting from PyTorch's NCHW is a
 * permute([0, 2, 3, 1]) (strided views are accepted; ops copy them to dense first).
 * 2-D inputs ([N, C]: batchNorm1d, softmaxCrossEntropy's logits) are rows of features.
 */
export { batchNorm2d, batchNorm1d, batchNormFold, batchNormMaxPool2d, type BatchNormOptions, type BatchNormMaxPoolOptions, type BnActivation } from './batchnorm/op.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, type MaxPool2dOptions, type AvgPool2dOptions, type Size2 } from './pool/op.js';
export { dropout } from './dropout/op.js';
export { softmaxCrossEntropy, checkLabelErrors, type CrossEntropyOptions, type Reduction } from './cross-entropy/op.js';
