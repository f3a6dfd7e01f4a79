/**
 * Per-image augmentation parameters, sampled on the CPU from a seed, the way fastai's
 * `aug_transforms` + `RandomResizedCropGPU` (or `Resize`) + `Normalize` draw them, then folded
 * into what the one GPU kernel needs: a homography and a source window per image, and two
 * lighting numbers.
 *
 * What fastai does to a training batch (vision/augment.py), in pipeline order:
 *  1. `AffineCoordTfm` (order 30): aff_m = I @ flip @ rotate @ zoom, then `_prepare_mat`
 *     (mat[0,1] *= h/w, mat[1,0] *= w/h, h and w being the input's size); the sampling grid is
 *     `affine_grid(mat)` (align_corners=True), then the `Warp` coordinate transform applies the
 *     perspective P (find_coeffs(orig, targ)) to the grid: source = P(M(q)). Bilinear
 *     `grid_sample` with reflection padding.
 *  2. `RandomResizedCropGPU` (order 30, after the affine step in the stable sort): a crop of the
 *     affine output, resized with `affine_coord(sz=size)` (align_corners=True).
 *  3. Lighting (order 40, training only): sigmoid((logit(x) + logit(b)) * c).
 *  4. `Normalize` (order 99).
 * Steps 1-2 compose exactly into one homography H = P · M · C (C maps output coords into the crop),
 * so the kernel resamples once instead of twice. Reflection padding stays at the input's edges,
 * as in step 1. Not reproduced: the extra blur of resampling twice, and `_grid_sample`'s "area"
 * pre-shrink when the input is over twice the output size (only triggered there by near-full
 * crops of inputs larger than 2x the output).
 *
 * With `crop: 'resize'` the crop is fastai's `Resize` (ResizeMethod.Crop) item transform, which
 * runs before the affine step: the crop rectangle becomes the source window (padding reflects at
 * the crop's edges, as it does in fastai, where the crop is the whole image by then), H = P · M
 * with the aspect correction of the output size. fastai resizes that crop with PIL (pixel-centre
 * mapping, antialiased); here it is mapped corner-to-corner (align_corners=True) like the GPU crop.
 * With `crop: 'squish'` (aug_transforms' own default, min_scale=1) the whole input maps onto the
 * output: H = P · M.
 *
 * Coordinates: "normalised" means [-1, 1] from the first to the last pixel centre
 * (align_corners=True), x along the width first.
 */
import { type Prng, bernoulli, createPrng, mixSeeds, randint, uniform } from './prng.js';

export type PadMode = 'reflection' | 'zeros' | 'border';
export type CropMode = 'randomResized' | 'resize' | 'squish';

/** fastai's `aug_transforms` / `RandomResizedCropGPU` arguments, camel-cased. */
export interface AugmentOptions {
  /** Multiplies maxRotate, maxLighting and maxWarp (fastai `mult`). */
  mult: number;
  /** Horizontal flip with probability 0.5. */
  doFlip: boolean;
  /** With doFlip: any of the 8 dihedral transforms instead (fastai `Dihedral(p=0.5)`). */
  flipVert: boolean;
  /** Degrees; rotation uniform in ±maxRotate, applied with probability pAffine. */
  maxRotate: number;
  minZoom: number;
  maxZoom: number;
  /** Brightness and contrast strength; each applied with probability pLighting. */
  maxLighting: number;
  /** Perspective warp magnitude; each axis applied with probability pAffine. */
  maxWarp: number;
  pAffine: number;
  pLighting: number;
  /** How the output window is cut from the input (see the file comment). */
  crop: CropMode;
  /** randomResized: area fraction range of the crop. */
  minScale: number;
  maxScale: number;
  /** randomResized: width/height range of the crop (fastai samples it log-uniformly). */
  ratio: readonly [number, number];
  /** randomResized, validation: scale of the centre crop. */
  validScale: number;
  padMode: PadMode;
  mode: 'bilinear';
}

/**
 * Defaults: fastai `aug_transforms()` plus `RandomResizedCrop`'s crop defaults. fastai lesson 1
 * (`aug_transforms(size=224, min_scale=0.75)`) is `{ minScale: 0.75, ratio: [1, 1] }`.
 */
