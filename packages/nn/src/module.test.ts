// Module API on the real models: state-dict keys and parameter counts (torchvision's),
// summaries, train/eval, freeze (fastai's train_bn), fastai's head and splitter.
// The torchvision key list comes from Python when it has torchvision (the one bridge,
// @tessera/tensor/testing/node; skipped, saying why, otherwise); the parameter counts are torchvision's published numbers.

import { beforeAll, describe, expect, it } from 'vitest';
import { type Tensor, backward, initDevice, mean, noGrad, randn } from '@tessera/tensor';
import { runPython, torchOrSkip } from '@tessera/tensor/testing/node';
import { Sequential } from './module.js';
import { BatchNorm2d } from './layers/batchnorm.js';
import { Conv2d } from './layers/conv.js';
import { Linear } from './layers/linear.js';
import { Dropout, Flatten, ReLU } from './layers/simple.js';
import { AdaptiveAvgPool2d } from './layers/simple.js';
import { resnet18, resnet34, resnet50 } from './models/resnet.js';
import { darknetTiny } from './models/darknet.js';
import { createVisionModel } from './models/vision-model.js';

const KEYS_SCRIPT = `
import json, torchvision
out = {}
for a in ('resnet18', 'resnet34', 'resnet50'):
    m = getattr(torchvision.models, a)()
    out[a] = {'keys': list(m.state_dict().keys()), 'numParams': sum(p.numel() for p in m.parameters())}
print(json.dumps(out))
`;

const torch = torchOrSkip('module: torchvision key comparison', ['torch', 'torchvision']);
const torchvision = torch.ok ? (JSON.parse(await runPython({ code: KEYS_SCRIPT })) as Record<string, { keys: string[]; numParams: number }>) : undefined;

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.toArray());
}

beforeAll(async () => {
  await initDevice();
});

describe('state dict and parameter counts', () => {
  it.skipIf(!torch.ok)("resnet18/34/50 state-dict keys equal torchvision's, in order", () => {
    for (const [arch, make] of [['resnet18', resnet18], ['resnet34', resnet34], ['resnet50', resnet50]] as const) {
      const net = make();
      expect([...net.stateDict().keys()], arch).toEqual(torchvision![arch]!.keys);
      expect(net.numParams(), arch).toBe(torchvision![arch]!.numParams);
      net.dispose();
    }
  });

  it("numParams equals torchvision's counts (11,689,512 / 21,797,672 / 25,557,032)", () => {
    const counts = [resnet18, resnet34, resnet50].map((make) => {
      const net = make();
      const n = net.numParams();
      net.dispose();
      return n;
    });
    expect(counts).toEqual([11689512, 21797672, 25557032]);
  });

  it('parameters, buffers and state dict agree (resnet18: 62 parameters, 60 buffers, 122 keys)', () => {
    const net = resnet18();
    const sd = net.stateDict();
    expect(net.parameters()).toHaveLength(62);
    expect(net.namedBuffers()).toHaveLength(60);
    expect(sd.size).toBe(122);
    // Registration order inside a module: parameters, then buffers (as PyTorch).
    expect([...sd.keys()].slice(0, 7)).toEqual([
      'conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight',
    ]);
    // Convolution weights are OHWI inside the engine.
    expect(sd.get('conv1.weight')!.shape).toEqual([64, 7, 7, 3]);
    expect(sd.get('bn1.num_batches_tracked')!.dtype).toBe('i32');
    net.dispose();
  });
});

