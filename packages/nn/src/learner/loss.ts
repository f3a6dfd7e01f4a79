/**
 * The classification loss fastai picks for a single-label dataset
 * (CrossEntropyLossFlat): softmax cross-entropy of [N, C] logits against i32 labels,
 * fused in one kernel by the tensor package. Accepts { reduction: 'none' } so that
 * interpretation can get per-sample losses.
 */
import { type Tensor, softmaxCrossEntropy } from '@tessera/tensor';
import type { LossFunc, Reduction } from './options.js';

export const crossEntropyLoss: LossFunc = (pred: Tensor, targ: Tensor, opts?: { reduction?: Reduction }): Tensor => {
  // fastai's *Flat losses flatten extra leading dimensions; here any [..., C] becomes [N, C].
  const c = pred.shape[pred.rank - 1]!;
  const flat = pred.rank === 2 ? pred : pred.reshape([pred.size / c, c]);
  const labels = targ.rank === 1 ? targ : targ.reshape([targ.size]);
  const out = softmaxCrossEntropy(flat, labels, { reduction: opts?.reduction ?? 'mean' });
  if (flat !== pred) flat.dispose();
  if (labels !== targ) labels.dispose();
  return out;
};
