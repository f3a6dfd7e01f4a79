/**
 * ResNet-18/34/50 with torchvision's exact structure and parameter names
 * (conv1, bn1, layer1.0.conv1, …, layerN.0.downsample.{0,1}, fc), on NHWC input.
 * Initialisation as torchvision: kaiming-normal (fan_out, ReLU) convolutions,
 * BatchNorm weight 1 / bias 0, default Linear init for fc.
 */
import type { Tensor } from '@tessera/tensor';
import { Module, Sequential, runChain } from '../module.js';
import { Conv2d } from '../layers/conv.js';
import { BatchNorm2d } from '../layers/batchnorm.js';
import { Linear } from '../layers/linear.js';
import { AdaptiveAvgPool2d, Flatten, MaxPool2d, ReLU } from '../layers/simple.js';
import { kaimingNormal } from '../init.js';
import { convBnAct } from '../layers/fused.js';

function conv(inC: number, outC: number, k: number, stride = 1): Conv2d {
  return new Conv2d(inC, outC, k, { stride, padding: (k - 1) >> 1, bias: false, init: (shape) => kaimingNormal(shape, 'fanOut') });
}

/** The projection shortcut (1×1 conv → BatchNorm), through the fused path. */
function shortcut(downsample: Sequential, x: Tensor): Tensor {
  return convBnAct(downsample.at(0) as Conv2d, downsample.at(1) as BatchNorm2d, x, null);
}

interface Block extends Module {
  readonly outChannels: number;
}

export class BasicBlock extends Module implements Block {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu = new ReLU();
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;
  readonly outChannels: number;

  constructor(inC: number, planes: number, stride = 1) {
    super();
    this.outChannels = planes;
    this.conv1 = this.registerModule('conv1', conv(inC, planes, 3, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('relu', this.relu);
    this.conv2 = this.registerModule('conv2', conv(planes, planes, 3));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample =
      stride !== 1 || inC !== planes
        ? this.registerModule('downsample', new Sequential(conv(inC, planes, 1, stride), new BatchNorm2d(planes)))
        : null;
  }

  forward(x: Tensor): Tensor {
    // In eval mode each conv → bn (→ + identity) → relu is one fused kernel; in training,
    // bn (→ + identity) → relu is one op after the convolution (layers/fused.ts).
    const c = convBnAct(this.conv1, this.bn1, x, 'relu');
    const identity = this.downsample ? shortcut(this.downsample, x) : x;
    const out = convBnAct(this.conv2, this.bn2, c, 'relu', identity);
    c.dispose();
    if (identity !== x) identity.dispose();
    return out;
  }
}

export class Bottleneck extends Module implements Block {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly relu = new ReLU();
  readonly downsample: Sequential | null;
  readonly outChannels: number;

  constructor(inC: number, planes: number, stride = 1) {
    super();
    const out = planes * 4;
    this.outChannels = out;
    this.conv1 = this.registerModule('conv1', conv(inC, planes, 1));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    // torchvision (v1.5) strides the 3×3 convolution, not the first 1×1.
    this.conv2 = this.registerModule('conv2', conv(planes, planes, 3, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', conv(planes, out, 1));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    this.registerModule('relu', this.relu);
    this.downsample =
      stride !== 1 || inC !== out
        ? this.registerModule('downsample', new Sequential(conv(inC, out, 1, stride), new BatchNorm2d(out)))
        : null;
  }

  forward(x: Tensor): Tensor {
    const a = convBnAct(this.conv1, this.bn1, x, 'relu');
    const b = convBnAct(this.conv2, this.bn2, a, 'relu');
    a.dispose();
    const identity = this.downsample ? shortcut(this.downsample, x) : x;
    const out = convBnAct(this.conv3, this.bn3, b, 'relu', identity);
    b.dispose();
    if (identity !== x) identity.dispose();
    return out;
  }
}

export type ResNetArch = 'resnet18' | 'resnet34' | 'resnet50';

const CONFIGS: Record<ResNetArch, { block: 'basic' | 'bottleneck'; layers: [number, number, number, number] }> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
};

export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu = new ReLU();
  readonly maxpool = new MaxPool2d(3, 2, 1);
  readonly layers: Sequential[];
  readonly avgpool = new AdaptiveAvgPool2d(1);
  readonly flatten = new Flatten();
  readonly fc: Linear;
  /** Channels coming out of layer4 (512 for 18/34, 2048 for 50). */
  readonly numFeatures: number;

  constructor(
    readonly arch: ResNetArch,
    numClasses = 1000,
  ) {
    super();
    const cfg = CONFIGS[arch];
    this.conv1 = this.registerModule('conv1', conv(3, 64, 7, 2));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.registerModule('relu', this.relu);
    this.registerModule('maxpool', this.maxpool);
    let inC = 64;
    this.layers = cfg.layers.map((n, i) => {
      const planes = 64 * 2 ** i;
      const blocks: Module[] = [];
      for (let b = 0; b < n; b++) {
        const blk: Block =
          cfg.block === 'basic' ? new BasicBlock(inC, planes, b === 0 && i > 0 ? 2 : 1) : new Bottleneck(inC, planes, b === 0 && i > 0 ? 2 : 1);
        inC = blk.outChannels;
        blocks.push(blk);
      }
      return this.registerModule(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.numFeatures = inC;
    this.registerModule('avgpool', this.avgpool);
    // No parameters (torchvision calls torch.flatten), but registered so it has a name in summaries.
    this.registerModule('flatten', this.flatten);
    this.fc = this.registerModule('fc', new Linear(inC, numClasses));
  }

  /** The convolutional body, before pooling and classifier (fastai's cut at -2). */
  bodyLayers(): Module[] {
    return [this.conv1, this.bn1, this.relu, this.maxpool, ...this.layers];
  }

  forward(x: Tensor): Tensor {
    return runChain(x, [...this.bodyLayers(), this.avgpool, this.flatten, this.fc]);
  }
}

export const resnet18 = (numClasses = 1000): ResNet => new ResNet('resnet18', numClasses);
export const resnet34 = (numClasses = 1000): ResNet => new ResNet('resnet34', numClasses);
export const resnet50 = (numClasses = 1000): ResNet => new ResNet('resnet50', numClasses);
