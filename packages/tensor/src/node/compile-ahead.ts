/**
 * Compiles a warm-up plan on every core while the caller goes on (loading data): each worker
 * thread opens a device of its own and dispatches its share of the kernels once
 * (runtime/warmup.ts), which makes the driver compile them and keep the machine code in its
 * on-disk shader cache (Mesa's, on lavapipe). The caller's own first use of each kernel then
 * loads it from there. From TypeScript sources (tests) there are no worker threads: the
 * calling thread warms its own device.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KernelSource } from '../runtime/kernel.js';
import { warmKernels } from '../runtime/warmup.js';

export interface CompileAheadResult {
  /** Kernels dispatched (compiled) by the warm-up. */
  kernels: number;
  threads: number;
  seconds: number;
}

/** Splits the plan into `n` shares of about equal source length (a proxy for compile time). */
export function shareOut(plan: readonly KernelSource[], n: number): KernelSource[][] {
  const shares = Array.from({ length: n }, () => ({ size: 0, kernels: [] as KernelSource[] }));
  for (const k of [...plan].sort((a, b) => b.code.length - a.code.length)) {
    const s = shares.reduce((a, b) => (b.size < a.size ? b : a));
    s.kernels.push(k);
    s.size += k.code.length;
  }
  return shares.map((s) => s.kernels).filter((k) => k.length > 0);
}

function runWorker(kernels: KernelSource[]): Promise<number> {
  return new Promise((resolve) => {
    const w = new Worker(new URL('./compile-ahead-worker.js', import.meta.url), { workerData: { kernels } });
    // A warm-up that fails costs nothing but time: the kernels compile on first use as before.
    w.once('message', (n: number) => resolve(n));
    w.once('error', () => resolve(0));
    w.once('exit', () => resolve(0));
  });
}

export async function compileAhead(plan: readonly KernelSource[], threads = availableParallelism()): Promise<CompileAheadResult> {
  const t0 = performance.now();
  const fromSource = /\.ts$/.test(new URL(import.meta.url).pathname);
  const shares = fromSource ? [[...plan]] : shareOut(plan, Math.max(1, threads));
  const counts = fromSource ? [await warmKernels(plan)] : await Promise.all(shares.map(runWorker));
  return { kernels: counts.reduce((a, b) => a + b, 0), threads: fromSource ? 0 : shares.length, seconds: (performance.now() - t0) / 1000 };
}
