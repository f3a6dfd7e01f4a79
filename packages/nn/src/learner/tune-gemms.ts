/**
 * Tunes the GEMMs a model's training and validation steps make (tensor's autotuner,
 * kernels/gemm-tuner.ts): records one training step (forward, loss, backward) and one
 * eval forward on a random batch of the given shape, then measures each call's
 * variants. The model is left as it was: BatchNorm running statistics are restored
 * and gradients dropped.
 */
import { type Tensor, noGrad, randn, recordGemms, softmaxCrossEntropy, sync, tidy, tuneGemms, type TuneEntry } from '@tessera/tensor';
import type { Module } from '../module.js';

export interface TuneModelOptions {
  /** Classes of the model's output (labels of the random batch). */
  numClasses: number;
  reps?: number;
  log?: (line: string) => void;
}

/** Tunes the GEMM calls of a [N, H, W, C] training + eval step; returns the newly tuned entries. */
export async function tuneModelGemms(model: Module, inputShape: readonly [number, number, number, number], opts: TuneModelOptions): Promise<Record<string, TuneEntry>> {
  const wasTraining = model.training;
  const saved = model.namedBuffers().map(([, t]) => [t, t.clone().keep()] as [Tensor, Tensor]);
  const x = randn([...inputShape]).keep();
  const labels = Int32Array.from({ length: inputShape[0] }, (_, i) => i % opts.numClasses);
  try {
    model.train();
    const train = recordGemms(() =>
      tidy(() => {
        softmaxCrossEntropy(model.call(x), labels).backward();
      }),
    );
    model.eval();
    const evalCalls = recordGemms(() => noGrad(() => tidy(() => void model.call(x))));
    await sync();
    const seen = new Set<string>();
    const calls = [...train.calls, ...evalCalls.calls].filter((c) => !seen.has(c.key) && seen.add(c.key));
    return await tuneGemms(calls, { reps: opts.reps, log: opts.log });
  } finally {
    for (const p of model.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
    for (const [t, copy] of saved) {
      t.copyFrom(copy);
      copy.dispose();
    }
    x.dispose();
    model.train(wasTraining);
  }
}
