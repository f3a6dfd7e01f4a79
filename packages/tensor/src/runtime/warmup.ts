/**
 * Compiling kernels ahead of their first real use.
 *
 * Creating a pipeline is not where a software driver spends its time: lavapipe turns the
 * shader into machine code (LLVM) when a pipeline is first *dispatched*, on its queue
 * thread, and keeps the result in Mesa's on-disk shader cache. So a warm-up dispatches
 * each kernel once, one workgroup over zero-filled scratch buffers (all-zero parameters:
 * every loop runs zero times), which costs the compilation and almost nothing else.
 * Run on a second device in a worker thread (node/compile-ahead.ts), it fills the disk
 * cache on another core while the main thread loads data; the main thread's own first
 * dispatch then reads the machine code back instead of compiling it.
 */
import { gpu } from './device.js';
import { getKernel, type KernelSource } from './kernel.js';

/** Bindings of group 0 as the WGSL declares them: index and whether it is a uniform. */
export function declaredBindings(code: string): { binding: number; uniform: boolean }[] {
  const out: { binding: number; uniform: boolean }[] = [];
  for (const m of code.matchAll(/@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage)/g)) {
    out.push({ binding: Number(m[1]), uniform: m[2] === 'uniform' });
  }
  return out;
}

/** Large enough for every parameter block and fixed-size array the generators declare (the uniform limit is 64 KiB). */
const SCRATCH_BYTES = 65536;
let scratch: { uniform: GPUBuffer; storage: GPUBuffer[] } | null = null;

function scratchBuffers(count: number): { uniform: GPUBuffer; storage: GPUBuffer[] } {
  const { device } = gpu();
  scratch ??= { uniform: device.createBuffer({ size: SCRATCH_BYTES, usage: GPUBufferUsage.UNIFORM }), storage: [] };
  // One buffer per storage binding: a read-write binding may not alias another binding of the same dispatch.
  while (scratch.storage.length < count) scratch.storage.push(device.createBuffer({ size: SCRATCH_BYTES, usage: GPUBufferUsage.STORAGE }));
  return scratch;
}

/**
 * Compiles each kernel and dispatches it once on scratch buffers, then waits for the device.
 * A kernel that cannot be dispatched this way (a binding the compiler dropped, say) is still
 * compiled as a pipeline; its errors stay inside an error scope, for getKernel to report at
 * real use. Resolves to how many kernels were dispatched.
 */
export async function warmKernels(list: readonly KernelSource[]): Promise<number> {
  const { device } = gpu();
  const checks: Promise<GPUError | null>[] = [];
  for (const s of list) {
    device.pushErrorScope('validation');
    const k = getKernel(s.name, s.code, s.hasUniforms);
    const bindings = declaredBindings(s.code);
    const buffers = scratchBuffers(bindings.length);
    let slot = 0;
    const group = device.createBindGroup({
      layout: k.layout,
      entries: bindings.map(({ binding, uniform }) => ({ binding, resource: { buffer: uniform ? buffers.uniform : buffers.storage[slot++]! } })),
    });
    const enc = device.createCommandEncoder({ label: `warm-up ${s.name}` });
    const pass = enc.beginComputePass();
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1, 1, 1);
    pass.end();
    device.queue.submit([enc.finish()]);
    checks.push(device.popErrorScope());
  }
  const errors = await Promise.all(checks);
  await device.queue.onSubmittedWorkDone();
  return errors.filter((e) => !e).length;
}
