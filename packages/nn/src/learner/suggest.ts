/**
 * fastai's learning-rate suggestions (fastai/callback/schedule.py), as pure functions
 * of the LR finder's curve. fastai holds the curve in float32 tensors (`tensor(list)`
 * defaults to float32) and computes steep's slopes and slide's np.gradient in float32;
 * these functions round the same way (Math.fround) so that near-ties resolve to the
 * same index as fastai's. Each returns the suggestion and the point fastai would plot.
 */
import { TesseraError } from '@tessera/tensor';

export interface Suggestion {
  lr: number;
  /** (lr, loss) where fastai marks the suggestion on the plot. */
  point: [number, number];
}

export type SuggestFunc = ((lrs: readonly number[], losses: readonly number[], numIt: number) => Suggestion) & {
  suggestName?: string;
};

const f32 = Math.fround;

function toF32(xs: readonly number[]): number[] {
  return xs.map(f32);
}

function check(name: string, lrs: readonly number[], losses: readonly number[], min: number): void {
  if (lrs.length !== losses.length) throw new TesseraError(`${name}: ${lrs.length} learning rates for ${losses.length} losses`);
  if (losses.length < min) {
    throw new TesseraError(`${name}: the LR finder curve has ${losses.length} usable points, ${min} needed; run lrFind with a larger numIt`);
  }
}

/** First index of the smallest value (torch.argmin's tie rule). */
function argmin(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! < xs[best]!) best = i;
  return best;
}

/** Python's min(range(n), key=|lrs[i] - lr|): the first nearest index. */
function nearest(lrs: readonly number[], lr: number): number {
  let best = 0;
  for (let i = 1; i < lrs.length; i++) if (Math.abs(lrs[i]! - lr) < Math.abs(lrs[best]! - lr)) best = i;
  return best;
}

/**
 * fastai's valley (ESRI's rule, the lr_find default): the longest decreasing
 * subsequence of the losses, then the point 1/3 + 1/6 of the way into it. The update
 * of the best run sits inside the inner loop exactly as in fastai, quirks included.
 */
export const valley: SuggestFunc = function valley(lrsIn, lossesIn) {
  check('valley', lrsIn, lossesIn, 1);
  const lrs = toF32(lrsIn);
  const losses = toF32(lossesIn);
  const n = losses.length;
  let maxStart = 0;
  let maxEnd = 0;
  const lds = Array<number>(n).fill(1);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i]! < losses[j]! && lds[i]! < lds[j]! + 1) lds[i] = lds[j]! + 1;
      if (lds[maxEnd]! < lds[i]!) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd]!;
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const idx = maxStart + Math.trunc(sections) + Math.trunc(sections / 2);
  return { lr: lrs[idx]!, point: [lrs[idx]!, losses[idx]!] };
};

/** fastai's minimum: a tenth of the learning rate at the lowest loss. */
export const minimum: SuggestFunc = function minimum(lrsIn, lossesIn) {
  check('minimum', lrsIn, lossesIn, 1);
  const lrs = toF32(lrsIn);
  const losses = toF32(lossesIn);
  const lrMin = lrs[argmin(losses)]!;
  return { lr: lrMin / 10, point: [lrMin, losses[nearest(lrs, lrMin)]!] };
};

/** fastai's steep: the learning rate where the loss falls fastest per unit of log(lr). */
export const steep: SuggestFunc = function steep(lrsIn, lossesIn) {
  check('steep', lrsIn, lossesIn, 2);
  const lrs = toF32(lrsIn);
  const losses = toF32(lossesIn);
  const grads: number[] = [];
  for (let i = 0; i + 1 < lrs.length; i++) {
    grads.push(f32(f32(losses[i + 1]! - losses[i]!) / f32(f32(Math.log(lrs[i + 1]!)) - f32(Math.log(lrs[i]!)))));
  }
  const lrSteep = lrs[argmin(grads)]!;
  return { lr: lrSteep, point: [lrSteep, losses[nearest(lrs, lrSteep)]!] };
};

/** numpy.gradient with unit spacing (edge_order 1), in float32 like numpy on a float32 array. */
export function npGradient(ys: readonly number[]): number[] {
  const n = ys.length;
  if (n < 2) throw new TesseraError(`gradient: needs at least 2 points, got ${n}`);
  const out = Array<number>(n);
  for (let i = 1; i < n - 1; i++) out[i] = f32(f32(ys[i + 1]! - ys[i - 1]!) / 2);
  out[0] = f32(ys[1]! - ys[0]!);
  out[n - 1] = f32(ys[n - 1]! - ys[n - 2]!);
  return out;
}

/** numpy.interp(x, xp, fp) for increasing xp: clamps outside, linear inside. */
export function npInterp(x: number, xp: readonly number[], fp: readonly number[]): number {
  const n = xp.length;
  if (n === 0 || n !== fp.length) throw new TesseraError(`interp: ${xp.length} x values for ${fp.length} y values`);
  if (x <= xp[0]!) return fp[0]!;
  if (x >= xp[n - 1]!) return fp[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const slope = (fp[lo + 1]! - fp[lo]!) / (xp[lo + 1]! - xp[lo]!);
  let y = slope * (x - xp[lo]!) + fp[lo]!;
  // numpy's fallbacks when the slope is not finite (equal xp or infinite fp).
  if (Number.isNaN(y)) {
    y = slope * (x - xp[lo + 1]!) + fp[lo + 1]!;
    if (Number.isNaN(y) && fp[lo] === fp[lo + 1]) y = fp[lo]!;
  }
  return y;
}

export interface SlideOptions {
  lrDiff?: number;
  thresh?: number;
  adjustValue?: number;
}

/**
 * fastai's slide (Andrew Chang's interval slide rule): walking left from the end of
 * the curve, the first point whose loss gradient is within `thresh` of the gradient
 * `lrDiff` points to its right.
 */
export function slideWith(opts: SlideOptions = {}): SuggestFunc {
  const { lrDiff = 15, thresh = 0.005, adjustValue = 1 } = opts;
  const fn: SuggestFunc = (lrsIn, lossesIn) => {
    check('slide', lrsIn, lossesIn, lrDiff + 1);
    const lrs = toF32(lrsIn);
    const losses = toF32(lossesIn);
    const n = losses.length;
    const grad = npGradient(losses);
    // Python negative indices: -1 is the last element.
    let r = -1;
    let l = r - lrDiff;
    let localMinLr = lrs[n + l]!;
    while (l >= -n && Math.abs(f32(grad[n + r]! - grad[n + l]!)) > thresh) {
      localMinLr = lrs[n + l]!;
      r--;
      l--;
    }
    const suggestion = localMinLr * adjustValue;
    const loss = npInterp(Math.log10(suggestion), lrs.map((v) => f32(Math.log10(v))), losses);
    return { lr: suggestion, point: [suggestion, loss] };
  };
  fn.suggestName = 'slide';
  return fn;
}

export const slide: SuggestFunc = slideWith();

export function suggestName(f: SuggestFunc): string {
  return f.suggestName ?? f.name;
}
