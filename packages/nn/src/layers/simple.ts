/** Parameter-free layers: activations, pooling, flatten, dropout. */
import {
  type Tensor,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  concat,
  dropout,
  flatten,
  leakyRelu,
  maxPool2d,
  relu,
} from '@tessera/tensor';
import { Module } from '../module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly slope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.slope);
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernel: number,
    readonly stride = kernel,
    readonly padding = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernel: this.kernel, stride: this.stride, padding: this.padding });
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly size: number = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, [this.size, this.size]);
  }
}

/** fastai's AdaptiveConcatPool2d: [max-pool, avg-pool] concatenated on channels (max first, as fastai). */
export class AdaptiveConcatPool2d extends Module {
  constructor(readonly size: number = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    const mx = adaptiveMaxPool2d(x, [this.size, this.size]);
    const av = adaptiveAvgPool2d(x, [this.size, this.size]);
    const out = concat([mx, av], -1);
    mx.dispose();
    av.dispose();
    return out;
  }
}

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return flatten(x, 1);
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}
