/**
 * conv → BatchNorm → activation fusion against the same layers run one by one
 * (setConvBnFusion(false)). Eval mode: the fused epilogue gives the layers' output
 * (with non-trivial running statistics). Training: BatchNorm applying the activation in
 * its own kernels gives the layers' output, every gradient and the running statistics,
 * with two dispatches fewer per activation; adding a ResNet block's shortcut there too
 * (bn + identity → relu in one op) gives the same again, four dispatches fewer per block;
 * a MaxPool2d(2, 2) after the activation (Darknet) joins BatchNorm's kernels as well
 * (batchNormMaxPool2d), the pool's forward and backward dispatches gone too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, noGrad, queueStats, randn, tensor, type Tensor } from '@tessera/tensor';
import { assertClose, expectClose } from '@tessera/tensor/testing';
import { type Module, Sequential } from '../module.js';
import { Conv2d } from './conv.js';
import { BatchNorm2d } from './batchnorm.js';
import { LeakyReLU, MaxPool2d, ReLU } from './simple.js';
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

/** The model's parameters and buffers, to restore after a training step updated the running statistics. */
async function snapshot(m: Module): Promise<() => void> {
  const saved = await Promise.all([...m.stateDict()].map(async ([, t]) => [t, await t.toArray()] as const));
  return () => {
    for (const [t, data] of saved) {
      const src = tensor(data, t.shape, t.dtype);
      t.copyFrom(src);
      src.dispose();
    }
  };
}

/** One training-mode forward and backward: the output, the input's and every parameter's gradient, every buffer after, the dispatches. */
async function trainStep(m: Module, xData: Float32Array, shape: number[], gSeed: number) {
  const x = tensor(xData, shape).requireGrad();
  const before = queueStats().dispatches;
  const y = m.call(x);
  const g = randn(y.shape, 0, 1, { seed: gSeed });
  y.backward({ grad: g });
  const dispatches = queueStats().dispatches - before;
  const named: [string, Float32Array | Int32Array | Uint32Array][] = [['y', await y.toArray()], ['grad x', await x.grad!.toArray()]];
  for (const [k, p] of m.namedParameters()) {
    const grad = p.grad!;
    named.push([`grad ${k}`, await grad.toArray()]);
    grad.dispose();
    p.grad = null;
  }
  for (const [k, b] of m.namedBuffers()) named.push([k, await b.toArray()]);
  for (const t of [x, x.grad, y, g]) t?.dispose();
  return { named, dispatches };
}

/**
 * Training step fused and layer by layer from the same state: every output, gradient and
 * buffer agrees. `mode` 'eval' runs the same forward and backward with BatchNorm in eval
 * mode (running statistics, a gradient still needed: BatchNorm's kernels, not the epilogue).
 */
async function trainFusedVsLayers(model: Module, shape: number[], mode: 'train' | 'eval' = 'train'): Promise<{ dispatchesFused: number; dispatchesLayers: number; compared: string[] }> {
  if (mode === 'train') model.train();
  else model.eval();
  perturb(model);
  const xData = (await randn(shape, 0, 1, { seed: 11 }).toArray()) as Float32Array;
  const restore = await snapshot(model);
  const fused = await trainStep(model, xData, shape, 12);
  restore();
  setConvBnFusion(false);
  let layers: Awaited<ReturnType<typeof trainStep>>;
  try {
    layers = await trainStep(model, xData, shape, 12);
  } finally {
    setConvBnFusion(true);
  }
  expect(fused.named.map(([k]) => k)).toEqual(layers.named.map(([k]) => k));
  fused.named.forEach(([k, v], i) => {
    const ref = layers.named[i]![1];
    const scale = Math.max(1, ...Array.from(ref, Math.abs));
    assertClose(v, ref, { rtol: 1e-5, atol: 1e-5 * scale }, undefined, `${k}: fused = layer by layer`);
  });
  return { dispatchesFused: fused.dispatches, dispatchesLayers: layers.dispatches, compared: fused.named.map(([k]) => k) };
}

