/**
 * Debian's headless Chromium with WebGPU on: its navigator.gpu is SwiftShader over Vulkan
 * here (subgroup size 4, at most 256 invocations per workgroup, 32 KiB workgroup storage,
 * no shader-f16) — a second WebGPU implementation beside Node's Dawn over lavapipe.
 * scripts/install-test-deps.sh installs it. Shared by `runBrowserBench` and the root
 * vitest.config.ts's browser project, so both run the kernels on the same adapter.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
