/** Warm-up dispatches: each kernel of a plan is compiled and dispatched once, without errors, and lands in the kernel cache. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from './device.js';
import { checkCompiles, kernelCacheSize, kernelSources, pipelineStats } from './kernel.js';
import { declaredBindings, warmKernels } from './warmup.js';
import { tensor } from '../index.js';

beforeAll(async () => {
  await initDevice();
});

describe('warmKernels', () => {
  it('reads the bindings a kernel declares', () => {
    const code = '@group(0) @binding(0) var<uniform> u: U;\n@group(0) @binding(1) var<storage, read> a: array<f32>;\n@group(0) @binding(2) var<storage, read_write> o: array<f32>;';
    expect(declaredBindings(code)).toEqual([{ binding: 0, uniform: true }, { binding: 1, uniform: false }, { binding: 2, uniform: false }]);
  });

  it("dispatches the kernels an op used, on the same adapter's compiler, with no errors", async () => {
    // Real kernels from real ops: an elementwise add and a reduction.
    const a = tensor([1, 2, 3, 4], [4]);
    const s = a.add(a).sum();
    await s.item();
    const used = kernelSources();
    expect(used.length).toBeGreaterThan(0);
    // Fresh copies (another comment line makes another source): each must compile and run once.
    const copies = used.map((k) => ({ ...k, code: `// warm-up test copy\n${k.code}` }));
    const before = kernelCacheSize();
    const created = pipelineStats().compiled;
    expect(await warmKernels(copies)).toBe(copies.length);
    await checkCompiles();
    expect(kernelCacheSize()).toBe(before + copies.length);
    expect(pipelineStats().compiled).toBe(created + copies.length);
  });
});
