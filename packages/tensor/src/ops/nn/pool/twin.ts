/**
 * CPU twin of kernel.ts, in float64: max/avg pooling of NHWC [N, H, W, C]
 * with fixed windows or PyTorch's adaptive bins, and the backwards.
 */
export interface PoolRefGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  kernel?: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  adaptive: boolean;
  countIncludePad?: boolean;
}

/** Output size of a fixed window along one axis (no ceil mode). */
export function poolOutSize(size: number, k: number, s: number, p: number): number {
  return Math.floor((size + 2 * p - k) / s) + 1;
}

/** [start, end) clipped to the input, and the divisor extent, of output o along one axis. */
function win(g: PoolRefGeometry, axis: 0 | 1, o: number): [number, number, number] {
  const size = axis === 0 ? g.H : g.W;
  const out = axis === 0 ? g.OH : g.OW;
  if (g.adaptive) {
    const s = Math.floor((o * size) / out);
    const e = Math.ceil(((o + 1) * size) / out);
    return [s, e, e - s];
  }
  const k = g.kernel![axis];
  const st = g.stride![axis];
  const p = g.padding![axis];
  const s = o * st - p;
  const e = s + k;
  const cs = Math.max(s, 0);
  const ce = Math.min(e, size);
  return [cs, ce, (g.countIncludePad ?? true) ? Math.min(e, size + p) - s : ce - cs];
}

export function pool2dRef(kind: 'max' | 'avg', x: ArrayLike<number>, g: PoolRefGeometry): { y: Float64Array; idx: Int32Array } {
  const { N, H, W, C, OH, OW } = g;
  const y = new Float64Array(N * OH * OW * C);
  const idx = new Int32Array(N * OH * OW * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const [hs, he, hd] = win(g, 0, oh);
        const [ws, we, wd] = win(g, 1, ow);
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let arg = -1;
          let acc = 0;
          for (let ih = hs; ih < he; ih++)
            for (let iw = ws; iw < we; iw++) {
              const v = x[((n * H + ih) * W + iw) * C + c]!;
              acc += v;
              if (v > best || Number.isNaN(v) || arg < 0) {
                best = v;
                arg = ih * W + iw;
              }
            }
          const o = ((n * OH + oh) * OW + ow) * C + c;
          y[o] = kind === 'max' ? best : acc / (hd * wd);
          idx[o] = arg;
        }
      }
  return { y, idx };
}

/** Gradient of the input for upstream gradient gy [N, OH, OW, C]; max routes to idx (from pool2dRef). */
export function pool2dBackwardRef(kind: 'max' | 'avg', gy: ArrayLike<number>, g: PoolRefGeometry, idx?: Int32Array): Float64Array {
  const { N, H, W, C, OH, OW } = g;
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const [hs, he, hd] = win(g, 0, oh);
        const [ws, we, wd] = win(g, 1, ow);
        for (let c = 0; c < C; c++) {
          const o = ((n * OH + oh) * OW + ow) * C + c;
          if (kind === 'max') {
            const a = idx![o]!;
            dx[(n * H * W + a) * C + c]! += gy[o]!;
          } else {
            for (let ih = hs; ih < he; ih++)
              for (let iw = ws; iw < we; iw++) dx[((n * H + ih) * W + iw) * C + c]! += gy[o]! / (hd * wd);
          }
        }
      }
  return dx;
}
