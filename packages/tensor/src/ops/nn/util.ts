/** Argument checks shared by the nn ops: every error names the op and the shapes involved. */
import { TesseraError, fmtShape } from '../../runtime/errors.js';
import type { Tensor } from '../../tensor.js';

export function nnError(op: string, msg: string): TesseraError {
  return new TesseraError(`${op}: ${msg}`);
}

export function requireRank(op: string, x: Tensor, rank: number, what: string): void {
  if (x.rank !== rank) throw nnError(op, `expected ${what} (rank ${rank}), got shape ${fmtShape(x.shape)}`);
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

/** The element offset to bind a tensor at: it must be dense (contiguous), possibly offset. */
export function denseOffset(t: Tensor): number {
  if (!t.isContiguous) throw new Error('internal: expected a contiguous tensor');
  return t.offset;
}
