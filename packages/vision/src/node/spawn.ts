/**
 * Starts a loader worker thread from compiled JavaScript or from TypeScript sources.
 *
 * From dist/ the entry is the compiled sibling `loader-worker.js`. From sources (vitest, tsx), Node 20
 * cannot load `worker.ts` by itself and a worker does not inherit the parent's TypeScript hooks
 * (vitest's or tsx's), and `--import tsx` in a worker's execArgv does not hook its entry module
 * either. So the worker starts from a two-line bootstrap that loads the entry through tsx's
 * `tsImport`, which registers TypeScript handling for that module graph only. tsx is resolved
 * from this package, so it only has to be installed where sources are run (a devDependency).
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TesseraVisionError } from '../errors.js';
import type { LoaderThreads, WorkerInit } from '../loader/messages.js';

/** True when this module itself is running as TypeScript source. */
export function runningFromSource(moduleUrl: string = import.meta.url): boolean {
  return /\.[cm]?ts$/.test(new URL(moduleUrl).pathname);
}

/** file: URL of tsx's ESM API, found through its package.json "exports" (not a guessed path). */
function tsxApiUrl(): string {
  try {
    const require = createRequire(import.meta.url);
    const manifestPath = require.resolve('tsx/package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      exports: Record<string, { import?: { default?: string } } | string>;
    };
    const entry = manifest.exports['./esm/api'];
    const target = typeof entry === 'object' ? entry.import?.default : undefined;
    if (!target) throw new Error('tsx has no "./esm/api" import export');
    return pathToFileURL(join(dirname(manifestPath), target)).href;
  } catch (err) {
    throw new TesseraVisionError(
      `DataLoader workers need tsx when @tessera/vision runs from TypeScript sources (${(err as Error).message}); ` +
        'install it (pnpm install), build the package, or pass workers: 0',
      { cause: err },
    );
  }
}

export function spawnLoaderWorker(init: WorkerInit): Worker {
  if (!runningFromSource()) return new Worker(new URL('./loader-worker.js', import.meta.url), { workerData: init });
  const entry = new URL('./loader-worker.ts', import.meta.url).href;
  // An import failure must surface as the Worker's 'error' event, not an unhandled rejection.
  const bootstrap =
    `import(${JSON.stringify(tsxApiUrl())})` +
    `.then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))` +
    '.catch((err) => { process.nextTick(() => { throw err; }); });';
  return new Worker(bootstrap, { eval: true, workerData: init });
}

/**
 * LoaderThreads over Node worker threads: what a DataLoader (or GpuBatches) in Node passes as
 * `threads`. The default count is min(4, cores - 1), at least 1.
 */
export const workerThreads: LoaderThreads = {
  defaultCount: () => Math.max(1, Math.min(4, availableParallelism() - 1)),
  spawn(init, events) {
    const worker = spawnLoaderWorker(init);
    worker.on('message', events.message);
    worker.on('error', events.error);
    worker.on('exit', events.exit);
    return {
      post: (request) => worker.postMessage(request),
      ref: () => worker.ref(),
      unref: () => worker.unref(),
      terminate: () => worker.terminate(),
    };
  },
};
