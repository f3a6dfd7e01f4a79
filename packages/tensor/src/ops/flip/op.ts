/**
 * flip(x, dims): torch.flip — the elements' order reversed along each of `dims`, into
 * a new dense tensor. No WGSL of its own: x is read through a view with those strides
 * negated and its offset at the last element along them, which the elementwise map
 * generator's strided variant copies (its u32 index arithmetic wraps modulo 2³², so a
 * negative stride sent as its two's complement lands on the right element). The
 * backward is the same flip of the incoming gradient.
 */
import { runMap } from '../../kernels/elementwise.js';
import { normAxes } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { defineOp } from '../registry.js';
import { newTensor } from '../util.js';

/** A dense copy of x reversed along `dims` (normalised, distinct). */
function flipped(x: Tensor, dims: readonly number[], label: string): Tensor {
  const out = newTensor(x.shape, x.dtype, label);
  let offset = x.offset;
  const strides = x.strides.map((s, d) => {
    if (!dims.includes(d)) return s;
    offset += (x.shape[d]! - 1) * s;
    return -s;
  });
  runMap({ name: label, expr: 'x0', outType: x.dtype }, [{ buffer: x.buffer, dtype: x.dtype, offset, strides }], x.shape, out.buffer);
  return out;
}

const flipOp = defineOp<number[]>({
  name: 'flip',
  forward: (_ctx, [x], dims) => flipped(x!, dims, 'flip'),
  backward: (g, { attrs: dims }) => [flipped(g, dims, 'flip_grad')],
});

/** Reverses the order of elements along each of `dims` (torch.flip): a copy, any dtype. */
export function flip(x: Tensor, dims: readonly number[]): Tensor {
  return flipOp([x], normAxes('flip', dims, x.shape));
}
