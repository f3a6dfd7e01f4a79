/**
 * Inference helpers: class probabilities for batches (fastai's get_preds with the
 * loss's activation, softmax), and predict() for one input → label, index, probs.
 * The model runs in eval mode under noGrad; its previous mode is restored after.
 */
import { type Tensor, TesseraError, noGrad, softmax, tidy } from '@tessera/tensor';
import type { Module } from '../module.js';

/** Runs fn with the model in eval mode, then puts its mode back. */
export async function inEvalMode<T>(model: Module, fn: () => Promise<T>): Promise<T> {
  const was = model.training;
  model.eval();
  try {
    return await fn();
  } finally {
    model.train(was);
  }
}

export interface Prediction {
  label: string;
  index: number;
  /** Probability of each class, in class order. */
  probs: Float32Array;
}

/** Predictions for every sample of a batch x [N, ...]. */
export async function predictBatch(model: Module, x: Tensor, classes: readonly string[]): Promise<Prediction[]> {
  return inEvalMode(model, async () => {
    const p = noGrad(() => tidy(() => softmax(model.call(x), -1)));
    let probs: Float32Array;
    try {
      probs = (await p.toArray()) as Float32Array;
    } finally {
      p.dispose();
    }
    const c = p.shape[p.rank - 1]!;
    if (c !== classes.length) throw new TesseraError(`predict: the model gives ${c} outputs but there are ${classes.length} class names`);
    const out: Prediction[] = [];
    for (let i = 0; i < probs.length / c; i++) {
      const row = probs.slice(i * c, (i + 1) * c);
      let index = 0;
      for (let k = 1; k < c; k++) if (row[k]! > row[index]!) index = k;
      out.push({ label: classes[index]!, index, probs: row });
    }
    return out;
  });
}

/** fastai's learn.predict for one input: x is a batch of one ([1, ...]). */
export async function predict(model: Module, x: Tensor, classes: readonly string[]): Promise<Prediction> {
  if (x.shape[0] !== 1) throw new TesseraError(`predict: expected a batch of one input ([1, ...]), got shape [${x.shape.join(', ')}]; use predictBatch`);
  return (await predictBatch(model, x, classes))[0]!;
}
