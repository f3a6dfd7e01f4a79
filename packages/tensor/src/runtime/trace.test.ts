/** Kernel tracing: the work's kernels are noted, not compiled, and no command reaches the device. */
import { beforeAll, expect, it } from 'vitest';
import { initDevice } from './device.js';
import { createKernelsAsync, kernelSources, pipelineStats } from './kernel.js';
import { queueStats } from './queue.js';
import { traceKernels } from './trace.js';
import { tensor, tidy } from '../index.js';

beforeAll(async () => {
  await initDevice();
});

it('notes the kernels of traced work without compiling or dispatching them', async () => {
  const a = tensor([1, -2, 3, -4, 5, -6], [2, 3]);
  const before = { ...queueStats(), ...pipelineStats(), cached: kernelSources().length };
  let out: number[] = [];
  const traced = traceKernels(() => {
    const y = a.neg().relu().sum(1);
    out = [...y.shape];
  });
  expect(out).toEqual([2]);
  expect(traced.map((k) => k.name).sort()).toEqual(['neg', 'reduce_sum', 'relu'].sort());
  expect(traced.every((k) => k.code.includes('@compute') && typeof k.hasUniforms === 'boolean')).toBe(true);
  const after = { ...queueStats(), ...pipelineStats(), cached: kernelSources().length };
  expect(after.dispatches).toBe(before.dispatches);
  expect(after.compiled).toBe(before.compiled);
  expect(after.cached).toBe(before.cached);
  // The same work for real compiles exactly the traced kernels, and computes.
  const y = tidy(() => a.neg().relu().sum(1));
  expect([...(await y.toArray())]).toEqual([2, 10]);
  expect(pipelineStats().compiled - before.compiled).toBe(traced.length);
  // Kernels this process already compiled are not traced again.
  expect(traceKernels(() => void tidy(() => a.neg().relu().sum(1)))).toEqual([]);
});

it('leaves tensors unwritten and refuses a readback inside a trace', async () => {
  const a = tensor([1, 2, 3], [3]);
  let pending: Promise<unknown> | null = null;
  traceKernels(() => {
    a.copyFrom(tensor([7, 8, 9], [3]));
    pending = a.toArray();
  });
  await expect(pending).rejects.toThrow('readback inside traceKernels');
  expect([...(await a.toArray())]).toEqual([1, 2, 3]);
  expect(() => traceKernels(() => traceKernels(() => {}))).toThrow('inside traceKernels');
});

it('creates traced kernels ahead with createComputePipelineAsync; a broken one is left for its real use to report', async () => {
  const a = tensor([0.5, -1, 2], [3]);
  const traced = traceKernels(() => void a.sigmoid().abs());
  expect(traced.map((k) => k.name)).toEqual(['sigmoid', 'abs']);
  const broken = { name: 'broken_probe', code: '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }', hasUniforms: false };
  const compiled = pipelineStats().compiled;
  expect(await createKernelsAsync([...traced, broken])).toBe(2);
  expect(kernelSources().map((k) => k.code)).toEqual(expect.arrayContaining(traced.map((k) => k.code)));
  expect(kernelSources().some((k) => k.name === 'broken_probe')).toBe(false);
  // The real use finds them made: no pipeline created on demand, and the values are right.
  const y = await a.sigmoid().abs().toArray();
  expect(pipelineStats().compiled).toBe(compiled);
  expect([...y].map((v) => Number(v.toFixed(4)))).toEqual([0.6225, 0.2689, 0.8808]);
});
