/**
 * Kernel tracing: runs a step of work without running it, to learn which kernels it needs.
 *
 * Every kernel's WGSL is generated on the CPU from shapes alone, so a training step can be
 * walked through with dispatches, copies, uploads and clears skipped: tensors are allocated
 * (from the pool) but never written, and each kernel the step asks for is noted instead of
 * compiled. The list is what a run compiles ahead, on every core, before its first step —
 * on its very first run too, when no warm-up plan was recorded yet (compile-ahead.ts).
 * A readback inside a trace is an error: the values it would read were never computed.
 */
import type { KernelSource } from './kernel.js';

let traced: Map<string, KernelSource> | null = null;

/** Whether a trace is running (queue.ts then skips every command). */
export function isTracing(): boolean {
  return traced !== null;
}

/** Notes a kernel the traced work asked for (first-use order, once per source). */
export function noteTracedKernel(source: KernelSource): void {
  if (!traced!.has(source.code)) traced!.set(source.code, source);
}

/**
 * Runs `fn` with every GPU command skipped and returns the kernels it asked for that this
 * process has not compiled yet. Tensors `fn` makes hold unwritten memory: free them (tidy)
 * and leave no state behind that a real step would have changed on the GPU.
 */
export function traceKernels(fn: () => void): KernelSource[] {
  if (traced) throw new Error('internal: traceKernels inside traceKernels');
  traced = new Map();
  try {
    fn();
    return [...traced.values()];
  } finally {
    traced = null;
  }
}
