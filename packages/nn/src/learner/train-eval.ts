/**
 * fastai's TrainEvalCallback, always attached and first to run (order -10): keeps the
 * learner's counters (training iteration, training position for the schedules) and
 * switches the model between train() and eval() around validation.
 */
import { trainingPosition } from '../optim/schedules.js';
import { Callback } from './callback.js';

export class TrainEvalCallback extends Callback {
  override order = -10;
  override runValid = false;

  override beforeFit(): void {
    const l = this.learn;
    l.epoch = 0;
    l.loss = NaN;
    l.trainIter = 0;
    l.pctTrain = 0;
  }

  override beforeTrain(): void {
    const l = this.learn;
    l.pctTrain = l.epoch / l.nEpoch;
    l.model.train();
    l.training = true;
  }

  /**
   * Runs before every other afterBatch hook, so the recorder and the LR finder see the
   * iteration already counted (as in fastai). The position is computed rather than
   * accumulated: pos = batches done / (epochs · batches per epoch).
   */
  override afterBatch(): void {
    const l = this.learn;
    l.trainIter++;
    l.pctTrain = trainingPosition(l.epoch * l.nIter + l.iter + 1, l.nEpoch * l.nIter);
  }

  override beforeValidate(): void {
    this.learn.model.eval();
    this.learn.training = false;
  }

  /** Back to training mode as soon as validation is over (BatchNorm, dropout). */
  override afterValidate(): void {
    this.learn.model.train();
  }
}
