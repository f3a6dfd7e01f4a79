/**
 * linear(x, w, b) = x · wᵀ + b with w stored [out, in] like PyTorch. Composed from
 * matmul (which reads the transposed weight in place, no copy) and a broadcast add;
 * its gradients come from theirs.
 */
import { TesseraError, fmtShape } from '../runtime/errors.js';
import type { Tensor } from '../tensor.js';
import { add } from './elementwise/op.js';
import { matmul } from './matmul/op.js';
import { transpose } from './views/op.js';
import { tidy } from '../autograd/scope.js';

export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  if (w.rank !== 2) throw new TesseraError(`linear: weight must be [out, in], got ${fmtShape(w.shape)}`);
  if (x.shape[x.rank - 1] !== w.shape[1]) {
    throw new TesseraError(`linear: input ${fmtShape(x.shape)} has ${x.shape[x.rank - 1]} features but weight ${fmtShape(w.shape)} expects ${w.shape[1]}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== w.shape[0])) throw new TesseraError(`linear: bias must be [${w.shape[0]}], got ${fmtShape(b.shape)}`);
  return tidy(() => {
    const y = matmul(x, transpose(w));
    return b ? add(y, b) : y;
  });
}
