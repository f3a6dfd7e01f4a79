// The fast tier's promise (`pnpm test:fast`): no test in it reaches for a GPU. Starting Dawn
// puts WebGPU's classes on globalThis (gpu-provider.node.ts), so a file that did fails here,
// saying so, instead of quietly making the tier slow (lavapipe's start and shader compiles
// cost seconds per file).
import { afterAll } from 'vitest';

afterAll(() => {
  if ('GPUBuffer' in globalThis) {
    throw new Error('pnpm test:fast is device-free, but this file started a WebGPU device: take it out of the fast list in vitest.config.ts');
  }
});