describe('summary', () => {
  it('lists every leaf layer with its output shape and parameters (resnet18, 1×32²×3, in training mode)', async () => {
    const net = resnet18(10); // training mode: the summary must still work with one sample
    const x = randn([1, 32, 32, 3]);
    const meanBefore = await values(net.bn1.runningMean);
    const rows = net.summary(x);
    const byName = new Map(rows.map((r) => [r.name, r]));
    // 20 convolutions (incl. 3 downsample), 20 BatchNorms, stem ReLU + max-pool, avgpool, flatten, fc.
    expect(rows).toHaveLength(45);
    expect(rows.map((r) => r.name).slice(0, 5)).toEqual(['conv1', 'bn1', 'relu', 'maxpool', 'layer1.0.conv1']);
    const shape = (n: string) => [...byName.get(n)!.outputShape];
    expect(shape('conv1')).toEqual([1, 16, 16, 64]);
    expect(shape('maxpool')).toEqual([1, 8, 8, 64]);
    expect(shape('layer2.0.downsample.0')).toEqual([1, 4, 4, 128]);
    expect(shape('layer3.1.bn2')).toEqual([1, 2, 2, 256]);
    expect(shape('layer4.1.bn2')).toEqual([1, 1, 1, 512]);
    expect(shape('avgpool')).toEqual([1, 1, 1, 512]);
    expect(shape('flatten')).toEqual([1, 512]);
    expect(shape('fc')).toEqual([1, 10]);
    expect(byName.get('conv1')!.params).toBe(64 * 3 * 7 * 7);
    expect(byName.get('fc')!.params).toBe(5130);
    expect(rows.reduce((n, r) => n + r.params, 0)).toBe(net.numParams());
    expect(rows.every((r) => r.name !== '')).toBe(true);
    // It ran in eval mode and restored the mode: no BatchNorm statistics changed.
    expect(net.training && net.bn1.training).toBe(true);
    expect(await values(net.bn1.runningMean)).toEqual(meanBefore);
    expect(await values(net.bn1.numBatchesTracked)).toEqual([0]);
    const table = net.summaryTable(x);
    expect(table).toMatch(/conv1 \(Conv2d\)\s+\[1, 16, 16, 64\]\s+9,408/);
    expect(table).toMatch(/Total params: 11,181,642\nTrainable params: 11,181,642$/);
    x.dispose();
    net.dispose();
  });

  it('names darknet-tiny rows too (pool and flatten are registered)', () => {
    const net = darknetTiny();
    const x = randn([1, 32, 32, 3]);
    const rows = net.summary(x);
    expect(rows.slice(-3).map((r) => [r.name, [...r.outputShape]])).toEqual([
      ['classifier', [1, 2, 2, 1000]],
      ['pool', [1, 1, 1, 1000]],
      ['flatten', [1, 1000]],
    ]);
    x.dispose();
    net.dispose();
  });
});

describe('train / eval', () => {
  it('propagates to every submodule and changes BatchNorm and Dropout behaviour', async () => {
    const net = new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new Dropout(0.5));
    const mods = () => net.namedModules().map(([, m]) => m.training);
    expect(mods()).toEqual([true, true, true, true, true]);
    net.eval();
    expect(mods()).toEqual([false, false, false, false, false]);
    const bn = net.at(1) as BatchNorm2d;
    const x = randn([2, 5, 5, 3]);
    // Eval: running stats untouched, dropout is the identity (two calls agree).
    const a = noGrad(() => net.call(x));
    const b = noGrad(() => net.call(x));
    expect(await values(a)).toEqual(await values(b));
    expect(await values(bn.runningMean)).toEqual([0, 0, 0, 0]);
    expect(await values(bn.numBatchesTracked)).toEqual([0]);
    // Train: the batch updates running stats and the batch counter.
    net.train();
    expect(mods()).toEqual([true, true, true, true, true]);
    const c = noGrad(() => net.call(x));
    expect((await values(bn.runningMean)).some((v) => v !== 0)).toBe(true);
    expect(await values(bn.numBatchesTracked)).toEqual([1]);
    // train(false) is eval(); train() on a child only reaches its subtree.
    net.train(false);
    net.at(1).train();
    expect(mods()).toEqual([false, false, true, false, false]);
    for (const t of [x, a, b, c]) t.dispose();
    net.dispose();
  });
});

describe('freeze', () => {
  it('stops gradients except BatchNorm (train_bn), unless trainBn is false; unfreeze restores', () => {
    const net = resnet18();
    const bnParams = net.namedParameters().filter(([k]) => /bn\d\.|downsample\.1\./.test(k));
    expect(bnParams).toHaveLength(40);
    net.freeze();
    for (const [k, p] of net.namedParameters()) expect(p.requiresGrad, k).toBe(bnParams.some(([b]) => b === k));
    expect(net.numParams(true, true)).toBe(bnParams.reduce((n, [, p]) => n + p.size, 0));
    net.freeze(false);
    expect(net.numParams(true, true)).toBe(0);
    net.unfreeze();
    expect(net.numParams(true, true)).toBe(net.numParams());
    net.dispose();
  });

  it('frozen parameters get no gradient; BatchNorm ones do', () => {
    const conv = new Conv2d(3, 4, 3, { bias: true });
    const bn = new BatchNorm2d(4);
    const fc = new Linear(4, 2);
    const net = new Sequential(conv, bn, new AdaptiveAvgPool2d(1), new Flatten(), fc);
    net.freeze();
    const x = randn([2, 6, 6, 3]);
    const y = net.call(x);
    const loss = mean(y);
    backward(loss);
    expect([conv.weight.grad, conv.bias!.grad, fc.weight.grad]).toEqual([null, null, null]);
    expect(bn.weight.grad).not.toBeNull();
    expect(bn.bias.grad).not.toBeNull();
    for (const t of [x, y, loss]) t.dispose();
    net.dispose();
  });
});

