/**
 * A batch as the GPU wants it: one contiguous uint8 buffer [B, H, W, 3] (NHWC) and int32 labels,
 * assembled the same way in a worker (thread or Web Worker) or, with `workers: 0`, in the calling
 * thread (yielding to the event loop every few milliseconds, so a page stays responsive).
 */

import type { VisionDataset } from '../datasets/dataset.js';
import { TesseraVisionError } from '../errors.js';
import type { ResolvedTarget } from '../target.js';

export interface Batch {
  /** B*H*W*3 bytes, NHWC, RGB. */
  images: Uint8Array;
  labels: Int32Array;
  /** Dataset index of each item, in batch order. */
  indices: Int32Array;
  /** [B, H, W, 3]. */
  shape: readonly [number, number, number, number];
}

export interface BatchPixels {
  images: Uint8Array;
  labels: Int32Array;
  /** Milliseconds spent producing the batch (decode, resize, cache), where it was produced. */
  workMs: number;
}

/** Lets the event loop run (a page repaint, input, a GPU readback) without a timer's clamping. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; scheduler?: { yield?: () => Promise<void> } };
  if (g.scheduler?.yield) return g.scheduler.yield();
  if (g.setImmediate) return new Promise((resolve) => g.setImmediate!(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Loads and assembles one batch. With `sliceMs`, control goes back to the event loop whenever that
 * long has passed since the last time: a batch decoded on a page's main thread keeps the page alive.
 */
export async function loadBatch(
  dataset: VisionDataset,
  indices: readonly number[],
  target: ResolvedTarget,
  sliceMs?: number,
): Promise<BatchPixels> {
  const start = performance.now();
  let sliceStart = start;
  const { width, height } = target;
  const itemBytes = width * height * 3;
  const images = new Uint8Array(indices.length * itemBytes);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const index = indices[k]!;
    const img = await dataset.load(index, target);
    if (img.width !== width || img.height !== height) {
      throw new TesseraVisionError(`dataset item ${index} came back ${img.width}x${img.height}, expected ${width}x${height}`);
    }
    images.set(img.data, k * itemBytes);
    labels[k] = dataset.label(index);
    if (sliceMs !== undefined && performance.now() - sliceStart > sliceMs) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  return { images, labels, workMs: performance.now() - start };
}