export const AUGMENT_DEFAULTS: Readonly<AugmentOptions> = Object.freeze({
  mult: 1,
  doFlip: true,
  flipVert: false,
  maxRotate: 10,
  minZoom: 1,
  maxZoom: 1.1,
  maxLighting: 0.2,
  maxWarp: 0.2,
  pAffine: 0.75,
  pLighting: 0.75,
  crop: 'randomResized',
  minScale: 0.08,
  maxScale: 1,
  ratio: Object.freeze([3 / 4, 4 / 3]) as readonly [number, number],
  validScale: 1,
  padMode: 'reflection',
  mode: 'bilinear',
});

/** Defaults merged with overrides, validated. */
export function augmentOptions(overrides: Partial<AugmentOptions> = {}): AugmentOptions {
  const o: AugmentOptions = { ...AUGMENT_DEFAULTS, ...overrides };
  const bad = (msg: string): never => {
    throw new RangeError(`augment options: ${msg}`);
  };
  const prob = (name: keyof AugmentOptions): void => {
    const v = o[name] as number;
    if (!(v >= 0 && v <= 1)) bad(`${name} must be a probability in [0, 1], got ${v}`);
  };
  prob('pAffine');
  prob('pLighting');
  if (!(o.mult >= 0)) bad(`mult must be >= 0, got ${o.mult}`);
  if (!(o.maxRotate >= 0)) bad(`maxRotate must be >= 0, got ${o.maxRotate}`);
  if (!(o.minZoom > 0 && o.minZoom <= o.maxZoom)) bad(`need 0 < minZoom <= maxZoom, got ${o.minZoom}..${o.maxZoom}`);
  if (!(o.maxLighting >= 0 && o.maxLighting * o.mult < 1)) bad(`maxLighting * mult must be in [0, 1), got ${o.maxLighting * o.mult}`);
  if (!(o.maxWarp >= 0)) bad(`maxWarp must be >= 0, got ${o.maxWarp}`);
  if (!(o.minScale > 0 && o.minScale <= o.maxScale && o.maxScale <= 1)) {
    bad(`need 0 < minScale <= maxScale <= 1, got ${o.minScale}..${o.maxScale}`);
  }
  if (!(o.ratio.length === 2 && o.ratio[0] > 0 && o.ratio[0] <= o.ratio[1])) bad(`ratio must be [lo, hi] with 0 < lo <= hi`);
  if (!(o.validScale > 0 && o.validScale <= 1)) bad(`validScale must be in (0, 1], got ${o.validScale}`);
  if (!['randomResized', 'resize', 'squish'].includes(o.crop)) bad(`unknown crop mode ${String(o.crop)}`);
  if (!['reflection', 'zeros', 'border'].includes(o.padMode)) bad(`unknown padMode ${String(o.padMode)}`);
  if (o.mode !== 'bilinear') bad(`only mode 'bilinear' is implemented, got ${String(o.mode)}`);
  return o;
}

export interface ImageSize {
  height: number;
  width: number;
}

/** A pixel rectangle: x, y of the top-left pixel, and its size. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The random draws behind one image's parameters (neutral values when not applied). */
export interface AugmentDraws {
  /** The crop in source pixels (randomResized, resize); the whole image for squish. */
  crop: Rect;
  /** Dihedral index 0..7 (0 = none, 1 = horizontal flip, see fastai `dihedral_mat`). */
  dihedral: number;
  rotateDeg: number;
  /** Zoom factor (>= 1 zooms in) and its centre as fractions of the width/height. */
  zoom: number;
  zoomCol: number;
  zoomRow: number;
  /** fastai `_WarpCoord` x_t, y_t. */
  warpX: number;
  warpY: number;
  /** Brightness draw in (0, 1); 0.5 is neutral. */
  brightness: number;
  /** Contrast factor; 1 is neutral. */
  contrast: number;
}

export interface ImageAugment {
  /**
   * Row-major 3x3 homography from output normalised coords (x, y, 1) to source-window normalised
   * coords (divide by the third component).
   */
  matrix: number[];
  /** The part of the image slot treated as "the image": sampling and padding happen inside it. */
  window: Rect;
  /** Added to the logits: logit(brightness). */
  brightnessLogit: number;
  /** Multiplies the logits. */
  contrast: number;
  draws: AugmentDraws;
}

export interface AugmentBatchParams {
  /** Size of every image slot in the uploaded batch. */
  srcHeight: number;
  srcWidth: number;
  outHeight: number;
  outWidth: number;
  padMode: PadMode;
  images: ImageAugment[];
}

