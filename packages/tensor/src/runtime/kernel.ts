/**
 * Compute pipelines, cached by their WGSL source: whatever changes the generated
 * code is in the key, and nothing else. Compilation errors are caught in an error
 * scope and rethrown (naming the kernel) at the next synchronisation point.
 *
 * WebGPU reports compilation asynchronously, so a kernel is "unverified" until its
 * error scope resolved. The queue submits the dispatches of unverified kernels in a
 * command buffer of their own: a broken kernel then invalidates only its own
 * dispatch, not the whole batch of good work around it.
 */
import { config } from '../config.js';
import { gpu } from './device.js';
import { isTracing, noteTracedKernel } from './trace.js';

export interface Kernel {
  name: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Whether binding 0 is a uniform buffer holding the kernel's parameters. */
  hasUniforms: boolean;
  /** True once the compile check came back clean. */
  verified: boolean;
}

const cache = new Map<string, Kernel>();
const compileChecks: Promise<string | null>[] = [];
/** Pipelines created on demand (blocking the thread that asked) and the time they took. */
const stats = { compiled: 0, compileMs: 0 };

export function getKernel(name: string, code: string, hasUniforms = true): Kernel {
  const hit = cache.get(code);
  if (hit) return hit;
  if (isTracing()) {
    // Noted, not compiled: the trace's dispatches are skipped (runtime/trace.ts).
    noteTracedKernel({ name, code, hasUniforms });
    return { name, pipeline: null as unknown as GPUComputePipeline, layout: null as unknown as GPUBindGroupLayout, hasUniforms, verified: true };
  }
  const { device } = gpu();
  const t0 = performance.now();
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: name, code });
  const pipeline = device.createComputePipeline({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
  // TESSERA_DEBUG=kernels: the one place pipelines are made, so every new one is printed once.
  if (config.debugKernels) console.error(`[tessera kernels] ${name}: pipeline made in ${(performance.now() - t0).toFixed(1)} ms\n${code}`);
  // Inside the scope too: on an invalid pipeline this call is one more (consequential) error.
  const layout = pipeline.getBindGroupLayout(0);
  stats.compiled++;
  stats.compileMs += performance.now() - t0;
  const k: Kernel = { name, pipeline, layout, hasUniforms, verified: false };
  compileChecks.push(
    device.popErrorScope().then((err) => {
      if (!err) {
        k.verified = true;
        return null;
      }
      return `kernel "${name}" failed to compile: ${err.message}`;
    }),
  );
  cache.set(code, k);
  return k;
}

/**
 * Creates the pipelines of `list` that are not cached yet with createComputePipelineAsync, all
 * at once, and caches them: a browser compiles them on its GPU process's worker threads in
 * parallel instead of one by one at each kernel's first use (Dawn on lavapipe gains nothing:
 * lavapipe compiles at the first dispatch, see warmup.ts). A kernel that fails is left out,
 * for getKernel to compile and report at its real use. Resolves to how many were created.
 */
export async function createKernelsAsync(list: readonly KernelSource[]): Promise<number> {
  const { device } = gpu();
  const made = await Promise.all(
    list
      .filter((s) => !cache.has(s.code))
      .map(async ({ name, code, hasUniforms }) => {
        try {
          // The module's own errors stay in a scope of their own (a pipeline's reject the promise).
          device.pushErrorScope('validation');
          const module = device.createShaderModule({ label: name, code });
          const moduleError = device.popErrorScope();
          const pipeline = await device.createComputePipelineAsync({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
          if (await moduleError) return 0;
          if (!cache.has(code)) cache.set(code, { name, pipeline, layout: pipeline.getBindGroupLayout(0), hasUniforms, verified: true });
          return 1;
        } catch {
          return 0;
        }
      }),
  );
  return made.reduce<number>((a, b) => a + b, 0);
}

/**
 * Awaits pending compile checks and returns the failures (empty when all compiled).
 * Broken kernels leave the cache so that a retry compiles (and fails) again.
 */
export async function takeCompileFailures(): Promise<string[]> {
  if (compileChecks.length === 0) return [];
  const results = await Promise.all(compileChecks.splice(0, compileChecks.length));
  const bad = results.filter((r): r is string => r !== null);
  if (bad.length) {
    for (const [code, k] of cache) if (!k.verified && bad.some((b) => b.includes(`"${k.name}"`))) cache.delete(code);
  }
  return bad;
}

/**
 * Pipelines created so far in this process and the time the calls blocked. On lavapipe that time is
 * mostly waiting for its queue thread, which compiles each kernel at its first dispatch.
 */
export function pipelineStats(): { compiled: number; compileMs: number } {
  return { ...stats };
}

/** What a warm-up needs to compile one kernel ahead: exactly getKernel's arguments. */
export interface KernelSource {
  name: string;
  code: string;
  hasUniforms: boolean;
}

/** Every kernel compiled so far in this process, in first-use order (a warm-up plan records these). */
export function kernelSources(): KernelSource[] {
  return [...cache].map(([code, k]) => ({ name: k.name, code, hasUniforms: k.hasUniforms }));
}
