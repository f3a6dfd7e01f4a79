/**
 * The augmentation kernel: one dispatch per batch turns the uploaded uint8 NHWC images into the
 * model's float NHWC input. Per output pixel:
 *  1. homography (pixel units) from the output pixel to the source window,
 *  2. padding (reflection / border / zeros) inside the window, as PyTorch's grid_sample with
 *     align_corners=True,
 *  3. bilinear sampling, /255,
 *  4. fastai lighting in logit space when the image has any: sigmoid((logit(x) + logit(b)) * c),
 *  5. normalisation (x - mean) / std.
 *
 * WGSL has no 8-bit storage, so the batch travels as u32 words (4 bytes each, little-endian) and
 * each thread extracts its bytes. The two horizontally adjacent pixels of a bilinear row are 6
 * consecutive bytes, so a row costs 3 word loads: on lavapipe, where every load is split per lane,
 * load count is the cost that matters (see the shared notes).
 *
 * Workgroups: x (and z when huge) walk an image's output pixels, y is the image, so a whole
 * workgroup shares one image's parameters.
 */
import { Tensor, defineKernel, gpu, runKernel, writeBuffer } from '@tessera/tensor';
import { type AugmentBatchParams, type NormalizeSpec, type PadMode, PARAM_FLOATS, packParams, resolveNormalization } from './params.js';

const WG = 64;

/** A uint8 NHWC batch on the GPU, 4 bytes per u32 word (plus 2 spare words for the last reads). */
export interface PackedImages {
  readonly words: Tensor;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
  dispose(): void;
}

/** Uploads a uint8 batch [B, H, W, 3] (NHWC, RGB) with one writeBuffer. */
export function uploadBatch(u8: Uint8Array, shape: readonly number[]): PackedImages {
  if (shape.length !== 4 || shape[3] !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`uploadBatch: shape must be [B, H, W, 3] with positive integers, got [${shape.join(', ')}]`);
  }
  const [batch, height, width] = shape as [number, number, number, number];
  const bytes = batch * height * width * 3;
  if (u8.length !== bytes) throw new RangeError(`uploadBatch: [${shape.join(', ')}] needs ${bytes} bytes, got ${u8.length}`);
  const words = Tensor.empty([Math.ceil(bytes / 4) + 2], 'u32', 'augment-input');
  const whole = bytes - (bytes % 4);
  if (whole > 0) writeBuffer(words.buffer, 0, u8.subarray(0, whole));
  if (whole < bytes) {
    const tail = new Uint8Array(4);
    tail.set(u8.subarray(whole));
    writeBuffer(words.buffer, whole, tail);
  }
  return { words, batch, height, width, dispose: () => words.dispose() };
}

function padWgsl(mode: PadMode): string {
  if (mode === 'zeros') return 'return c;';
  if (mode === 'border') return 'return clamp(c, 0.0, hi);';
  return `if (hi <= 0.0) { return 0.0; }
  let a = abs(c);
  let flips = floor(a / hi);
  let extra = a - flips * hi;
  let even = flips - 2.0 * floor(flips * 0.5) == 0.0;
  return clamp(select(hi - extra, extra, even), 0.0, hi);`;
}

