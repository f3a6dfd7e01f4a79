/** Argument checks shared by the nn ops: every error names the op and the shapes involved. */
import { TesseraError, fmtShape } from '../../runtime/errors.js';
import type { Tensor } from '../../tensor.js';

export function nnError(op: string, msg: string): TesseraError {
  return new TesseraError(`${op}: ${msg}`);
}

export function requireF32(op: string, t: Tensor, role: string): void {
  if (t.dtype !== 'f32') throw nnError(op, `${role} must be f32, got ${t.dtype} of shape ${fmtShape(t.shape)}`);
}

/** A number or [h, w] pair as a positive (or non-negative) integer pair. */
export function pair(op: string, name: string, v: number | readonly [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number') throw nnError(op, `${name} must be a number or [h, w]`);
  for (const d of p) {
    if (!Number.isInteger(d) || d < min) throw nnError(op, `${name} must be ${min === 0 ? 'non-negative' : 'positive'} integers, got ${fmtShape(p)}`);
  }
  return p;
}
