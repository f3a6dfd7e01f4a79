/**
 * CPU twin of kernel.ts, in float64: softmax cross-entropy with
 * fastai-style label smoothing, loss_r = (1 − ε)(lse_r − z_{r,y}) + ε(lse_r − mean_c z_{r,c}).
 */
export type ReductionRef = 'mean' | 'sum' | 'none';

export function softmaxCrossEntropyRef(
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  N: number,
  C: number,
  reduction: ReductionRef = 'mean',
  eps = 0,
): { loss: Float64Array; perSample: Float64Array; lse: Float64Array } {
  const perSample = new Float64Array(N);
  const lse = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, z[r * C + c]!);
    let s = 0;
    let sz = 0;
    for (let c = 0; c < C; c++) {
      s += Math.exp(z[r * C + c]! - m);
      sz += z[r * C + c]!;
    }
    const l = m + Math.log(s);
    lse[r] = l;
    const y = labels[r]!;
    // The smoothing term only when ε > 0 (with a −Inf logit it is ε·∞; 0·∞ would be NaN), as the kernel.
    const smooth = eps > 0 ? eps * (l - sz / C) : 0;
    perSample[r] = y < 0 || y >= C ? NaN : (1 - eps) * (l - z[r * C + y]!) + smooth;
  }
  const total = perSample.reduce((a, b) => a + b, 0);
  const loss = reduction === 'none' ? perSample : Float64Array.of(reduction === 'mean' ? total / N : total);
  return { loss, perSample, lse };
}

/** Gradient of the logits for upstream gradient g (a scalar for mean/sum, [N] for none). */
export function softmaxCrossEntropyBackwardRef(
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  N: number,
  C: number,
  g: ArrayLike<number>,
  reduction: ReductionRef = 'mean',
  eps = 0,
): Float64Array {
  const { lse } = softmaxCrossEntropyRef(z, labels, N, C, 'none', eps);
  const dz = new Float64Array(N * C);
  for (let r = 0; r < N; r++) {
    const gr = reduction === 'none' ? g[r]! : reduction === 'mean' ? g[0]! / N : g[0]!;
    for (let c = 0; c < C; c++) {
      const t = (c === labels[r] ? 1 - eps : 0) + eps / C;
      dz[r * C + c] = gr * (Math.exp(z[r * C + c]! - lse[r]!) - t);
    }
  }
  return dz;
}