describe('conv → BatchNorm → activation in training: BatchNorm applies the activation', () => {
  it('Sequential(Conv2d, BatchNorm2d, ReLU, Conv2d (bias, stride 2), BatchNorm2d, LeakyReLU): same output, gradients, running stats; 4 dispatches fewer', async () => {
    const m = new Sequential(new Conv2d(3, 7, 3, { padding: 1, bias: false }), new BatchNorm2d(7), new ReLU(), new Conv2d(7, 5, 3, { stride: 2 }), new BatchNorm2d(5, { eps: 1e-3 }), new LeakyReLU(0.1));
    const r = await trainFusedVsLayers(m, [2, 9, 7, 3]);
    // Two activations, each a forward and a backward dispatch.
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 4);
  });

  it('batch 1 and a BatchNorm followed by no activation (fused chain consumes only the BatchNorm)', async () => {
    const m = new Sequential(new Conv2d(5, 9, 1, { bias: false }), new BatchNorm2d(9), new Conv2d(9, 3, 3, { padding: 1, bias: false }), new BatchNorm2d(3), new LeakyReLU(0.2));
    const r = await trainFusedVsLayers(m, [1, 6, 5, 5]);
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 2);
  });

  // Per block: bn → relu without a residual saves 2 dispatches (relu, relu_grad); the last
  // bn + identity → relu saves 4 (add, relu; relu_grad and the copy that gives add's two
  // inputs their own gradient), the identity's gradient coming out of BatchNorm's backward.
  const SHORTCUT = ['grad x', 'grad downsample.0.weight', 'grad downsample.1.weight', 'grad downsample.1.bias', 'downsample.1.running_mean', 'downsample.1.running_var'];

  it('BasicBlock with a projection shortcut (stride 2, 8 → 16 channels, batch 1): same output, gradients of both branches, running stats; 6 dispatches fewer', async () => {
    const r = await trainFusedVsLayers(new BasicBlock(8, 16, 2), [1, 6, 5, 8]);
    expect(r.compared).toEqual(expect.arrayContaining(SHORTCUT));
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 6);
  });

  it('BasicBlock with the identity shortcut (x itself gets both gradients, C=7): 6 dispatches fewer', async () => {
    const r = await trainFusedVsLayers(new BasicBlock(7, 7), [2, 5, 3, 7]);
    expect(r.compared).toContain('grad x');
    expect(r.compared.some((k) => k.includes('downsample'))).toBe(false);
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 6);
  });

  it('Bottleneck with the identity shortcut: 8 dispatches fewer (two bn → relu, one bn + identity → relu)', async () => {
    const r = await trainFusedVsLayers(new Bottleneck(16, 4), [2, 5, 3, 16]);
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 8);
  });

  it('Bottleneck with a projection shortcut (stride 2, odd 7×5 input): gradients of both branches; 8 dispatches fewer', async () => {
    const r = await trainFusedVsLayers(new Bottleneck(8, 4, 2), [1, 7, 5, 8]);
    expect(r.compared).toEqual(expect.arrayContaining(SHORTCUT));
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 8);
  });

  it('ResNet blocks in eval mode with a gradient needed (running statistics): the residual is fused the same way', async () => {
    const basic = await trainFusedVsLayers(new BasicBlock(8, 16, 2), [1, 6, 5, 8], 'eval');
    expect(basic.compared).toEqual(expect.arrayContaining(SHORTCUT));
    expect(basic.dispatchesFused).toBe(basic.dispatchesLayers - 6);
    const bottleneck = await trainFusedVsLayers(new Bottleneck(16, 4), [2, 5, 3, 16], 'eval');
    expect(bottleneck.dispatchesFused).toBe(bottleneck.dispatchesLayers - 8);
  });
});

describe('conv → BatchNorm → activation → MaxPool2d(2, 2) in training: BatchNorm applies the activation and the pool', () => {
  it('Darknet-like Sequential with odd H/W (the pool drops the last row/column): same output, gradients, running stats; 8 dispatches fewer', async () => {
    const m = new Sequential(
      new Conv2d(3, 6, 3, { padding: 1, bias: false }),
      new BatchNorm2d(6),
      new LeakyReLU(0.1),
      new MaxPool2d(2, 2),
      new Conv2d(6, 5, 3, { padding: 1 }),
      new BatchNorm2d(5, { eps: 1e-3 }),
      new ReLU(),
      new MaxPool2d(2),
    );
    const r = await trainFusedVsLayers(m, [2, 9, 11, 3]);
    // Per block: the activation's and the pool's forward and backward.
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 8);
  });

  it('batch 1, no activation before the pool, C=7; a 3×3/2 pool is not fused (only the activation is)', async () => {
    const m = new Sequential(new Conv2d(5, 7, 1, { bias: false }), new BatchNorm2d(7), new MaxPool2d(2, 2), new Conv2d(7, 3, 3, { padding: 1 }), new BatchNorm2d(3), new LeakyReLU(0.2), new MaxPool2d(3, 2));
    const r = await trainFusedVsLayers(m, [1, 7, 6, 5]);
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 4);
  });

  it('in eval mode with a gradient needed (running statistics), and in eval mode without (epilogue, then the pool)', async () => {
    const make = () => new Sequential(new Conv2d(3, 6, 3, { padding: 1, bias: false }), new BatchNorm2d(6), new LeakyReLU(0.1), new MaxPool2d(2, 2));
    const r = await trainFusedVsLayers(make(), [2, 5, 6, 3], 'eval');
    expect(r.dispatchesFused).toBe(r.dispatchesLayers - 4);
    const m = make();
    perturb(m);
    const { dispatchesFused, dispatchesLayers } = await fusedVsLayers(m, randn([2, 5, 6, 3], 0, 1, { seed: 3 }));
    expect(dispatchesFused).toBeLessThan(dispatchesLayers);
  });
});

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

  it('leaves the epilogue when a gradient is needed (BatchNorm applies the activation), so BatchNorm parameters still get gradients in eval mode', () => {
    const m = new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU());
    m.eval();
    const y = m.call(randn([1, 4, 4, 3]));
    y.sum().backward();
    const bn = m.at(1) as BatchNorm2d;
    expect(bn.weight.grad).not.toBeNull();
    expect(bn.bias.grad).not.toBeNull();
  });
});
