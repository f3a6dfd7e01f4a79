import { existsSync } from 'node:fs';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM, CHROMIUM_ARGS } from './bench/src/browser/chromium.js';
import { torchCommands } from './packages/tensor/test-fixtures/torch-commands.js';

// One vitest run, two projects on two WebGPU implementations:
//  - node:     every package's tests and the cross-package tests, on Dawn (the `webgpu`
//              package) over Mesa's lavapipe;
//  - chromium: the tensor op and kernel tests again, the same files, inside Debian's
//              headless Chromium, whose navigator.gpu is SwiftShader (subgroup size 4, at
//              most 256 invocations per workgroup, 32 KiB workgroup storage, no shader-f16).
// Each prints the adapter it ran on (runtime/adapter.test.ts). Workspace packages resolve
// to their TypeScript sources through the "development" export condition, so tests never
// run against stale builds.

const node: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'node',
    include: ['packages/*/src/**/*.test.ts', 'tools/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    sequence: { groupOrder: 0 },
  },
};

const chromium: TestProjectInlineConfiguration = {
  extends: true,
  // A browser build: `browser` picks @tessera/tensor's browser GPU provider (package.json
  // `imports`), so no Node built-in and no `webgpu` reaches the page.
  resolve: { conditions: ['development', 'browser', 'module'] },
  test: {
    name: 'chromium',
    // Every tensor op and kernel test file: forward and backward against the CPU twins,
    // and against PyTorch through browser commands that run Python on the test server.
    include: ['packages/tensor/src/**/*.test.ts'],
    // @tessera/tensor/node (the tuning cache on disk) and testing/node (the Python bridge) are Node-only.
    exclude: ['packages/tensor/src/node/**', 'packages/tensor/src/testing/node/**'],
    // After the Node project, not beside it: both adapters are software rasterisers that
    // want both cores.
    sequence: { groupOrder: 1 },
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] } }),
      instances: [{ browser: 'chromium' }],
      commands: torchCommands,
    },
  },
};

// The device-free tier (`pnpm test:fast`, TESSERA_TEST_TIER=fast): CPU twins, weight-file, ONNX
// protobuf and image readers, dataset folders and the disk cache, schedules, argument parsing,
// the weights lookup, kernel headers, the short fuzz run — no adapter, no Python, no subprocess;
// seconds, for the edit-test loop. These files also run in the node project.
const fast: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'fast',
    // Dawn refuses to load here: a test in this list that needs an adapter fails saying so.
    setupFiles: ['test/support/device-free.ts'],
    include: [
      'packages/cli/src/{args,loss-check,weights}.test.ts',
      'packages/nn/src/io/{half,pickle,read-weights,safetensors,tfjs,torch,zip}.test.ts',
      'packages/nn/src/learner/{lr-range,suggest}.test.ts',
      'packages/nn/src/node/pretrained-weights.test.ts',
      'packages/nn/src/optim/{flat-layout,schedules}.test.ts',
      'packages/onnx/src/proto/onnx.test.ts',
      'packages/tensor/src/kernels/define.test.ts',
      'packages/tensor/src/runtime/adapter-profile.test.ts',
      'packages/tensor/src/reference/reference.test.ts',
      'packages/vision/src/augment/{params,reference}.test.ts',
      'packages/vision/src/datasets/{counting,counting-augment,memory-folder}.test.ts',
      'packages/vision/src/decode/{decode,exif,inflate}.test.ts',
      'packages/vision/src/{random,resize}.test.ts',
      'packages/vision/src/loader/sampler.test.ts',
      'packages/vision/src/node/{folder-links,image-folder}.test.ts',
      'packages/vision/src/node/cache/cache.test.ts',
      'packages/vision/src/pictures/pictures.test.ts',
      'test/kernel-headers.test.ts',
      'test/op-scopes.test.ts',
    ],
  },
};
const fastTier = process.env.TESSERA_TEST_TIER === 'fast';

// Without Chromium (a development machine set up without --with-torch) the browser project
// is left out, saying why; in CI (CI set) it always runs, so a missing browser fails there.
const withBrowser = existsSync(CHROMIUM) || !!process.env.CI;
if (!withBrowser && process.env.TESSERA_TEST_TIER !== 'fast') {
  console.warn(`[vitest] the chromium project (the tensor suite on the browser's WebGPU) is left out: no ${CHROMIUM}; run scripts/install-test-deps.sh`);
}

export default defineConfig({
  resolve: { conditions: ['development'] },
  test: {
    // The software adapters run on the same two cores as the test runner: one file at a
    // time keeps timings sane and avoids starving the rasteriser. The fast tier has no
    // adapter: its files run side by side.
    fileParallelism: fastTier,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: fastTier ? [fast] : withBrowser ? [node, chromium] : [node],
  },
});
