// ResNet-18/34/50 against torchvision: Debian's PyTorch (through the one Python bridge) builds seeded
// random-init models with non-trivial BatchNorm statistics, saves their state dicts with
// torch.save, and runs them in eval mode on a fixed input. Tessera reads the .pth files
// (io.readTorch), loads them into its own resnets (loadStateDict: OIHW → OHWI) and must give
// the same logits. Skips, saying why, when Python cannot import torchvision.
//
// Tolerance: everything runs in float32; the two engines sum convolutions in different orders,
// so rounding differences (~1e-7 relative per op) grow through 18–50 layers. Observed on
// lavapipe: max |Δlogit| ≈ 3–5e-6 × max |logit| for all three (printed per model). We accept
// 1e-4 × max(1, max |logit|): 20× headroom for other devices' summation orders, yet tight
// enough to catch subtle errors (a BatchNorm eps of 1e-3 instead of 1e-5 shifts resnet18's
// logits by 3e-2 relative).

import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice, noGrad, tensor } from '@tessera/tensor';
import { runPython, scratchDir, torchOrSkip } from '@tessera/tensor/testing/node';
import { readTorch } from '../node/weight-files.js';
import { loadStateDict } from '../weights.js';
import { type ResNet, type ResNetArch, resnet18, resnet34, resnet50 } from './resnet.js';

const torch = torchOrSkip('resnet vs torchvision', ['torch', 'torchvision']);

const BATCH = 2;
const SIZE = 64;
const BUILD: Record<ResNetArch, () => ResNet> = { resnet18, resnet34, resnet50 };

describe.skipIf(!torch.ok)('ResNet logits against torchvision', () => {
  const scratch = scratchDir('resnet');
  let input: Float32Array;
  let meta: Record<string, { keys: string[]; numParams: number }> = {};

  beforeAll(async () => {
    await initDevice();
    const script = fileURLToPath(new URL('./testing/torchvision_fixtures.py', import.meta.url));
    const args = [scratch.dir, '--size', SIZE, '--batch', BATCH, '--half', 'resnet18', 'resnet18', 'resnet34', 'resnet50'];
    const version = await runPython(script, { args });
    console.log(`[resnet vs torchvision] fixtures written by torch ${version.trim()}`);
    input = scratch.f32('input.f32');
    meta = scratch.json<typeof meta>('meta.json');
  });
  afterAll(() => scratch.remove());

  async function compare(arch: ResNetArch, file: string): Promise<void> {
    const sd = await readTorch(scratch.path(`${file}.pth`));
    const net = BUILD[arch]();
    try {
      // The state dict keys are torchvision's, in torchvision's order.
      expect([...net.stateDict().keys()]).toEqual(meta[arch]!.keys);
      expect(net.numParams()).toBe(meta[arch]!.numParams);
      const report = loadStateDict(net, sd, { source: file });
      expect(report.loaded.length).toBe(sd.size);
      net.eval();
      const x = tensor(input, [BATCH, SIZE, SIZE, 3]);
      const t0 = performance.now();
      const y = noGrad(() => net.call(x));
      const got = (await y.toArray()) as Float32Array;
      const ms = performance.now() - t0;
      x.dispose();
      expect(y.shape).toEqual([BATCH, 1000]);
      y.dispose();
      const want = scratch.f32(`${file}.logits.f32`);
      let maxDiff = 0;
      let maxRef = 0;
      for (let i = 0; i < want.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
        maxRef = Math.max(maxRef, Math.abs(want[i]!));
      }
      console.log(
        `[resnet vs torchvision] ${file}: max |Δlogit| = ${maxDiff.toExponential(2)} (max |logit| ${maxRef.toFixed(2)}, ` +
          `relative ${(maxDiff / maxRef).toExponential(2)}); forward ${BATCH}×${SIZE}² in ${ms.toFixed(0)} ms`,
      );
      expect(got.every(Number.isFinite)).toBe(true);
      expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxRef));
      // The top-1 class agrees too (the logits are far from ties at this tolerance).
      for (let b = 0; b < BATCH; b++) {
        const row = (a: Float32Array) => a.subarray(b * 1000, (b + 1) * 1000);
        const argmax = (r: Float32Array) => r.indexOf(Math.max(...r));
        expect(argmax(row(got))).toBe(argmax(row(want)));
      }
    } finally {
      net.dispose();
    }
  }

  it('resnet18: torch.save state dict → same eval logits', () => compare('resnet18', 'resnet18'));
  it('resnet34: torch.save state dict → same eval logits', () => compare('resnet34', 'resnet34'));
  it('resnet50: torch.save state dict → same eval logits', () => compare('resnet50', 'resnet50'));
  it('resnet18 saved with float16 storages → logits of PyTorch float32 on the half-rounded weights', async () => {
    const sd = await readTorch(scratch.path('resnet18-half.pth'));
    expect(sd.get('conv1.weight')!.dtype).toBe('f16');
    expect(sd.get('bn1.num_batches_tracked')!.dtype).toBe('i64');
    await compare('resnet18', 'resnet18-half');
  });
});

describe('ResNet-34 speed', () => {
  it('times an eval forward at batch 1, 224² (printed)', async () => {
    await initDevice();
    const net = resnet34().eval();
    const x = tensor(new Float32Array(224 * 224 * 3).fill(0.5), [1, 224, 224, 3]);
    const run = async () => {
      const t0 = performance.now();
      const y = noGrad(() => net.call(x));
      await y.toArray();
      y.dispose();
      return performance.now() - t0;
    };
    const first = await run(); // compiles the pipelines for these shapes
    const times = [await run(), await run()];
    x.dispose();
    net.dispose();
    console.log(
      `[resnet34 speed] eval forward 1×224²: first ${first.toFixed(0)} ms (pipeline compilation), ` +
        `then ${times.map((t) => t.toFixed(0)).join(' / ')} ms`,
    );
    expect(Math.min(...times)).toBeGreaterThan(0);
  });
});
