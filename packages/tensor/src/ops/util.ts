/** Small helpers the op declarations share: operands for kernels, fresh outputs, dtype checks. */
import type { DType } from '../dtype.js';
import type { MapOperand } from '../kernels/elementwise.js';
import { broadcastStrides } from '../shape.js';
import { Tensor } from '../tensor.js';
import { TesseraError, fmtShape } from '../runtime/errors.js';

export function operand(t: Tensor, outShape?: readonly number[]): MapOperand {
  return {
    buffer: t.buffer,
    dtype: t.dtype,
    offset: t.offset,
    strides: outShape ? broadcastStrides(t.shape, t.strides, outShape) : t.strides,
  };
}

export function requireDtype(op: string, t: Tensor, ...allowed: DType[]): void {
  if (!allowed.includes(t.dtype)) {
    throw new TesseraError(`${op}: expected a tensor of dtype ${allowed.join(' or ')}, got ${t.dtype} of shape ${fmtShape(t.shape)}`);
  }
}

export function requireSameDtype(op: string, ...ts: Tensor[]): DType {
  const d = ts[0]!.dtype;
  for (const t of ts) {
    if (t.dtype !== d) {
      throw new TesseraError(`${op}: dtypes differ (${ts.map((x) => `${x.dtype}${fmtShape(x.shape)}`).join(', ')}); cast first`);
    }
  }
  return d;
}

export function newTensor(shape: readonly number[], dtype: DType, label: string): Tensor {
  return Tensor.empty(shape, dtype, label);
}
