/**
 * Throughput of the GPU augmentation step as a training loop pays it per batch: sample the
 * parameters, upload the uint8 batch, run the kernel, wait for the device.
 */
import { initDevice, sync, tidy } from '@tessera/tensor';
import { augmentBatch, uploadBatch } from './kernel.js';
import { type AugmentOptions, sampleAugmentParams } from './params.js';

export interface BenchAugmentOptions {
  /** Source (uploaded) image size; default 460, fastai lesson 1's item Resize. */
  sourceSize?: number;
  /** Timed batches after one warm-up batch; default 5. */
  iterations?: number;
  options?: Partial<AugmentOptions>;
}

/** Images per second through sample + upload + kernel + sync, for batches of `batchSize` at `size`². */
export async function benchAugment(batchSize = 64, size = 224, opts: BenchAugmentOptions = {}): Promise<number> {
  await initDevice();
  const src = opts.sourceSize ?? 460;
  const iterations = opts.iterations ?? 5;
  const u8 = new Uint8Array(batchSize * src * src * 3);
  for (let i = 0; i < u8.length; i++) u8[i] = Math.imul(i, 2654435761) >>> 24;
  const step = (seed: number): void => {
    tidy(() => {
      const params = sampleAugmentParams({
        batchSize,
        height: src,
        width: src,
        size,
        train: true,
        seed,
        options: opts.options ?? { minScale: 0.75, ratio: [1, 1] },
      });
      const packed = uploadBatch(u8, [batchSize, src, src, 3]);
      augmentBatch(packed, params);
    });
  };
  step(0);
  await sync();
  const t0 = performance.now();
  for (let i = 1; i <= iterations; i++) {
    step(i);
    await sync();
  }
  const seconds = (performance.now() - t0) / 1000;
  return (batchSize * iterations) / seconds;
}
