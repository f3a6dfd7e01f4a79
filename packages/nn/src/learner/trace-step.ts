/**
 * The kernels a learner's steps will need, found without running them (tensor's
 * traceKernels: commands skipped, kernels noted instead of compiled), so that a run can
 * compile them on every core before its first step even when no earlier run recorded a
 * warm-up plan. Traced: a training step (forward, loss, backward) with the parameters
 * trainable as they are now (a frozen body at the start of fineTune), the same step with
 * every parameter trainable (fineTune's second stage), and an eval forward.
 *
 * Not traced: the optimizer step (building an optimizer moves the parameters into its flat
 * buffers, which a trace would leave unwritten) and the metrics; their few kernels compile
 * at first use. Nothing the model holds changes: no command runs, the random generator is
 * put back, the gradients are dropped and the trainable flags restored.
 */
import { type KernelSource, type Tensor, getSeedState, manualSeed, noGrad, tensor, tidy, traceKernels } from '@tessera/tensor';
import type { Learner } from './learner.js';

/** Traces `learn`'s steps on a batch of `inputShape` (e.g. [bs, size, size, 3]) with labels of `numClasses` classes. */
export function traceStepKernels(learn: Pick<Learner, 'model' | 'lossFunc'>, inputShape: readonly number[], numClasses: number): KernelSource[] {
  const { model } = learn;
  const params = model.parameters();
  const trainable = params.map((p) => p.requiresGrad);
  const wasTraining = model.training;
  const seed = getSeedState();
  const n = inputShape[0]!;
  const step = (x: Tensor, y: Tensor) =>
    tidy(() => {
      learn.lossFunc(model.call(x), y).backward();
    });
  try {
    return traceKernels(() =>
      tidy(() => {
        // Uploads, not kernels: a random or zero fill would add kernels the run never uses.
        const x = tensor(new Float32Array(inputShape.reduce((a, b) => a * b, 1)), [...inputShape]);
        const y = tensor(Int32Array.from({ length: n }, (_, i) => i % numClasses), [n], 'i32');
        model.train();
        step(x, y);
        for (const p of params) p.requiresGrad = true;
        step(x, y);
        model.eval();
        noGrad(() => tidy(() => void learn.lossFunc(model.call(x), y)));
      }),
    );
  } finally {
    params.forEach((p, i) => {
      p.grad?.dispose();
      p.grad = null;
      p.requiresGrad = trainable[i]!;
    });
    model.train(wasTraining);
    manualSeed(seed);
  }
}
