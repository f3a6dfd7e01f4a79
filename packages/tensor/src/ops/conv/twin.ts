/** CPU twin of the convolutions (NHWC activations, OHWI weights), in float64. */
import { type CpuTensor, cpuTensor, denseData } from '../../reference/cpu-tensor.js';
import type { Conv2dOptions } from './op.js';

export interface ConvAttrs {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

export interface ConvShapes {
  N: number; H: number; W: number; C: number; O: number; KH: number; KW: number; OH: number; OW: number;
}

export function convShapes(xShape: readonly number[], wShape: readonly number[], a: ConvAttrs): ConvShapes {
  const [N, H, W, C] = xShape as [number, number, number, number];
  const [O, KH, KW] = wShape as [number, number, number, number];
  const OH = Math.floor((H + 2 * a.padding[0] - a.dilation[0] * (KH - 1) - 1) / a.stride[0]) + 1;
  const OW = Math.floor((W + 2 * a.padding[1] - a.dilation[1] * (KW - 1) - 1) / a.stride[1]) + 1;
  return { N, H, W, C, O, KH, KW, OH, OW };
}

/** Calls f(outIndex, xIndex, wIndex) for every multiply-add of the convolution. */
function eachTap(s: ConvShapes, a: ConvAttrs, f: (oi: number, xi: number, wi: number) => void): void {
  const cg = s.C / a.groups;
  const og = s.O / a.groups;
  for (let n = 0; n < s.N; n++)
    for (let oh = 0; oh < s.OH; oh++)
      for (let ow = 0; ow < s.OW; ow++)
        for (let o = 0; o < s.O; o++) {
          const g = Math.floor(o / og);
          const oi = ((n * s.OH + oh) * s.OW + ow) * s.O + o;
          for (let kh = 0; kh < s.KH; kh++) {
            const ih = oh * a.stride[0] - a.padding[0] + kh * a.dilation[0];
            if (ih < 0 || ih >= s.H) continue;
            for (let kw = 0; kw < s.KW; kw++) {
              const iw = ow * a.stride[1] - a.padding[1] + kw * a.dilation[1];
              if (iw < 0 || iw >= s.W) continue;
              for (let c = 0; c < cg; c++) {
                const xi = ((n * s.H + ih) * s.W + iw) * s.C + g * cg + c;
                const wi = ((o * s.KH + kh) * s.KW + kw) * cg + c;
                f(oi, xi, wi);
              }
            }
          }
        }
}

export function conv2dRef(x: ArrayLike<number>, xShape: readonly number[], w: ArrayLike<number>, wShape: readonly number[], b: ArrayLike<number> | null, a: ConvAttrs): Float64Array {
  const s = convShapes(xShape, wShape, a);
  const out = new Float64Array(s.N * s.OH * s.OW * s.O);
  if (b) for (let i = 0; i < out.length; i++) out[i] = b[i % s.O]!;
  eachTap(s, a, (oi, xi, wi) => (out[oi] += x[xi]! * w[wi]!));
  return out;
}

/** Gradients of sum(out * dy) with respect to x, w and the bias. */
export function conv2dBackwardRef(
  x: Float32Array, xShape: number[], w: Float32Array, wShape: number[], dy: Float32Array, a: ConvAttrs,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const s = convShapes(xShape, wShape, a);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(s.O);
  for (let i = 0; i < dy.length; i++) db[i % s.O] += dy[i]!;
  eachTap(s, a, (oi, xi, wi) => {
    dx[xi] += dy[oi]! * w[wi]!;
    dw[wi] += dy[oi]! * x[xi]!;
  });
  return { dx, dw, db };
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

/**
 * conv2d on CPU tensors, with the GPU function's arguments: the twin in the test OpSet,
 * so `gradCheck` takes expressions with convolutions. f64 inputs give f64 (gradient
 * checks), f32 inputs an f32 result.
 */
export function conv2d(x: CpuTensor, w: CpuTensor, bias: CpuTensor | null = null, opts: Conv2dOptions = {}): CpuTensor {
  const a: ConvAttrs = { stride: pair(opts.stride, 1), padding: pair(opts.padding, 0), dilation: pair(opts.dilation, 1), groups: opts.groups ?? 1 };
  const s = convShapes(x.shape, w.shape, a);
  const y = conv2dRef(denseData(x), x.shape, denseData(w), w.shape, bias ? denseData(bias) : null, a);
  return cpuTensor(y, [s.N, s.OH, s.OW, s.O], x.dtype === 'f64' ? 'f64' : 'f32');
}
