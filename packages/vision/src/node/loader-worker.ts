/**
 * Worker-thread entry: rebuilds the dataset from its spec once, then answers batch requests
 * (decode + resize + assemble) and hands each batch back by transferring its buffers, not copying.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { answerBatch } from '../loader/web-workers.js';
import type { BatchRequest, WorkerInit } from '../loader/messages.js';
import { nodeDatasetFromSpec } from './spec.js';

if (!isMainThread && parentPort) {
  const port = parentPort;
  const dataset = nodeDatasetFromSpec((workerData as WorkerInit).dataset);
  port.on('message', (request: BatchRequest) => answerBatch(dataset, request, (reply, transfer) => port.postMessage(reply, transfer)));
}
