/**
 * Loader workers in a browser: Web Workers that each hold the dataset (rebuilt from its spec) and
 * decode + resize batches off the page's main thread, with the same protocol as Node's worker
 * threads. The app owns the worker script, so its bundler handles it:
 *
 *   // loader-worker.ts
 *   import { serveLoaderWorker } from '@tessera/vision';
 *   serveLoaderWorker();
 *
 *   // the page
 *   const threads = webWorkers(() => new Worker(new URL('./loader-worker.ts', import.meta.url), { type: 'module' }));
 *   new GpuBatches(folder.train, { batchSize: 32, size: 128, train: true, threads });
 *
 * Datasets that cross over: in-memory image folders (their bytes are copied to each worker), the
 * counting task, subsets of these.
 */

import { datasetFromSpec, type SpecBuilder } from '../datasets/spec.js';
import type { VisionDataset } from '../datasets/dataset.js';
import { loadBatch } from './batch.js';
import { serializeError, type BatchReply, type BatchRequest, type LoaderThreads, type WorkerInit } from './messages.js';

/** Produces the batch a request asks for and posts the reply, transferring (not copying) its buffers. */
export function answerBatch(dataset: VisionDataset, request: BatchRequest, post: (reply: BatchReply, transfer: ArrayBuffer[]) => void): void {
  loadBatch(dataset, request.indices, request.target).then(
    ({ images, labels, indices, failed, workMs }) => {
      // Fresh buffers made by loadBatch: never shared, safe to transfer.
      const transfer = [images.buffer as ArrayBuffer, labels.buffer as ArrayBuffer, indices.buffer as ArrayBuffer];
      post({ id: request.id, ok: true, images, labels, indices, failed, workMs }, transfer);
    },
    (err: unknown) => post({ id: request.id, ok: false, error: serializeError(err) }, []),
  );
}

/** The parts of a Web Worker's global scope (or a MessagePort) that serveLoaderWorker uses. */
export interface WorkerScopeLike {
  onmessage: ((event: MessageEvent) => unknown) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

/**
 * Runs in a Web Worker's script: the first message is the dataset (WorkerInit), every later one a
 * batch request. `extra` builds dataset kinds this entry does not know.
 */
export function serveLoaderWorker(scope: WorkerScopeLike = globalThis as unknown as WorkerScopeLike, extra?: SpecBuilder): void {
  let dataset: VisionDataset | null = null;
  scope.onmessage = (event: MessageEvent) => {
    if (!dataset) {
      dataset = datasetFromSpec((event.data as WorkerInit).dataset, extra);
      return;
    }
    answerBatch(dataset, event.data as BatchRequest, (reply, transfer) => scope.postMessage(reply, transfer));
  };
}

/** The parts of a Web Worker that webWorkers uses. */
export interface WebWorkerLike {
  onmessage: ((event: MessageEvent) => unknown) | null;
  onerror: ((event: ErrorEvent) => unknown) | null;
  postMessage(message: unknown): void;
  terminate(): void;
}

/**
 * LoaderThreads over Web Workers made by `create` (each must run serveLoaderWorker). `count` is
 * the default number of workers: min(4, hardwareConcurrency - 1), at least 1, unless given.
 */
export function webWorkers(create: () => WebWorkerLike, options: { count?: number } = {}): LoaderThreads {
  return {
    defaultCount: () => options.count ?? Math.max(1, Math.min(4, (globalThis.navigator?.hardwareConcurrency ?? 2) - 1)),
    spawn(init: WorkerInit, events) {
      const worker = create();
      worker.onmessage = (event) => events.message(event.data as BatchReply);
      worker.onerror = (event) => {
        event.preventDefault?.();
        events.error(new Error(event.message || 'a DataLoader Web Worker failed to start or crashed'));
      };
      worker.postMessage(init);
      return { post: (request) => worker.postMessage(request), terminate: () => worker.terminate() };
    },
  };
}
