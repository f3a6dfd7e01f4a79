/**
 * A model of your own, built from Modules and trained with the Learner (fastai's
 * `Learner(dls, model, metrics=error_rate).fit_one_cycle(...)`), on the counting task.
 *   pnpm --filter @tessera/examples custom-model
 */
import type { Tensor } from '@tessera/tensor';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Learner, Linear, Module, ReLU, Sequential, errorRate } from '@tessera/nn';
import { ImageDataLoaders } from '@tessera/fastai/node';
import { settings } from './settings.js';

/** conv → BatchNorm → ReLU, halving the size: the block every layer of the network below is made of. */
class ConvBlock extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly relu = new ReLU();

  constructor(cin: number, cout: number) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(cin, cout, 3, { stride: 2, padding: 1, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(cout));
  }

  forward(x: Tensor): Tensor {
    return this.relu.call(this.bn.call(this.conv.call(x)));
  }
}

const { lo, hi, perClass, size, bs, epochs, lr } = settings({ lo: 1, hi: 3, perClass: 300, size: 32, bs: 16, epochs: 6, lr: 3e-3 });

const dls = await ImageDataLoaders.counting({ range: [lo, hi], perClass, size, bs, seed: 42 });
// Images are NHWC [N, size, size, 3]; four blocks take them to [N, size/16, size/16, 64].
const model = new Sequential(
  new ConvBlock(3, 16), new ConvBlock(16, 32), new ConvBlock(32, 64), new ConvBlock(64, 64),
  new AdaptiveAvgPool2d(1), new Flatten(), new Linear(64, dls.classes.length),
);
const learn = new Learner(dls, model, { metrics: [errorRate] });
await learn.fitOneCycle(epochs, lr);

const [, error] = await learn.validate();
console.log(`error_rate ${error!.toFixed(4)} (chance: ${(1 - 1 / dls.classes.length).toFixed(4)})`);
await dls.close();
