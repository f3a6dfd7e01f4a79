/**
 * The browser's side of the `#gpu-provider` import (package.json `imports`, `browser`
 * condition): a browser's only WebGPU is `navigator.gpu`, which device.ts looks at
 * first, so there is nothing else to provide — and nothing Node-only to bundle.
 */

export async function platformGpu(): Promise<GPU | undefined> {
  return undefined;
}

export function platformGpuObject(): GPU | undefined {
  return undefined;
}

/** Browsers apply their own robustness; there is no way (or reason) to change that here. */
export function platformGpuDriverChecked(): GPU | undefined {
  return undefined;
}