export interface SampleAugmentArgs {
  batchSize: number;
  /** Image slot size of the uploaded batch [B, height, width, 3]. */
  height: number;
  width: number;
  /**
   * Optional true size of each image when smaller than the slot (anchored top-left), e.g.
   * variable-size images packed into one upload. Defaults to the slot size.
   */
  imageSizes?: readonly ImageSize[];
  /** Output size: S (square) or [height, width]. */
  size: number | readonly [number, number];
  /** Training draws random parameters; validation uses the deterministic crop and no augmentation. */
  train: boolean;
  seed: number;
  options?: Partial<AugmentOptions>;
}

// ---------------------------------------------------------------------------------------------
// Small exact helpers mirroring Python semantics.

/** Python 3 round(): halves go to the even neighbour. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x - Math.trunc(x)) === 0.5) return 2 * Math.round(x / 2);
  return r;
}

/** fastai's logit: clamps to [1e-7, 1-1e-7] first. */
export function logit(x: number): number {
  const c = Math.min(Math.max(x, 1e-7), 1 - 1e-7);
  return 0 - Math.log(1 / c - 1); // 0 - x turns logit(0.5) = -0 into 0
}

type Mat3 = number[];

const IDENTITY: readonly number[] = Object.freeze([1, 0, 0, 0, 1, 0, 0, 0, 1]);

export function matMul3(a: readonly number[], b: readonly number[]): Mat3 {
  const r = new Array<number>(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      r[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
    }
  }
  return r;
}

/** Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting. */
function solve(a: number[], b: number[], n: number): number[] {
  const m = a.slice();
  const x = b.slice();
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[piv * n + col]!)) piv = r;
    if (Math.abs(m[piv * n + col]!) < 1e-12) throw new RangeError('find_coeffs: singular system (degenerate warp)');
    if (piv !== col) {
      for (let k = 0; k < n; k++) [m[col * n + k], m[piv * n + k]] = [m[piv * n + k]!, m[col * n + k]!];
      [x[col], x[piv]] = [x[piv]!, x[col]!];
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col]! / m[col * n + col]!;
      if (f === 0) continue;
      for (let k = col; k < n; k++) m[r * n + k]! -= f * m[col * n + k]!;
      x[r]! -= f * x[col]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let k = r + 1; k < n; k++) s -= m[r * n + k]! * x[k]!;
    x[r] = s / m[r * n + r]!;
  }
  return x;
}

/**
 * fastai `find_coeffs(p1, p2)`: the 8 coefficients of the homography mapping the points p2 onto
 * p1 (as a row-major 3x3 with a 1 in the corner).
 */
export function findCoeffs(p1: readonly (readonly [number, number])[], p2: readonly (readonly [number, number])[]): Mat3 {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < p1.length; i++) {
    const [x1, y1] = p1[i]!;
    const [x2, y2] = p2[i]!;
    a.push(x2, y2, 1, 0, 0, 0, -x1 * x2, -x1 * y2);
    a.push(0, 0, 0, x2, y2, 1, -y1 * x2, -y1 * y2);
    b.push(x1, y1);
  }
  return [...solve(a, b, 8), 1];
}

/** The warp's perspective matrix (fastai `_WarpCoord` with its draws x_t, y_t, for images). */
export function warpMatrix(warpX: number, warpY: number): Mat3 {
  if (warpX === 0 && warpY === 0) return [...IDENTITY];
  const orig: [number, number][] = [
    [-1, -1],
    [-1, 1],
    [1, -1],
    [1, 1],
  ];
  const x = warpX;
  const y = warpY;
  const targ: [number, number][] = [
    [-1 - y, -1 - x],
    [-1 + y, 1 + x],
    [1 + y, -1 + x],
    [1 - y, 1 - x],
  ];
  return findCoeffs(orig, targ);
}

const DIHEDRAL_XS = [1, -1, 1, -1, -1, 1, 1, -1];
const DIHEDRAL_YS = [1, 1, -1, 1, -1, -1, 1, -1];
const DIHEDRAL_M0 = [1, 1, 1, 0, 1, 0, 0, 0];
const DIHEDRAL_M1 = [0, 0, 0, 1, 0, 1, 1, 1];

/** fastai `dihedral_mat` for index k (k = 1 is `flip_mat`'s horizontal flip). */
export function dihedralMatrix(k: number): Mat3 {
  const xs = DIHEDRAL_XS[k]!;
  const ys = DIHEDRAL_YS[k]!;
  const m0 = DIHEDRAL_M0[k]!;
  const m1 = DIHEDRAL_M1[k]!;
  return [xs * m0, xs * m1, 0, ys * m1, ys * m0, 0, 0, 0, 1];
}

