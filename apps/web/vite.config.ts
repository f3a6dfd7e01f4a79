import { defaultClientConditions, defineConfig } from 'vite';

// The workspace packages (@tessera/tensor, nn, vision) are bundled from their TypeScript
// sources through their "development" export condition, in `vite` (dev) and `vite build`
// alike, so the page never runs against a stale dist and needs no `pnpm build` first.
// "browser" (one of Vite's client defaults) picks @tessera/tensor's browser GPU provider,
// so no Node built-in or Dawn binary reaches the bundle.
export default defineConfig({
  resolve: { conditions: ['development', ...defaultClientConditions] },
  // keepNames: the engine names things after their functions and classes (the epoch table's
  // metric column comes from `errorRate`'s name), which minification would otherwise rename.
  worker: { format: 'es', rolldownOptions: { output: { keepNames: true } } },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 2000 },
  // The dev server's dependency scan starts from the workers too (it does not follow
  // `new Worker(new URL(...))`), so the engine's CommonJS dependencies are pre-bundled at
  // start rather than discovered, and the page reloaded, on first use.
  optimizeDeps: { entries: ['index.html', 'src/worker.ts', 'src/loader-worker.ts'] },
  server: { port: 5173 },
  preview: { port: 4173 },
});
