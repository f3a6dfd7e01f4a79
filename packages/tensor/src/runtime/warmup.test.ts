/** Warm-up dispatches: each kernel of a plan is compiled and dispatched once, without errors, and lands in the kernel cache. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from './device.js';
import { kernelSources, pipelineStats, takeCompileFailures } from './kernel.js';
import { declaredBindings, warmKernels } from './warmup.js';
import { defineKernel } from '../kernels/define.js';
import { tensor } from '../index.js';

beforeAll(async () => {
  await initDevice();
});

describe('warmKernels', () => {
  it('reads the bindings a kernel declares', () => {
    // A header as defineKernel writes it: the uniform block, then an input and an output.
    const { code } = defineKernel({
      name: 'warmup_bindings_probe', uniforms: { n: 'u32' }, inputs: { a: 'array<f32>' }, outputs: { o: 'array<f32>' },
      workgroupSize: 1, body: 'fn main() { o[0] = a[0] + f32(u.n); }\n',
    });
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
    const before = kernelSources().length;
    const created = pipelineStats().compiled;
    expect(await warmKernels(copies)).toBe(copies.length);
    expect(await takeCompileFailures()).toEqual([]);
    expect(kernelSources().length).toBe(before + copies.length);
    expect(pipelineStats().compiled).toBe(created + copies.length);
  });
});