/** fastai `rotate_mat`. */
export function rotateMatrix(deg: number): Mat3 {
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  return [c, s, 0, -s, c, 0, 0, 0, 1];
}

/** fastai `zoom_mat`: s = 1/zoom, centre moved by (1-s)(2*pct-1). */
export function zoomMatrix(zoom: number, col: number, row: number): Mat3 {
  const s = 1 / zoom;
  return [s, 0, (1 - s) * (2 * col - 1), 0, s, (1 - s) * (2 * row - 1), 0, 0, 1];
}

/** Maps output normalised coords onto the normalised coords of `crop` within an image of `size`. */
function cropMatrix(crop: Rect, size: ImageSize): Mat3 {
  const axis = (start: number, len: number, full: number): [number, number] =>
    full > 1 ? [(len - 1) / (full - 1), (2 * start + len - 1) / (full - 1) - 1] : [0, 0];
  const [ax, bx] = axis(crop.x, crop.width, size.width);
  const [ay, by] = axis(crop.y, crop.height, size.height);
  return [ax, 0, bx, 0, ay, by, 0, 0, 1];
}

// ---------------------------------------------------------------------------------------------
// Crops.

/** RandomResizedCropGPU's fallback / validation crop: centred, aspect clamped to `ratio`, scaled. */
export function centreRatioCrop(size: ImageSize, ratio: readonly [number, number], scale = 1): Rect {
  const { width: w, height: h } = size;
  let ch: number;
  let cw: number;
  if (w / h < ratio[0]) [ch, cw] = [Math.trunc(w / ratio[0]), w];
  else if (w / h > ratio[1]) [ch, cw] = [h, Math.trunc(h * ratio[1])];
  else [ch, cw] = [h, w];
  ch = Math.max(1, Math.trunc(ch * scale));
  cw = Math.max(1, Math.trunc(cw * scale));
  return { x: Math.floor((w - cw) / 2), y: Math.floor((h - ch) / 2), width: cw, height: ch };
}

/** RandomResizedCrop's training draw: 10 attempts, then the centre crop. */
export function randomResizedCrop(rng: Prng, size: ImageSize, o: Pick<AugmentOptions, 'minScale' | 'maxScale' | 'ratio'>): Rect {
  const { width: w, height: h } = size;
  const lr0 = Math.log(o.ratio[0]);
  const lr1 = Math.log(o.ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = uniform(rng, o.minScale, o.maxScale) * w * h;
    const ratio = Math.exp(uniform(rng, lr0, lr1));
    const nw = pyRound(Math.sqrt(area * ratio));
    const nh = pyRound(Math.sqrt(area / ratio));
    if (nw <= w && nh <= h && nw >= 1 && nh >= 1) {
      const y = randint(rng, 0, h - nh);
      const x = randint(rng, 0, w - nw);
      return { x, y, width: nw, height: nh };
    }
  }
  return centreRatioCrop(size, o.ratio, 1);
}

/** fastai `Resize` with ResizeMethod.Crop: the largest crop of the output's aspect, at (pctX, pctY). */
export function resizeCrop(size: ImageSize, outW: number, outH: number, pctX: number, pctY: number): Rect {
  const { width: w, height: h } = size;
  const m = w / outW < h / outH ? w / outW : h / outH;
  const cw = Math.max(1, Math.min(w, Math.trunc(m * outW)));
  const ch = Math.max(1, Math.min(h, Math.trunc(m * outH)));
  return { x: Math.trunc(pctX * (w - cw)), y: Math.trunc(pctY * (h - ch)), width: cw, height: ch };
}

// ---------------------------------------------------------------------------------------------
// Draws -> parameters.

/** Draws that change nothing, with the given crop (the whole image by default). */
export function neutralDraws(size: ImageSize, crop?: Rect): AugmentDraws {
  return {
    crop: crop ?? { x: 0, y: 0, width: size.width, height: size.height },
    dihedral: 0,
    rotateDeg: 0,
    zoom: 1,
    zoomCol: 0.5,
    zoomRow: 0.5,
    warpX: 0,
    warpY: 0,
    brightness: 0.5,
    contrast: 1,
  };
}

