/** Kernel tracing: the work's kernels are noted, not compiled, and no command reaches the device. */
import { beforeAll, expect, it } from 'vitest';
import { initDevice } from './device.js';
import { kernelSources, pipelineStats } from './kernel.js';
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
