/**
 * Compute pipelines, cached by their WGSL source: whatever changes the generated
 * code is in the key, and nothing else. Compilation errors are caught in an error
 * scope and rethrown (naming the kernel) at the next synchronisation point.
 */
import { gpu } from './device.js';
import { DeviceError } from './errors.js';

export interface Kernel {
  name: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Whether binding 0 is a uniform buffer holding the kernel's parameters. */
  hasUniforms: boolean;
}

const cache = new Map<string, Kernel>();
const compileChecks: Promise<string | null>[] = [];

export function getKernel(name: string, code: string, hasUniforms = true): Kernel {
  const hit = cache.get(code);
  if (hit) return hit;
  const { device } = gpu();
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: name, code });
  const pipeline = device.createComputePipeline({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
  compileChecks.push(
    device.popErrorScope().then((err) => (err ? `kernel "${name}" failed to compile: ${err.message}` : null)),
  );
  const k: Kernel = { name, pipeline, layout: pipeline.getBindGroupLayout(0), hasUniforms };
  cache.set(code, k);
  return k;
}

/** Awaits pending compile checks; throws the first failure. */
export async function checkCompiles(): Promise<void> {
  if (compileChecks.length === 0) return;
  const results = await Promise.all(compileChecks.splice(0, compileChecks.length));
  const bad = results.filter((r): r is string => r !== null);
  if (bad.length) {
    for (const [code, k] of cache) if (bad.some((b) => b.includes(`"${k.name}"`))) cache.delete(code);
    throw new DeviceError(bad.join('\n'));
  }
}

export function kernelCacheSize(): number {
  return cache.size;
}
