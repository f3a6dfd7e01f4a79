/**
 * Comparisons with readable failures: `expectClose` compares a GPU tensor (or any
 * array) with a CPU twin's result elementwise under |a − e| ≤ atol + rtol·|e|, and
 * on failure says how many elements differ, where the worst one is (multi-index),
 * the values, and the first few mismatches. Test-runner agnostic (throws an Error).
 */
import { Tensor } from '../tensor.js';
import { fmtShape } from '../runtime/errors.js';
import { type CpuTensor, denseData, unravel } from '../reference/cpu-tensor.js';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

type Values = Tensor | CpuTensor | ArrayLike<number>;

function isCpu(v: Values): v is CpuTensor {
  return !(v instanceof Tensor) && typeof (v as CpuTensor).strides === 'object' && 'data' in (v as object);
}

async function read(v: Values): Promise<{ data: ArrayLike<number>; shape?: readonly number[] }> {
  if (v instanceof Tensor) return { data: await v.toArray(), shape: v.shape };
  if (isCpu(v)) return { data: denseData(v), shape: v.shape };
  return { data: v };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(8));

/**
 * Synchronous core: throws when `actual` and `expected` differ beyond the tolerance; returns
 * the largest |actual − expected| (0 when equal), for printing. `shape` (or, without one, the
 * name of what is compared) places the worst element in the message.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance = {},
  shapeOrWhat: readonly number[] | string = [actual.length],
  what = typeof shapeOrWhat === 'string' ? shapeOrWhat : 'values',
): number {
  const shape = typeof shapeOrWhat === 'string' ? [actual.length] : shapeOrWhat;
  const { rtol = 1e-5, atol = 1e-6 } = tol;
  if (actual.length !== expected.length) {
    throw new Error(`${what}: ${actual.length} elements, expected ${expected.length}`);
  }
  const bad: number[] = [];
  let worst = -1;
  let worstExcess = 0;
  let maxDiff = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const diff = Math.abs(a - e);
    if (diff > maxDiff) maxDiff = diff;
    const allowed = atol + rtol * Math.abs(e);
    if (diff <= allowed) continue;
    bad.push(i);
    const excess = Number.isFinite(diff) ? diff / Math.max(allowed, 1e-300) : Infinity;
    if (excess > worstExcess || worst < 0) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (bad.length === 0) return maxDiff;
  const where = (i: number) => fmtShape(unravel(i, shape));
  const line = (i: number) => `${where(i)}: got ${fmt(actual[i]!)}, expected ${fmt(expected[i]!)}`;
  const a = actual[worst]!;
  const e = expected[worst]!;
  throw new Error(
    `${what}: ${bad.length} of ${actual.length} elements differ (rtol ${rtol}, atol ${atol}), shape ${fmtShape(shape)}.\n` +
      `  worst at ${where(worst)} (flat ${worst}): got ${fmt(a)}, expected ${fmt(e)}, |diff| ${Math.abs(a - e).toExponential(3)} > ` +
      `allowed ${(atol + rtol * Math.abs(e)).toExponential(3)}\n` +
      `  first mismatches: ${bad.slice(0, 5).map(line).join('; ')}`,
  );
}

/** Reads `actual` (a GPU tensor is read back) and compares it with `expected`; shapes must match when both have one. */
export async function expectClose(actual: Values, expected: Values, tol: Tolerance = {}, what = 'values'): Promise<void> {
  const a = await read(actual);
  const e = await read(expected);
  const ad = actual instanceof Tensor || isCpu(actual) ? actual.dtype : undefined;
  const ed = expected instanceof Tensor || isCpu(expected) ? expected.dtype : undefined;
  const kind = (d: string) => (d === 'f64' ? 'f32' : d);
  if (ad && ed && kind(ad) !== kind(ed)) throw new Error(`${what}: dtype ${ad}, expected ${ed}`);
  if (a.shape && e.shape && (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape![i]))) {
    throw new Error(`${what}: shape ${fmtShape(a.shape)}, expected ${fmtShape(e.shape)}`);
  }
  assertClose(a.data, e.data, tol, a.shape ?? e.shape ?? [a.data.length], what);
}
