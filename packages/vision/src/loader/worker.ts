/**
 * Worker-thread entry: rebuilds the dataset from its spec once, then answers batch requests
 * (decode + resize + assemble) and hands each batch back by transferring its buffers, not copying.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { datasetFromSpec } from '../datasets/spec.js';
import { loadBatch } from './batch.js';
import { serializeError, type BatchReply, type BatchRequest, type WorkerInit } from './messages.js';

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { dataset: spec } = workerData as WorkerInit;
  const dataset = datasetFromSpec(spec);
  port.on('message', (request: BatchRequest) => {
    loadBatch(dataset, request.indices, request.target).then(
      ({ images, labels, workMs }) => {
        const reply: BatchReply = { id: request.id, ok: true, images, labels, workMs };
        // Fresh buffers made by loadBatch: never shared, safe to transfer.
        port.postMessage(reply, [images.buffer as ArrayBuffer, labels.buffer as ArrayBuffer]);
      },
      (err: unknown) => {
        const reply: BatchReply = { id: request.id, ok: false, error: serializeError(err) };
        port.postMessage(reply);
      },
    );
  });
}
