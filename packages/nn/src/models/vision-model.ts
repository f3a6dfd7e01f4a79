/**
 * fastai's vision_learner model: the pretrained body cut before its pooling and
 * classifier, then fastai's default head
 *   AdaptiveConcatPool2d → Flatten → BatchNorm1d(2·nf) → Dropout(0.25) →
 *   Linear(2·nf, 512, bias=false) → ReLU → BatchNorm1d(512) → Dropout(0.5) → Linear(512, n, bias=false)
 * initialised with kaiming-normal like fastai, and the splitter into parameter
 * groups for discriminative learning rates. Keys match fastai's (0.* body, 1.* head).
 */
import type { Tensor } from '@tessera/tensor';
import { type Module, Sequential } from '../module.js';
import { BatchNorm1d } from '../layers/batchnorm.js';
import { Linear } from '../layers/linear.js';
import { AdaptiveConcatPool2d, Dropout, Flatten, ReLU } from '../layers/simple.js';
import { kaimingNormal } from '../init.js';
import { ResNet } from './resnet.js';
import { DarknetTiny } from './darknet.js';

export interface HeadOptions {
  /** Hidden width (fastai: 512). */
  hidden?: number;
  /** Dropout before the last linear layer (fastai: 0.5; the first one is half of it). */
  psLast?: number;
}

function headLinear(inF: number, outF: number): Linear {
  const l = new Linear(inF, outF, { bias: false });
  const w = kaimingNormal(l.weight.shape, 'fanIn');
  l.weight.copyFrom(w);
  w.dispose();
  return l;
}

/** fastai's create_head for `nf` body features and `nClasses` outputs. */
export function createHead(nf: number, nClasses: number, opts: HeadOptions = {}): Sequential {
  const hidden = opts.hidden ?? 512;
  const ps = opts.psLast ?? 0.5;
  // fastai's BatchNorm initialises the bias to 1e-3.
  return new Sequential(
    new AdaptiveConcatPool2d(1),
    new Flatten(),
    new BatchNorm1d(2 * nf, { biasInit: 1e-3 }),
    new Dropout(ps / 2),
    headLinear(2 * nf, hidden),
    new ReLU(),
    new BatchNorm1d(hidden, { biasInit: 1e-3 }),
    new Dropout(ps),
    headLinear(hidden, nClasses),
  );
}

/** Sequential(body, head) whose parameter groups the splitter knows. */
export class VisionModel extends Sequential {
  constructor(
    readonly body: Sequential,
    readonly head: Sequential,
    /** Body child indices where parameter groups start (fastai's splitter). */
    readonly splits: number[],
    readonly arch: string,
  ) {
    super(body, head);
  }

  /** Parameter groups: body split at `splits`, then the head (fastai's _resnet_split). */
  paramGroups(): Tensor[][] {
    const children = this.body.children().map(([, m]) => m);
    const bounds = [0, ...this.splits, children.length];
    const groups: Tensor[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      groups.push(children.slice(bounds[i], bounds[i + 1]).flatMap((m) => m.parameters()));
    }
    groups.push(this.head.parameters());
    return groups;
  }

  /** Freezes the body (BatchNorm stays trainable), like fastai's learn.freeze(). */
  freezeBody(trainBn = true): this {
    this.unfreeze();
    this.body.freeze(trainBn);
    return this;
  }
}

/**
 * Cuts a pretrained network and adds fastai's head for `nClasses`. The network is
 * consumed: its classifier's memory is freed.
 */
export function createVisionModel(net: ResNet | DarknetTiny, nClasses: number, opts: HeadOptions = {}): VisionModel {
  if (net instanceof ResNet) {
    net.fc.dispose();
    // fastai's _resnet_split: (stem, layer1, layer2) | (layer3, layer4) | head.
    const body = new Sequential(...bodyLayers(net));
    return new VisionModel(body, createHead(net.numFeatures, nClasses, opts), [6], net.arch);
  }
  net.classifier.dispose();
  const body = new Sequential(...bodyLayers(net));
  // Darknet: split the body in half by layer count, then the head.
  return new VisionModel(body, createHead(net.numFeatures, nClasses, opts), [Math.floor(body.length / 2)], 'darknet-tiny');
}


/** The network's layers that fastai's body keeps, in order: the vision model's body child i is the i-th. */
export function bodyLayers(net: ResNet | DarknetTiny): Module[] {
  return net instanceof ResNet ? net.bodyLayers() : net.features.children().map(([, m]) => m);
}
