// visionBodyAsNetwork: a model file written by `tessera train` (fastai's body + head, keys
// 0.<i>.… / 1.…) seeds a new network with the body it learned, under the network's names.

import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice, noGrad, randn } from '@tessera/tensor';
import { createNetwork, loadPretrained, visionBodyAsNetwork } from './model-file.js';
import { createVisionModel } from './models/vision-model.js';
import { exportStateDict } from './weights.js';
import type { Arch } from './model-file.js';
import type { RawTensor } from './io/index.js';

const bytes = (t: RawTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

beforeAll(async () => {
  await initDevice();
});

describe('visionBodyAsNetwork', () => {
  for (const arch of ['darknet-tiny', 'resnet18'] as Arch[]) {
    it(`${arch}: every body tensor of a trained vision model lands on the same weights of a new network`, async () => {
      const trained = createVisionModel(createNetwork(arch), 3);
      // A training-mode pass gives BatchNorm statistics that a fresh network lacks.
      noGrad(() => trained.call(randn([2, 32, 32, 3]))).dispose();
      const file = await exportStateDict(trained);
      const net = createNetwork(arch);
      const sd = visionBodyAsNetwork(net, file);
      expect([...sd.keys()].some((k) => k.startsWith('0.') || k.startsWith('1.'))).toBe(false);
      loadPretrained(net, arch, sd, 'model.safetensors');
      const loaded = await exportStateDict(net);
      const byTensor = new Map([...sd].map(([k, v]) => [v, k]));
      let compared = 0;
      for (const [key, t] of file) {
        const m = /^0\.(\d+)\.(.+)$/.exec(key);
        if (!m) continue;
        const mapped = byTensor.get(t)!;
        expect(bytes(loaded.get(mapped)!).equals(bytes(t)), `${key} → ${mapped}`).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThan(10);
      trained.dispose();
      net.dispose();
    });
  }

  it('reports a file of another architecture instead of loading part of it', async () => {
    const file = await exportStateDict(createVisionModel(createNetwork('darknet-tiny'), 2));
    const net = createNetwork('resnet18');
    expect(() => loadPretrained(net, 'resnet18', visionBodyAsNetwork(net, file), 'x.safetensors')).toThrow(/does not hold resnet18 weights/);
    net.dispose();
  });
});
