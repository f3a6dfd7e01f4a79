/**
 * Tiny Darknet (the ImageNet classifier in shared/weights/darknet-tiny): 16
 * convolutions — 15 without bias, each followed by BatchNorm (eps 1e-3) and
 * LeakyReLU(0.1), with four 2×2 max-pools — then a 1×1 convolution to the classes
 * with bias and a global average pool. Input: RGB in [0, 1], NHWC, 224².
 * Layers are named features.<i> (body) and classifier (the last convolution).
 */
import type { Tensor } from '@tessera/tensor';
import { Module, Sequential, runChain } from '../module.js';
import { Conv2d } from '../layers/conv.js';
import { BatchNorm2d } from '../layers/batchnorm.js';
import { AdaptiveAvgPool2d, Flatten, LeakyReLU, MaxPool2d } from '../layers/simple.js';

/** [filters, kernel] per convolution; 'M' is a 2×2/2 max-pool. */
export const DARKNET_TINY_LAYOUT: ([number, number] | 'M')[] = [
  [16, 3], 'M', [32, 3], 'M', [16, 1], [128, 3], [16, 1], [128, 3], 'M',
  [32, 1], [256, 3], [32, 1], [256, 3], 'M', [64, 1], [512, 3], [64, 1], [512, 3], [128, 1],
];

export class DarknetTiny extends Module {
  readonly features: Sequential;
  readonly classifier: Conv2d;
  readonly pool = new AdaptiveAvgPool2d(1);
  readonly flatten = new Flatten();
  readonly numFeatures: number;

  constructor(numClasses = 1000) {
    super();
    const layers: Module[] = [];
    let inC = 3;
    for (const l of DARKNET_TINY_LAYOUT) {
      if (l === 'M') {
        // Keras 'same' 2×2/2 pooling: no padding on the even sizes this net sees (224 → 14).
        layers.push(new MaxPool2d(2, 2, 0));
        continue;
      }
      const [f, k] = l;
      layers.push(new Conv2d(inC, f, k, { padding: (k - 1) >> 1, bias: false }));
      // eps as trained (Keras 1e-3); momentum PyTorch's 0.1: Keras's 0.99 (= 0.01 here) would leave
      // the running statistics near their start for a whole epoch when fine-tuning or training afresh.
      layers.push(new BatchNorm2d(f, { eps: 1e-3 }));
      layers.push(new LeakyReLU(0.1));
      inC = f;
    }
    this.numFeatures = inC;
    this.features = this.registerModule('features', new Sequential(...layers));
    this.classifier = this.registerModule('classifier', new Conv2d(inC, numClasses, 1, { bias: true }));
    // Parameter-free, registered so summaries and train()/eval() see them.
    this.registerModule('pool', this.pool);
    this.registerModule('flatten', this.flatten);
  }

  bodyLayers(): Module[] {
    return [this.features];
  }

  forward(x: Tensor): Tensor {
    return runChain(x, [this.features, this.classifier, this.pool, this.flatten]);
  }
}

export const darknetTiny = (numClasses = 1000): DarknetTiny => new DarknetTiny(numClasses);
