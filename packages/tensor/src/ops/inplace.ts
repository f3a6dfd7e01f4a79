/**
 * In-place writes into an existing tensor's storage, outside autograd: loading
 * weights, initialisation, optimizer-side copies. The destination keeps its identity
 * (parameters stay the same tensor objects the optimizer holds).
 */
import { runMap } from '../kernels/elementwise.js';
import { TesseraError, fmtShape } from '../runtime/errors.js';
import { writeBuffer } from '../runtime/queue.js';
import { sameShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { operand } from './util.js';
import { copy } from './elementwise/op.js';
import { noGrad } from '../autograd/grad-mode.js';
import { tidy } from '../autograd/scope.js';

/** Copies src's elements into dst (same shape; dst may be a view). */
export function copyInto(dst: Tensor, src: Tensor): Tensor {
  if (!sameShape(dst.shape, src.shape)) {
    throw new TesseraError(`copyFrom: source shape ${fmtShape(src.shape)} does not match destination ${fmtShape(dst.shape)}`);
  }
  if (dst.dtype !== src.dtype) throw new TesseraError(`copyFrom: dtype ${src.dtype} into ${dst.dtype}; cast first`);
  // One dispatch cannot read and write the same buffer (and overlapping views would
  // race): a source sharing dst's storage goes through a temporary copy.
  tidy(() => {
    const from = src.buffer === dst.buffer ? noGrad(() => copy(src)) : src;
    runMap({ name: 'copy', expr: 'x0', outType: dst.dtype }, [operand(from)], dst.shape, {
      buffer: dst.buffer,
      offset: dst.offset,
      strides: dst.strides,
    });
  });
  return dst;
}

/** Uploads host data into a dense tensor's storage. */
export function uploadInto(dst: Tensor, data: Float32Array | Int32Array | Uint32Array): Tensor {
  if (data.length !== dst.size) {
    throw new TesseraError(`load: ${data.length} values for a tensor of shape ${fmtShape(dst.shape)} (${dst.size} elements)`);
  }
  if (!dst.isContiguous) throw new TesseraError('load: the destination must be contiguous');
  writeBuffer(dst.buffer, dst.offset * 4, data);
  return dst;
}
