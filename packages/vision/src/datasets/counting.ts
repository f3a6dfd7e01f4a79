/**
 * The counting task of the fastai lesson-1 blog post: each image shows N identical filled circles
 * (one colour, on white, none touching) and the class is N. "1-5" turned out easy for a ResNet,
 * "45-50" close to chance; any range can be generated.
 *
 * Every image is a pure function of (seed, N, item number), so the dataset needs no storage: it can
 * be rendered on demand (in memory, in worker threads, in a browser) or written once as an ImageFolder
 * (`OUT/<N>/<item>.png`, @tessera/vision/node's writeCountingDataset) for tools that want files.
 *
 * Geometry, like the blog's matplotlib scatter plots: the discs stay inside a plot area that leaves
 * `margin` (default 15%) of the side free all round — matplotlib's axes start 12.5% in and pad the
 * data by 5% more — and that free border is what lets training rotate and zoom an image without
 * cutting a disc off (see COUNTING_AUGMENT). The radius defaults to size/16 (4 px at 64 px, a disc
 * 8 px wide), shrunk for large counts so that the largest count covers at most 30% of the plot
 * area (45-50 at 128 px: 3 px); edges stay at least `gap` px (default 2) apart, so discs never
 * merge even after antialiasing. The colour defaults to matplotlib's C0 blue.
 */

import { TesseraVisionError } from '../errors.js';
import type { RgbImage } from '../image.js';
import { mixSeed, mulberry32 } from '../random.js';
import { placeDiscs, type Disc } from '../synth/disc-layout.js';
import { MATPLOTLIB_BLUE, renderDiscs } from '../synth/disc-render.js';
import { fitImage, type SizeLike } from '../target.js';
import { checkIndex, type VisionDataset } from './dataset.js';
import type { DatasetSpec } from './spec.js';

export interface CountingOptions {
  /** Inclusive range of circle counts; one class per count. Default [1, 5]. */
  range?: readonly [number, number];
  /** Images per class. Default 1000. */
  perClass?: number;
  /** Side of the rendered (square) image in pixels. Default 64. */
  size?: number;
  seed?: number;
  /** Circle radius in pixels. Default size / 16, less for large counts (see defaultRadius). */
  radius?: number;
  /** Free border on each side of the image, as a fraction of its side. Default 0.15. */
  margin?: number;
  /** Minimum distance between circle edges in pixels. Default 2. */
  gap?: number;
  colour?: readonly [number, number, number];
}

export type ResolvedCountingOptions = Required<CountingOptions>;

/** Default free border: matplotlib's left axes edge (12.5%) plus most of its 5% data padding. */
export const COUNTING_MARGIN = 0.15;
/** Largest share of the plot area the discs (with half a gap each) may claim by default. */
const MAX_FILL = 0.3;

/**
 * size/16, or less when `count` discs of that radius would claim more than MAX_FILL of the plot
 * area: random placement jams well below the densest packing, and dense plots need small discs.
 */
export function defaultRadius(size: number, count: number, margin = COUNTING_MARGIN, gap = 2): number {
  const plot = size * (1 - 2 * margin);
  const fitting = Math.sqrt((MAX_FILL * (plot + gap) ** 2) / (count * Math.PI)) - gap / 2;
  return Math.max(0.5, Math.min(size / 16, Math.floor(fitting * 4) / 4));
}

export function resolveCountingOptions(options: CountingOptions = {}): ResolvedCountingOptions {
  const range = options.range ?? [1, 5];
  const size = options.size ?? 64;
  const margin = options.margin ?? COUNTING_MARGIN;
  const gap = options.gap ?? 2;
  const resolved = {
    range: [range[0], range[1]] as const,
    perClass: options.perClass ?? 1000,
    size,
    seed: options.seed ?? 0,
    radius: options.radius ?? defaultRadius(size, range[1], margin, gap),
    margin,
    gap,
    colour: options.colour ?? MATPLOTLIB_BLUE,
  };
  if (!(margin >= 0 && margin < 0.5)) throw new TesseraVisionError(`margin must be a fraction in [0, 0.5), got ${margin}`);
  const [lo, hi] = resolved.range;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) {
    throw new TesseraVisionError(`counting range must be integers 1 <= lo <= hi, got [${lo}, ${hi}]`);
  }
  if (!Number.isInteger(resolved.perClass) || resolved.perClass < 1) {
    throw new TesseraVisionError(`perClass must be a positive integer, got ${resolved.perClass}`);
  }
  if (!Number.isInteger(size) || size < 4) throw new TesseraVisionError(`size must be an integer >= 4, got ${size}`);
  if (!(resolved.radius > 0) || !(resolved.gap >= 0)) {
    throw new TesseraVisionError(`radius must be > 0 and gap >= 0, got radius ${resolved.radius}, gap ${resolved.gap}`);
  }
  return resolved;
}

/**
 * Class folder names: the count itself, zero-padded when the range spans digit lengths so that
 * sorted names (how ImageFolder orders classes) stay in numeric order ("08" < "10").
 */
export function countingClassNames([lo, hi]: readonly [number, number]): string[] {
  const width = String(hi).length;
  return Array.from({ length: hi - lo + 1 }, (_, i) => String(lo + i).padStart(width, '0'));
}

export class CountingDataset implements VisionDataset {
  readonly options: ResolvedCountingOptions;
  readonly classes: readonly string[];

  constructor(options: CountingOptions = {}) {
    this.options = resolveCountingOptions(options);
    this.classes = countingClassNames(this.options.range);
    // Fail now, not in epoch 3, if the largest count cannot be laid out at this size.
    placeDiscs(this.layoutOptions(this.options.range[1]), mulberry32(this.options.seed));
  }

  get length(): number {
    return this.classes.length * this.options.perClass;
  }

  label(index: number): number {
    checkIndex(index, this.length);
    return Math.floor(index / this.options.perClass);
  }

  /** Number of circles in item `index`. */
  count(index: number): number {
    return this.options.range[0] + this.label(index);
  }

  /** Circle centres of item `index` (pixel coordinates, y down). */
  discs(index: number): Disc[] {
    const count = this.count(index);
    const item = index % this.options.perClass;
    // Seeded by (seed, count, item), not by the flat index: a dataset with more items per class,
    // or a wider range, contains exactly the same images for the items they share.
    return placeDiscs(this.layoutOptions(count), mulberry32(mixSeed(this.options.seed, count, item)));
  }

  /** Item `index` at its native size. */
  render(index: number): RgbImage {
    const { size, radius, colour } = this.options;
    return renderDiscs(size, this.discs(index), radius, colour);
  }

  async load(index: number, size: SizeLike): Promise<RgbImage> {
    return fitImage(this.render(index), size);
  }

  spec(): DatasetSpec {
    return { kind: 'counting', options: this.options };
  }

  private layoutOptions(count: number) {
    const { size, radius, gap, margin } = this.options;
    return { count, size, radius, gap, margin: margin * size };
  }
}
