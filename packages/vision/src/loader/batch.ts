/**
 * A batch as the GPU wants it: one contiguous uint8 buffer [B, H, W, 3] (NHWC) and int32 labels,
 * assembled the same way in a worker thread or, with `workers: 0`, in the calling thread.
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

export async function loadBatch(dataset: VisionDataset, indices: readonly number[], target: ResolvedTarget): Promise<BatchPixels> {
  const start = performance.now();
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
  }
  return { images, labels, workMs: performance.now() - start };
}