/** Folds one image's draws into its homography, window and lighting numbers. */
export function imageParams(draws: AugmentDraws, size: ImageSize, out: ImageSize, crop: CropMode): ImageAugment {
  const whole: Rect = { x: 0, y: 0, width: size.width, height: size.height };
  const window = crop === 'resize' ? { ...draws.crop } : whole;
  // _prepare_mat uses the size of the image the affine step runs on.
  const aspect = crop === 'resize' ? out : size;
  const m = matMul3(matMul3(dihedralMatrix(draws.dihedral), rotateMatrix(draws.rotateDeg)), zoomMatrix(draws.zoom, draws.zoomCol, draws.zoomRow));
  m[1]! *= aspect.height / aspect.width;
  m[3]! *= aspect.width / aspect.height;
  let h = matMul3(warpMatrix(draws.warpX, draws.warpY), m);
  if (crop === 'randomResized') h = matMul3(h, cropMatrix(draws.crop, size));
  return {
    matrix: h,
    window,
    brightnessLogit: logit(draws.brightness),
    contrast: draws.contrast,
    draws,
  };
}

function outSize(size: number | readonly [number, number]): ImageSize {
  const [height, width] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`augment: output size must be positive integers, got ${String(size)}`);
  }
  return { height, width };
}

/** Samples one image's draws (training) in a fixed order from its own stream. */
function sampleDraws(rng: Prng, size: ImageSize, out: ImageSize, o: AugmentOptions): AugmentDraws {
  const d = neutralDraws(size);
  if (o.crop === 'randomResized') d.crop = randomResizedCrop(rng, size, o);
  else if (o.crop === 'resize') {
    const px = rng.next();
    const py = rng.next();
    d.crop = resizeCrop(size, out.width, out.height, px, py);
  }
  if (o.doFlip) {
    if (o.flipVert) {
      const k = randint(rng, 0, 7);
      d.dihedral = bernoulli(rng, 0.5) ? k : 0;
    } else {
      d.dihedral = bernoulli(rng, 0.5) ? 1 : 0;
    }
  }
  const maxRotate = o.maxRotate * o.mult;
  const maxLighting = o.maxLighting * o.mult;
  const maxWarp = o.maxWarp * o.mult;
  if (maxRotate > 0) {
    const deg = uniform(rng, -maxRotate, maxRotate);
    d.rotateDeg = bernoulli(rng, o.pAffine) ? deg : 0;
  }
  if (o.minZoom < 1 || o.maxZoom > 1) {
    const z = uniform(rng, o.minZoom, o.maxZoom);
    d.zoom = bernoulli(rng, o.pAffine) ? z : 1;
    d.zoomCol = rng.next();
    d.zoomRow = rng.next();
  }
  if (maxWarp > 0) {
    const x = uniform(rng, -maxWarp, maxWarp);
    d.warpX = bernoulli(rng, o.pAffine) ? x : 0;
    const y = uniform(rng, -maxWarp, maxWarp);
    d.warpY = bernoulli(rng, o.pAffine) ? y : 0;
  }
  if (maxLighting > 0) {
    const b = uniform(rng, 0.5 * (1 - maxLighting), 0.5 * (1 + maxLighting));
    d.brightness = bernoulli(rng, o.pLighting) ? b : 0.5;
    const c = Math.exp(uniform(rng, Math.log(1 - maxLighting), -Math.log(1 - maxLighting)));
    d.contrast = bernoulli(rng, o.pLighting) ? c : 1;
  }
  return d;
}

/** Validation: the deterministic crop only. */
function validationDraws(size: ImageSize, out: ImageSize, o: AugmentOptions): AugmentDraws {
  if (o.crop === 'randomResized') return neutralDraws(size, centreRatioCrop(size, o.ratio, o.validScale));
  if (o.crop === 'resize') return neutralDraws(size, resizeCrop(size, out.width, out.height, 0.5, 0.5));
  return neutralDraws(size);
}

/**
 * Samples the parameters of a batch: deterministic in (seed, image index), so the same seed gives
 * the same parameters whatever the machine, and image i's parameters do not depend on the others.
 */
