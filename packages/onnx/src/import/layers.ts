/**
 * The trainable layers an imported graph is made of: an ONNX node with weights becomes one of
 * these modules, so its weights are Tessera parameters (optimisers, freezing, state dicts and
 * fastai's parameter groups see them) and its forward is a Tessera op with autograd.
 * Weights arrive in ONNX's layout (OIHW convolutions) and are converted once, here.
 */
import { type Tensor, batchNorm1d, conv2d, linear, tensor } from '@tessera/tensor';
import { BatchNorm2d, Module } from '@tessera/nn';
import type { ConstTensor } from './tensor-data.js';

/** OIHW → OHWI, Tessera's convolution layout. */
function ohwi(w: ConstTensor): Tensor {
  const [O, I, H, W] = w.dims as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let h = 0; h < H; h++)
        for (let x = 0; x < W; x++) out[((o * H + h) * W + x) * I + i] = w.data[((o * I + i) * H + h) * W + x]!;
  return tensor(out, [O, H, W, I]);
}

export interface ConvGeometry {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

export class OnnxConv extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(w: ConstTensor, b: ConstTensor | null, readonly geometry: ConvGeometry) {
    super();
    this.weight = this.registerParameter('weight', ohwi(w));
    this.bias = b ? this.registerParameter('bias', tensor(b.data, [b.data.length])) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.geometry);
  }
}

/** BatchNormalization: BatchNorm2d on NHWC maps, BatchNorm1d's op on [N, C]. */
export class OnnxBatchNorm extends BatchNorm2d {
  constructor(scale: ConstTensor, bias: ConstTensor, mean: ConstTensor, variance: ConstTensor, eps: number, onnxMomentum: number) {
    // ONNX's momentum weighs the old statistics, PyTorch's (Tessera's) the new batch.
    super(scale.data.length, { eps, momentum: 1 - onnxMomentum });
    for (const [t, c] of [[this.weight, scale], [this.bias, bias], [this.runningMean, mean], [this.runningVar, variance]] as const) {
      const v = tensor(c.data, [c.data.length]);
      t.copyFrom(v);
      v.dispose();
    }
  }

  override forward(x: Tensor): Tensor {
    if (x.rank === 4) return super.forward(x);
    this.countBatch();
    return batchNorm1d(x, this.weight, this.bias, this.runningMean, this.runningVar, { training: this.training, momentum: this.momentum, eps: this.eps });
  }
}

/** Gemm / MatMul with a constant right-hand side: y = x·Wᵀ + b, W stored [out, in]. */
export class OnnxLinear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(weightOutIn: Float32Array, out: number, inF: number, bias: Float32Array | null) {
    super();
    this.weight = this.registerParameter('weight', tensor(weightOutIn, [out, inF]));
    this.bias = bias ? this.registerParameter('bias', tensor(bias, [out])) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
