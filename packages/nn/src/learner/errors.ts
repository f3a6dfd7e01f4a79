/** Errors the learner raises on purpose (as opposed to cancel signals, see callback.ts). */
import { TesseraError } from '@tessera/tensor';

/**
 * The training loss became NaN or infinite. Training stops at once: the weights are
 * already poisoned by the step that produced it, so continuing is pointless, but the
 * last checkpoint written before this batch is left as it was.
 */
export class TrainingDivergedError extends TesseraError {
  constructor(
    /** Epoch, numbered from 0 as in the epoch table. */
    readonly epoch: number,
    /** Batch within the epoch, from 0. */
    readonly batch: number,
    readonly batchesPerEpoch: number,
    readonly loss: number,
    /** Learning rate of each parameter group at that batch. */
    readonly lrs: readonly number[],
    /** The last checkpoint on disk, when a checkpointing callback wrote one. */
    readonly checkpoint?: string,
    /** Which loss: a training batch's, or the validation loss at the epoch's end. */
    readonly during: 'training' | 'validation' = 'training',
  ) {
    const lr = lrs.length ? ` (learning rate ${lrs.map((v) => v.toPrecision(3)).join(', ')})` : '';
    const where = during === 'validation'
      ? `the validation loss became ${loss} at the end of epoch ${epoch}${lr}`
      : `the loss became ${loss} in epoch ${epoch}, batch ${batch + 1} of ${batchesPerEpoch}${lr}`;
    super(
      `Training diverged: ${where}. ` +
        'The learning rate is probably too high: try a lower one (learn.lrFind() suggests one).' +
        (checkpoint ? ` The last good checkpoint is unchanged at ${checkpoint}.` : ''),
    );
    this.name = 'TrainingDivergedError';
  }
}

/** A checkpoint to resume from is missing, unreadable, or belongs to a different run. */
export class CheckpointError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}
