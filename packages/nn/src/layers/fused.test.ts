/**
 * Eval-mode conv → BatchNorm → activation fusion: the fused kernels give what the
 * layers give one by one (with non-trivial running statistics), and anything that
 * needs a gradient or a summary runs layer by layer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, noGrad, queueStats, randn, tensor, type Tensor } from '@tessera/tensor';
import { expectClose } from '@tessera/tensor/testing';
import { type Module, Sequential } from '../module.js';
import { Conv2d } from './conv.js';
import { BatchNorm2d } from './batchnorm.js';
import { LeakyReLU, ReLU } from './simple.js';
import { setConvBnFusion } from './fused.js';
import { BasicBlock, Bottleneck } from '../models/resnet.js';

beforeAll(async () => {
  await initDevice();
});

/** Gives every BatchNorm running statistics and an affine map far from the identity. */
function perturb(m: Module): void {
  let seed = 1;
  for (const [, bn] of m.namedModules()) {
    if (!(bn instanceof BatchNorm2d)) continue;
    const C = bn.numFeatures;
    const vals = (lo: number, hi: number) => Float32Array.from({ length: C }, () => lo + (hi - lo) * (((seed = (seed * 16807) % 2147483647) / 2147483647)));
    bn.runningMean.copyFrom(tensor(vals(-0.5, 0.5), [C]));
    bn.runningVar.copyFrom(tensor(vals(0.3, 2), [C]));
    bn.weight.copyFrom(tensor(vals(0.5, 1.5), [C]));
    bn.bias.copyFrom(tensor(vals(-0.3, 0.3), [C]));
  }
}

async function fusedVsLayers(model: Module, x: Tensor): Promise<{ dispatchesFused: number; dispatchesLayers: number }> {
  model.eval();
  const count = (f: () => Tensor) => {
    const before = queueStats().dispatches;
    const y = noGrad(f);
    return { y, n: queueStats().dispatches - before };
  };
  const fused = count(() => model.call(x));
  setConvBnFusion(false);
  let layers: { y: Tensor; n: number };
  try {
    layers = count(() => model.call(x));
  } finally {
    setConvBnFusion(true);
  }
  await expectClose(fused.y, await layers.y.toArray(), { rtol: 1e-4, atol: 1e-4 }, 'fused = layer by layer');
  return { dispatchesFused: fused.n, dispatchesLayers: layers.n };
}

describe('conv → BatchNorm → activation fused in eval mode', () => {
  it('Sequential(Conv2d, BatchNorm2d, ReLU, Conv2d (bias), BatchNorm2d, LeakyReLU): same output, fewer dispatches', async () => {
    const m = new Sequential(new Conv2d(3, 8, 3, { padding: 1, bias: false }), new BatchNorm2d(8), new ReLU(), new Conv2d(8, 5, 3, { stride: 2 }), new BatchNorm2d(5, { eps: 1e-3 }), new LeakyReLU(0.1));
    perturb(m);
    const r = await fusedVsLayers(m, randn([2, 9, 7, 3]));
    expect(r.dispatchesFused).toBeLessThan(r.dispatchesLayers);
  });

  it('ResNet blocks (residual add inside the epilogue), with and without a projection shortcut', async () => {
    for (const block of [new BasicBlock(8, 16, 2), new Bottleneck(16, 4)]) {
      perturb(block);
      const C = block instanceof Bottleneck ? 16 : 8;
      await fusedVsLayers(block, randn([1, 6, 5, C]));
    }
  });

  it('runs layer by layer when a gradient is needed, so BatchNorm parameters still get gradients in eval mode', () => {
    const m = new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU());
    m.eval();
    const y = m.call(randn([1, 4, 4, 3]));
    y.sum().backward();
    const bn = m.at(1) as BatchNorm2d;
    expect(bn.weight.grad).not.toBeNull();
    expect(bn.bias.grad).not.toBeNull();
  });
});
