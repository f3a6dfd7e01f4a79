/**
 * Node's WebGPU: Dawn through the `webgpu` package. Reached only through the package's
 * `#gpu-provider` import (package.json `imports`), whose `browser` condition picks
 * gpu-provider.browser.ts instead, so a browser bundle never sees `webgpu` or a Node
 * built-in.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

// Dawn's create() results must stay referenced for the life of the process: if one is
// garbage-collected, Dawn's event loop touches freed memory (see shared notes).
let dawnGpu: GPU | undefined;
let driverCheckedGpu: GPU | undefined;
let dawnModule: { create: (flags: string[]) => GPU; globals: Record<string, unknown> } | undefined;

/** Dawn's GPU object (created once, kept for the life of the process); undefined where this is no Node. */
export async function platformGpu(): Promise<GPU | undefined> {
  if (dawnGpu) return dawnGpu;
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  if (!process.env.XDG_RUNTIME_DIR) {
    // Mesa warns on every start without it; a private temp dir silences that.
    const dir = `${tmpdir()}/tessera-xdg-${process.getuid?.() ?? 0}`;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const mod = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, mod.globals);
  dawnModule = mod;
  dawnGpu = mod.create([]);
  return dawnGpu;
}

/**
 * A second Dawn GPU object whose devices skip Dawn's own bounds checks on shader memory
 * accesses (the `disable_robustness` toggle), for an adapter whose driver checks every
 * storage access itself: device.ts asks for it only on llvmpipe. Undefined where this is
 * no Node or platformGpu() has not run.
 */
export function platformGpuDriverChecked(): GPU | undefined {
  if (!dawnModule) return undefined;
  driverCheckedGpu ??= dawnModule.create(['enable-dawn-features=allow_unsafe_apis,disable_robustness']);
  return driverCheckedGpu;
}

/** The GPU object platformGpu() created, if it has run. */
export function platformGpuObject(): GPU | undefined {
  return dawnGpu;
}
