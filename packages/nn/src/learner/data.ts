/**
 * What the learner needs from data, stated here so that @tessera/nn does not depend
 * on @tessera/vision: the vision loaders (or a test's synthetic source) implement
 * these interfaces, the learner only iterates them.
 */
import type { Tensor } from '@tessera/tensor';

/** One mini-batch already on the GPU. */
export interface Batch {
  /** Model input, e.g. [N, H, W, C] images or [N, F] features. */
  x: Tensor;
  /** Integer class labels, i32 [N]. */
  y: Tensor;
  /** Number of samples (N); weights the validation loss and metrics. */
  size: number;
}

/**
 * A repeatable stream of batches. `batches(epoch)` receives the epoch so a source can
 * shuffle and augment deterministically per epoch: that is what makes a resumed run
 * see the same data as an uninterrupted one. The learner takes ownership of each
 * batch and disposes its tensors once it is done with them.
 */
export interface BatchSource {
  /** Batches per pass (fastai's len(dl)); the schedules are laid out with it. */
  readonly numBatches: number;
  batches(epoch: number): AsyncIterable<Batch>;
  /**
   * Optional: pass `epoch` is coming; start preparing it (decoding ahead in workers). The learner
   * calls it on the validation source when a training pass starts, so that validation does not
   * begin by waiting for its images.
   */
  decodeAhead?(epoch: number): void;
}

/** The training and validation sources and the class names (fastai's DataLoaders + vocab). */
export interface DataLoaders {
  train: BatchSource;
  valid: BatchSource;
  classes: string[];
}

/** Frees a batch's tensors (x and y may be the same tensor in odd sources). */
export function disposeBatch(b: Batch): void {
  b.x.dispose();
  if (b.y !== b.x) b.y.dispose();
}
