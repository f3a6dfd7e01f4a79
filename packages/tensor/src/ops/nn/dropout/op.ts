/**
 * Inverted dropout: in training, each element is kept with probability 1 − p and
 * scaled by 1/(1 − p); in evaluation (or with p = 0) the input passes through.
 * The mask is a pure function of (seed, element index) — the same draw as
 * `rand(x.shape, 0, 1, { seed }) >= p` — so the backward regenerates it from the
 * seed instead of storing it.
 */
import { runDropout } from './kernel.js';
import type { Tensor } from '../../../tensor.js';
import { nextSeed } from '../../create.js';
import { defineOp } from '../../registry.js';
import { newTensor } from '../../util.js';
import { contiguous, reshape } from '../../views/op.js';
import { nnError, requireF32 } from '../util.js';

interface DropoutAttrs {
  p: number;
  seed: number;
  scale: number;
}

const dropoutOp = defineOp<DropoutAttrs>({
  name: 'dropout',
  forward(_ctx, [x], a) {
    const xc = contiguous(x!);
    const y = newTensor(x!.shape, 'f32', 'dropout');
    runDropout(xc.buffer, xc.offset, y.buffer, x!.size, a.p, a.seed, a.scale);
    return y;
  },
  backward(grad, { attrs: a }) {
    const gc = contiguous(grad);
    const dx = newTensor(grad.shape, 'f32', 'dropout_grad');
    runDropout(gc.buffer, gc.offset, dx.buffer, grad.size, a.p, a.seed, a.scale);
    return [dx];
  },
});

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p) when
 * `training`; returns the input unchanged (as a view with its own lifetime) otherwise.
 * `seed` fixes the mask; without it the next seed of the global generator
 * (`manualSeed`) is drawn. p = 1 gives zeros.
 */
export function dropout(x: Tensor, p: number, training = true, seed?: number): Tensor {
  requireF32('dropout', x, 'the input');
  if (!(p >= 0 && p <= 1)) throw nnError('dropout', `p must be in [0, 1], got ${p}`);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
    throw nnError('dropout', `seed must be an integer in [0, 2^32), got ${seed}`);
  }
  if (!training || p === 0) return reshape(x, x.shape);
  const s = seed ?? nextSeed();
  return dropoutOp([x], { p, seed: s, scale: p === 1 ? 0 : 1 / (1 - p) });
}
