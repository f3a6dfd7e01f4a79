import { defineConfig } from 'vitest/config';

// One vitest run over every package and the cross-package tests. Workspace packages
// resolve to their TypeScript sources through the "development" export condition,
// so tests never run against stale builds.
export default defineConfig({
  resolve: { conditions: ['development'] },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // lavapipe runs on the same two cores as the test runner: one file at a time
    // keeps timings sane and avoids starving the software rasteriser.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
