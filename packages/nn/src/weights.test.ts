// loadStateDict / exportStateDict: PyTorch layout (OIHW) in files, OHWI in the engine, and a
// report that names every missing, unexpected and wrongly shaped key at once.

import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '@tessera/tensor';
import type { RawTensor, StateDict } from './io/index.js';
import { Sequential } from './module.js';
import { Conv2d } from './layers/conv.js';
import { BatchNorm2d } from './layers/batchnorm.js';
import { Linear } from './layers/linear.js';
import { resnet18 } from './models/resnet.js';
import { WeightMismatchError, exportStateDict, loadStateDict } from './weights.js';

beforeAll(async () => {
  await initDevice();
});

const f32 = (shape: number[], f: (i: number) => number = (i) => i): RawTensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'f32', shape, data: Float32Array.from({ length: n }, (_, i) => f(i)) };
};

/** conv (2→3, 2×2) · bn(3) · linear(3→2): a PyTorch-layout state dict with distinct values. */
function tinyNet() {
  return new Sequential(new Conv2d(2, 3, 2, { bias: true }), new BatchNorm2d(3), new Linear(3, 2));
}
function tinyStateDict(): StateDict {
  return new Map<string, RawTensor>([
    ['0.weight', f32([3, 2, 2, 2], (i) => i / 8)],
    ['0.bias', f32([3], (i) => -i)],
    ['1.weight', f32([3], (i) => 1 + i)],
    ['1.bias', f32([3], (i) => 0.5 * i)],
    ['1.running_mean', f32([3], (i) => 0.1 * i)],
    ['1.running_var', f32([3], (i) => 2 + i)],
    ['1.num_batches_tracked', { dtype: 'i64', shape: [], data: BigInt64Array.from([7n]) }],
    ['2.weight', f32([2, 3], (i) => i - 3)],
    ['2.bias', f32([2], (i) => 10 + i)],
  ]);
}

describe('loadStateDict', () => {
  it('converts OIHW convolution weights to OHWI and back (exportStateDict)', async () => {
    const net = tinyNet();
    const sd = tinyStateDict();
    const report = loadStateDict(net, sd);
    expect(report).toEqual({ loaded: [...sd.keys()], missing: [], unexpected: [], wrongShape: [] });
    const w = (await (net.at(0) as Conv2d).weight.toArray()) as Float32Array;
    // module[o, h, w, i] = file[o, i, h, w]
    const oihw = sd.get('0.weight')!.data as Float32Array;
    for (let o = 0; o < 3; o++)
      for (let h = 0; h < 2; h++)
        for (let x = 0; x < 2; x++)
          for (let i = 0; i < 2; i++) expect(w[((o * 2 + h) * 2 + x) * 2 + i]).toBe(oihw[((o * 2 + i) * 2 + h) * 2 + x]);
    const back = await exportStateDict(net);
    expect([...back.keys()]).toEqual([...sd.keys()]);
    for (const [k, t] of sd) {
      const b = back.get(k)!;
      expect(b.shape, k).toEqual(t.shape.length === 0 ? [1] : t.shape);
      expect(Array.from(b.data as ArrayLike<number | bigint>, Number), k).toEqual(Array.from(t.data as ArrayLike<number | bigint>, Number));
    }
    expect(back.get('1.num_batches_tracked')!.dtype).toBe('i64');
    net.dispose();
  });

  it('reports every missing, unexpected and wrongly shaped key at once, by name, and loads nothing', async () => {
    const net = resnet18();
    const sd = await exportStateDict(net);
    const before = await net.fc.bias!.toArray();
    sd.delete('layer1.0.conv1.weight');
    sd.delete('layer4.1.bn2.running_var');
    sd.set('head.weight', f32([2, 2]));
    sd.set('conv1.weight', f32([64, 3, 5, 5]));
    sd.set('fc.bias', f32([10]));
    let err: unknown;
    try {
      loadStateDict(net, sd, { source: 'broken.pth' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightMismatchError);
    const e = err as WeightMismatchError;
    expect(e.report.missing).toEqual(['layer1.0.conv1.weight', 'layer4.1.bn2.running_var']);
    expect(e.report.unexpected).toEqual(['head.weight']);
    expect(e.report.wrongShape).toEqual([
      // Shapes are PyTorch's (OIHW), as in the file.
      { key: 'conv1.weight', expected: [64, 3, 7, 7], got: [64, 3, 5, 5] },
      { key: 'fc.bias', expected: [1000], got: [10] },
    ]);
    expect(e.message).toContain('broken.pth');
    expect(e.message).toContain('missing: layer1.0.conv1.weight, layer4.1.bn2.running_var');
    expect(e.message).toContain('unexpected: head.weight');
    expect(e.message).toContain('conv1.weight expects [64, 3, 7, 7] but the file has [64, 3, 5, 5]');
    expect(e.message).toContain('fc.bias expects [1000] but the file has [10]');
    expect(e.message).toContain('strict: false');
    expect(e.report.loaded).toEqual([]);
    expect(await net.fc.bias!.toArray()).toEqual(before);

    // strict: false loads everything that fits and reports the rest.
    const strictFalse = loadStateDict(net, sd, { strict: false });
    expect(strictFalse.loaded).toHaveLength(122 - 2 - 2);
    expect(strictFalse.loaded).not.toContain('conv1.weight');
    expect(strictFalse.loaded).not.toContain('head.weight');
    expect(strictFalse.missing).toEqual(e.report.missing);
    net.dispose();
  });

  it('strict: false loads what matches and leaves the rest as it was', async () => {
    const net = tinyNet();
    const conv = net.at(0) as Conv2d;
    const keepBias = await conv.bias!.toArray();
    const sd = tinyStateDict();
    sd.delete('0.bias');
    sd.set('2.weight', f32([5, 3]));
    const report = loadStateDict(net, sd, { strict: false });
    expect(report.missing).toEqual(['0.bias']);
    expect(report.wrongShape.map((w) => w.key)).toEqual(['2.weight']);
    expect(report.loaded).toEqual(['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '2.bias']);
    expect(await conv.bias!.toArray()).toEqual(keepBias);
    expect(Array.from(await (net.at(2) as Linear).bias!.toArray())).toEqual([10, 11]);
    net.dispose();
  });

  it('accepts checkpoints without num_batches_tracked (as PyTorch does)', async () => {
    const net = tinyNet();
    const sd = tinyStateDict();
    sd.delete('1.num_batches_tracked');
    expect(loadStateDict(net, sd).missing).toEqual([]);
    expect(Array.from(await (net.at(1) as BatchNorm2d).runningVar.toArray())).toEqual([2, 3, 4]);
    net.dispose();
  });
});