describe("createVisionModel (fastai's vision_learner)", () => {
  it('cuts resnet34 and adds fastai’s head: 0.* body, 1.* head, with fastai’s shapes', async () => {
    const net = resnet34();
    const bodyKeys = [...net.stateDict().keys()].filter((k) => !k.startsWith('fc.'));
    const vm = createVisionModel(net, 2);
    const sd = vm.stateDict();
    // Body keys: torchvision's children renumbered (conv1 → 0.0, bn1 → 0.1, layerN → 0.(N+3)).
    const renamed = bodyKeys.map((k) =>
      k.replace(/^conv1\./, '0.0.').replace(/^bn1\./, '0.1.').replace(/^layer(\d)\./, (_, n: string) => `0.${Number(n) + 3}.`),
    );
    expect([...sd.keys()].filter((k) => k.startsWith('0.'))).toEqual(renamed);
    const head = [...sd].filter(([k]) => k.startsWith('1.')).map(([k, t]) => [k, [...t.shape]]);
    expect(head).toEqual([
      ['1.2.weight', [1024]], ['1.2.bias', [1024]], ['1.2.running_mean', [1024]], ['1.2.running_var', [1024]], ['1.2.num_batches_tracked', [1]],
      ['1.4.weight', [512, 1024]],
      ['1.6.weight', [512]], ['1.6.bias', [512]], ['1.6.running_mean', [512]], ['1.6.running_var', [512]], ['1.6.num_batches_tracked', [1]],
      ['1.8.weight', [2, 512]],
    ]);
    expect(vm.head.children().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      '0:AdaptiveConcatPool2d', '1:Flatten', '2:BatchNorm1d', '3:Dropout', '4:Linear', '5:ReLU', '6:BatchNorm1d', '7:Dropout', '8:Linear',
    ]);
    expect([(vm.head.at(3) as Dropout).p, (vm.head.at(7) as Dropout).p]).toEqual([0.25, 0.5]);
    // fastai's BatchNorm init: weight 1, bias 1e-3.
    expect(new Set(await values(sd.get('1.2.bias')!))).toEqual(new Set([Math.fround(1e-3)]));
    expect(vm.numParams()).toBe(21797672 - 513000 + 2048 + 1024 * 512 + 1024 + 512 * 2);

    // fastai's _resnet_split: (stem, layer1, layer2) | (layer3, layer4) | head.
    const groups = vm.paramGroups();
    expect(groups).toHaveLength(3);
    const names = new Map(vm.namedParameters().map(([k, p]) => [p, k]));
    const prefixes = groups.map((g) => [...new Set(g.map((p) => names.get(p)!.split('.').slice(0, 2).join('.')))]);
    expect(prefixes).toEqual([['0.0', '0.1', '0.4', '0.5'], ['0.6', '0.7'], ['1.2', '1.4', '1.6', '1.8']]);
    expect(groups.flat()).toHaveLength(vm.parameters().length);

    // freezeBody: body frozen but its BatchNorms, head trainable.
    vm.freezeBody();
    expect(groups[2]!.every((p) => p.requiresGrad)).toBe(true);
    expect(names.get(groups[0]!.find((p) => p.requiresGrad)!)).toBe('0.1.weight');
    expect(groups[1]!.filter((p) => p.requiresGrad).every((p) => /bn\d|downsample\.1/.test(names.get(p)!))).toBe(true);

    const x = randn([2, 32, 32, 3]);
    const rows = vm.summary(x);
    expect([...rows.at(-1)!.outputShape]).toEqual([2, 2]);
    expect(rows.find((r) => r.name === '1.0')!.outputShape).toEqual([2, 1, 1, 1024]);
    x.dispose();
    vm.dispose();
  });
});
