/** Shape arithmetic shared by ops, kernels and the CPU reference: sizes, strides, broadcasting, axes. */
import { TesseraError, fmtShape } from './runtime/errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== acc) return false;
    acc *= shape[i]!;
  }
  return true;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting; `op` names the operation in the error. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new TesseraError(`${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together`);
      }
    }
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if it had the broadcast shape `to` (0 on expanded dims). */
export function broadcastStrides(shape: Shape, strides: readonly number[], to: Shape): number[] {
  const out = new Array<number>(to.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = to.length - shape.length + i;
    out[o] = shape[i] === 1 && to[o] !== 1 ? 0 : strides[i]!;
  }
  return out;
}

/**
 * Normalises axes (negative allowed) for a tensor of the given shape (or rank);
 * undefined means all axes. Errors name the op and the shape.
 */
export function normAxes(op: string, axes: number | readonly number[] | undefined, shapeOrRank: Shape | number): number[] {
  const rank = typeof shapeOrRank === 'number' ? shapeOrRank : shapeOrRank.length;
  const what = typeof shapeOrRank === 'number' ? `a tensor of rank ${rank}` : `shape ${fmtShape(shapeOrRank)}`;
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= Math.max(rank, 1)) {
      throw new TesseraError(`${op}: axis ${a} is out of range for ${what}`);
    }
    return n;
  });
  if (new Set(out).size !== out.length) throw new TesseraError(`${op}: repeated axis in ${fmtShape(list)} for ${what}`);
  return out.sort((x, y) => x - y);
}

export function normAxis(op: string, axis: number, shapeOrRank: Shape | number): number {
  return normAxes(op, axis, shapeOrRank)[0]!;
}

/**
 * Merges neighbouring dimensions that are laid out contiguously in every operand,
 * so kernels index fewer dimensions. `stridesList` holds one stride array per operand.
 */
export function coalesce(shape: Shape, stridesList: (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const dims: number[] = [];
  const strides: number[][] = stridesList.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && stridesList.every((s, k) => strides[k]![last] === s[i]! * d)) {
      dims[last] *= d;
      stridesList.forEach((s, k) => (strides[k]![last] = s[i]!));
    } else {
      dims.push(d);
      stridesList.forEach((s, k) => strides[k]!.push(s[i]!));
    }
  }
  if (dims.length === 0) return { shape: [1], strides: stridesList.map(() => [0]) };
  return { shape: dims, strides };
}

export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new TesseraError(`${op}: invalid shape ${fmtShape(shape)}`);
    if (d === 0) throw new TesseraError(`${op}: shape ${fmtShape(shape)} has an empty dimension; tensors need at least one element per dimension`);
  }
}
