/**
 * CPU twin of the augmentation kernel: the same packed parameters in, the same pixels out (in
 * double precision, so within float rounding of the GPU). Written for clarity, not speed; tests
 * and debugging use it.
 */
import { type AugmentBatchParams, type NormalizeSpec, type PadMode, PARAM_FLOATS, packParams, resolveNormalization } from './params.js';

/** Where a coordinate lands after padding, in pixels of a window whose last pixel is at `hi`. */
export function padCoord(c: number, hi: number, mode: PadMode): number {
  if (mode === 'zeros') return c;
  if (mode === 'border') return Math.min(Math.max(c, 0), hi);
  // PyTorch reflect_coordinates(c, 0, 2*hi) (align_corners=True), then clip.
  if (hi <= 0) return 0;
  const a = Math.abs(c);
  const flips = Math.floor(a / hi);
  const extra = a - flips * hi;
  const r = flips % 2 === 0 ? extra : hi - extra;
  return Math.min(Math.max(r, 0), hi);
}

/** fastai lighting on one value in [0, 1]: sigmoid((logit(x) + bLogit) * c), logit clamped at 1e-7. */
export function lightingValue(v: number, bLogit: number, contrast: number): number {
  const x = Math.min(Math.max(v, 1e-7), 1 - 1e-7);
  const z = (-Math.log(1 / x - 1) + bLogit) * contrast;
  return 1 / (1 + Math.exp(-z));
}

/**
 * Augments a uint8 NHWC batch [B, H, W, 3] into float NHWC [B, outH, outW, 3], exactly as the
 * kernel does (see kernel.ts for the steps).
 */
export function augmentReference(
  u8: Uint8Array,
  shape: readonly [number, number, number, number] | readonly number[],
  params: AugmentBatchParams,
  opts: { normalize?: NormalizeSpec } = {},
): Float32Array {
  const [B, H, W, C] = shape as [number, number, number, number];
  if (C !== 3 || u8.length !== B * H * W * 3) throw new RangeError(`augmentReference: expected [B, H, W, 3] bytes, got ${shape.join('x')} for ${u8.length}`);
  if (params.images.length !== B || params.srcHeight !== H || params.srcWidth !== W) {
    throw new RangeError('augmentReference: parameters were sampled for another batch shape');
  }
  const norm = resolveNormalization(opts.normalize);
  const prm = packParams(params);
  const { outHeight: OH, outWidth: OW, padMode } = params;
  const out = new Float32Array(B * OH * OW * 3);
  const px = (b: number, x: number, y: number, c: number): number => u8[((b * H + y) * W + x) * 3 + c]!;
  for (let b = 0; b < B; b++) {
    const p = prm.subarray(b * PARAM_FLOATS, (b + 1) * PARAM_FLOATS);
    const [wx, wy, ww, wh, bLogit, contrast, light] = [p[9]!, p[10]!, p[11]!, p[12]!, p[13]!, p[14]!, p[15]!];
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const X = p[0]! * ox + p[1]! * oy + p[2]!;
        const Y = p[3]! * ox + p[4]! * oy + p[5]!;
        let Z = p[6]! * ox + p[7]! * oy + p[8]!;
        if (!(Math.abs(Z) > 1e-12)) Z = 1;
        const ix = padCoord(X / Z, ww - 1, padMode);
        const iy = padCoord(Y / Z, wh - 1, padMode);
        // Bilinear as tent weights over the pixel pair (xb, xb+1) x (yb, yb+1) inside the window.
        const xb = Math.min(Math.max(Math.floor(ix), 0), Math.max(ww - 2, 0));
        const yb = Math.min(Math.max(Math.floor(iy), 0), Math.max(wh - 2, 0));
        const wx0 = Math.max(0, 1 - Math.abs(ix - xb));
        const wx1 = xb + 1 < ww ? Math.max(0, 1 - Math.abs(ix - xb - 1)) : 0;
        const wy0 = Math.max(0, 1 - Math.abs(iy - yb));
        const wy1 = yb + 1 < wh ? Math.max(0, 1 - Math.abs(iy - yb - 1)) : 0;
        const o = ((b * OH + oy) * OW + ox) * 3;
        for (let c = 0; c < 3; c++) {
          let v = 0;
          const sample = (dx: number, dy: number, w: number): void => {
            if (w !== 0) v += w * px(b, wx + xb + dx, wy + yb + dy, c);
          };
          sample(0, 0, wx0 * wy0);
          sample(1, 0, wx1 * wy0);
          sample(0, 1, wx0 * wy1);
          sample(1, 1, wx1 * wy1);
          v /= 255;
          if (light !== 0) v = lightingValue(v, bLogit, contrast);
          out[o + c] = (v - norm.mean[c]!) / norm.std[c]!;
        }
      }
    }
  }
  return out;
}