export function sampleAugmentParams(args: SampleAugmentArgs): AugmentBatchParams {
  const o = augmentOptions(args.options);
  const out = outSize(args.size);
  const { batchSize, height, width } = args;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`augment: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`augment: image size must be positive integers, got ${width}x${height}`);
  }
  if (args.imageSizes && args.imageSizes.length !== batchSize) {
    throw new RangeError(`augment: ${args.imageSizes.length} image sizes for a batch of ${batchSize}`);
  }
  const images: ImageAugment[] = [];
  for (let i = 0; i < batchSize; i++) {
    const size = args.imageSizes?.[i] ?? { height, width };
    if (!Number.isInteger(size.height) || !Number.isInteger(size.width) || size.height < 1 || size.width < 1 || size.height > height || size.width > width) {
      throw new RangeError(`augment: image ${i} size ${size.width}x${size.height} does not fit the ${width}x${height} slot`);
    }
    const draws = args.train ? sampleDraws(createPrng(mixSeeds(args.seed, i)), size, out, o) : validationDraws(size, out, o);
    images.push(imageParams(draws, size, out, o.crop));
  }
  return { srcHeight: height, srcWidth: width, outHeight: out.height, outWidth: out.width, padMode: o.padMode, images };
}

/** Parameters that sample every image unchanged onto an output of the same size (for tests). */
export function identityParams(batchSize: number, height: number, width: number, padMode: PadMode = 'reflection'): AugmentBatchParams {
  const size = { height, width };
  const images = Array.from({ length: batchSize }, () => imageParams(neutralDraws(size), size, size, 'squish'));
  return { srcHeight: height, srcWidth: width, outHeight: height, outWidth: width, padMode, images };
}

// ---------------------------------------------------------------------------------------------
// What the kernel reads.

/** Per-channel normalisation applied last: (x - mean) / std. */
export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export const IMAGENET_STATS: Readonly<Normalization> = Object.freeze({
  mean: Object.freeze([0.485, 0.456, 0.406]) as readonly [number, number, number],
  std: Object.freeze([0.229, 0.224, 0.225]) as readonly [number, number, number],
});

/** 'imagenet' (default), 'none' (values in [0, 1], as Tiny Darknet wants) or explicit stats. */
export type NormalizeSpec = 'imagenet' | 'none' | Normalization;

export function resolveNormalization(spec: NormalizeSpec | undefined): Normalization {
  if (spec === undefined || spec === 'imagenet') return IMAGENET_STATS;
  if (spec === 'none') return { mean: [0, 0, 0], std: [1, 1, 1] };
  if (spec.mean.length !== 3 || spec.std.length !== 3 || spec.std.some((s) => !(s > 0))) {
    throw new RangeError('normalize: mean and std need 3 values each, std > 0');
  }
  return spec;
}

/**
 * The homography in pixel units: output pixel (x, y, 1) -> window pixel coords (pixel centres at
 * integers, 0..width-1). Integer-exact for identity and flips once rounded to f32.
 */
export function pixelMatrix(img: ImageAugment, outHeight: number, outWidth: number): number[] {
  const nx = outWidth > 1 ? 2 / (outWidth - 1) : 0;
  const ny = outHeight > 1 ? 2 / (outHeight - 1) : 0;
  const toNorm = [nx, 0, outWidth > 1 ? -1 : 0, 0, ny, outHeight > 1 ? -1 : 0, 0, 0, 1];
  const hw = (img.window.width - 1) / 2;
  const hh = (img.window.height - 1) / 2;
  const toPixels = [hw, 0, hw, 0, hh, hh, 0, 0, 1];
  return matMul3(matMul3(toPixels, img.matrix), toNorm);
}

/** Floats per image in the packed parameter buffer. */
export const PARAM_FLOATS = 16;

/**
 * Per image: pixel homography h0..h8, window x, y, width, height, brightness logit, contrast,
 * lighting flag (0 when neutral: the kernel then skips logit/sigmoid and returns x exactly).
 */
export function packParams(p: AugmentBatchParams): Float32Array {
  const out = new Float32Array(p.images.length * PARAM_FLOATS);
  p.images.forEach((img, i) => {
    const o = i * PARAM_FLOATS;
    const h = pixelMatrix(img, p.outHeight, p.outWidth);
    for (let k = 0; k < 9; k++) out[o + k] = h[k]!;
    const w = img.window;
    if (w.x < 0 || w.y < 0 || w.width < 1 || w.height < 1 || w.x + w.width > p.srcWidth || w.y + w.height > p.srcHeight) {
      throw new RangeError(`augment: image ${i}'s window ${w.width}x${w.height}+${w.x}+${w.y} is outside the ${p.srcWidth}x${p.srcHeight} slot`);
    }
    out[o + 9] = w.x;
    out[o + 10] = w.y;
    out[o + 11] = w.width;
    out[o + 12] = w.height;
    out[o + 13] = img.brightnessLogit;
    out[o + 14] = img.contrast;
    out[o + 15] = img.brightnessLogit !== 0 || img.contrast !== 1 ? 1 : 0;
  });
  return out;
}