/** The kernel for one padding mode. */
function augmentKernel(mode: PadMode) {
  return defineKernel({
    name: `augment_${mode}`,
    uniforms: { srcW: 'u32', srcH: 'u32', outW: 'u32', pixels: 'u32', groupsX: 'u32', mean: 'vec4<f32>', invStd: 'vec4<f32>' },
    inputs: { src: 'array<u32>', prm: 'array<vec4<f32>>' },
    outputs: { out: 'array<f32>' },
    workgroupSize: WG,
    body: `// augment (pad ${mode})

fn padCoord(c: f32, hi: f32) -> f32 {
  ${padWgsl(mode)}
}

// Bytes s.. of the 8-byte little-endian pair (a, b), s in 0..3. Shifting by 31-8s then 1 avoids
// a shift by 32 when s = 0.
fn funnel(a: u32, b: u32, s: u32) -> u32 {
  let sh = s * 8u;
  return (a >> sh) | ((b << (31u - sh)) << 1u);
}

struct Pair { p0: vec3<f32>, p1: vec3<f32> }

// The two RGB pixels starting at byte offset off.
fn loadPair(off: u32) -> Pair {
  let w = off >> 2u;
  let s = off & 3u;
  let a = src[w];
  let b = src[w + 1u];
  let c = src[w + 2u];
  let lo = funnel(a, b, s);
  let hi = funnel(b, c, s);
  return Pair(
    vec3<f32>(f32(lo & 255u), f32((lo >> 8u) & 255u), f32((lo >> 16u) & 255u)),
    vec3<f32>(f32(lo >> 24u), f32(hi & 255u), f32((hi >> 8u) & 255u)));
}

fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let img = wid.y;
  let p = (wid.z * u.groupsX + wid.x) * WG + lid.x;
  if (p >= u.pixels) { return; }
  let ox = f32(p % u.outW);
  let oy = f32(p / u.outW);
  let q = img * 4u;
  let m0 = prm[q];
  let m1 = prm[q + 1u];
  let m2 = prm[q + 2u];
  let m3 = prm[q + 3u];
  let X = m0.x * ox + m0.y * oy + m0.z;
  let Y = m0.w * ox + m1.x * oy + m1.y;
  var Z = m1.z * ox + m1.w * oy + m2.x;
  if (!(abs(Z) > 1e-12)) { Z = 1.0; }
  let ww = m2.w;
  let wh = m3.x;
  let ix = padCoord(X / Z, ww - 1.0);
  let iy = padCoord(Y / Z, wh - 1.0);
  let xb = clamp(floor(ix), 0.0, max(ww - 2.0, 0.0));
  let yb = clamp(floor(iy), 0.0, max(wh - 2.0, 0.0));
  let wx0 = max(0.0, 1.0 - abs(ix - xb));
  let wx1 = select(0.0, max(0.0, 1.0 - abs(ix - xb - 1.0)), xb + 1.0 < ww);
  let wy0 = max(0.0, 1.0 - abs(iy - yb));
  let wy1 = select(0.0, max(0.0, 1.0 - abs(iy - yb - 1.0)), yb + 1.0 < wh);
  let y1 = select(yb, yb + 1.0, yb + 1.0 < wh);
  let rowBase = img * u.srcH;
  let col = u32(m2.y + xb);
  let off0 = ((rowBase + u32(m2.z + yb)) * u.srcW + col) * 3u;
  let off1 = ((rowBase + u32(m2.z + y1)) * u.srcW + col) * 3u;
  let r0 = loadPair(off0);
  let r1 = loadPair(off1);
  var v = ((r0.p0 * wx0 + r0.p1 * wx1) * wy0 + (r1.p0 * wx0 + r1.p1 * wx1) * wy1) / 255.0;
  if (m3.w != 0.0) {
    let x = clamp(v, vec3<f32>(1e-7), vec3<f32>(1.0 - 1e-7));
    let z = (m3.y - log(1.0 / x - 1.0)) * m3.z;
    v = 1.0 / (1.0 + exp(-z));
  }
  v = (v - u.mean.xyz) * u.invStd.xyz;
  let o = (img * u.pixels + p) * 3u;
  out[o] = v.x;
  out[o + 1u] = v.y;
  out[o + 2u] = v.z;
}
`,
  });
}

export interface AugmentKernelOptions {
  /** Default 'imagenet'. */
  normalize?: NormalizeSpec;
}

/**
 * Augments an uploaded batch with sampled parameters: one dispatch, returns f32 NHWC
 * [B, outHeight, outWidth, 3] (a new tensor, tracked by the enclosing tidy()).
 */
export function augmentBatch(images: PackedImages, params: AugmentBatchParams, opts: AugmentKernelOptions = {}): Tensor {
  const { batch: B, height: H, width: W } = images;
  if (params.images.length !== B || params.srcHeight !== H || params.srcWidth !== W) {
    throw new RangeError(
      `augmentBatch: parameters for ${params.images.length} images of ${params.srcWidth}x${params.srcHeight}, batch is ${B} of ${W}x${H}`,
    );
  }
  const norm = resolveNormalization(opts.normalize);
  const { outHeight: OH, outWidth: OW } = params;
  const pixels = OH * OW;
  const prm = Tensor.empty([B * PARAM_FLOATS], 'f32', 'augment-params');
  writeBuffer(prm.buffer, 0, packParams(params));
  const out = Tensor.empty([B, OH, OW, 3], 'f32', 'augment-output');
  const maxDim = gpu().limits.maxComputeWorkgroupsPerDimension;
  if (B > maxDim) throw new RangeError(`augmentBatch: at most ${maxDim} images per dispatch, got ${B}`);
  const groups = Math.ceil(pixels / WG);
  const gz = Math.ceil(groups / maxDim);
  const gx = Math.ceil(groups / gz);
  const uniforms = { srcW: W, srcH: H, outW: OW, pixels, groupsX: gx, mean: norm.mean, invStd: norm.std.map((s) => 1 / s) };
  runKernel(augmentKernel(params.padMode), { src: images.words.buffer, prm: prm.buffer, out: out.buffer }, uniforms, [gx, B, gz]);
  prm.dispose();
  return out;
}
