/**
 * `renderBatchGrid`: a grid of a (normalised) batch with each image's label above it, like fastai's
 * `dls.show_batch()`, for looking at what the model is actually fed (as a PNG file:
 * @tessera/vision/node's showBatch).
 */
import type { Tensor } from '@tessera/tensor';
import { IMAGENET_STATS } from '../augment/params.js';
import { LINE_HEIGHT, drawText, fitText, textWidth } from './font.js';
import { Raster, type Rgb } from './raster.js';

/** A batch already on the CPU: float NHWC [B, H, W, 3]. */
export interface HostBatch {
  data: Float32Array;
  shape: readonly number[];
}

export interface ShowBatchOptions {
  /** Normalisation to undo: x * std + mean. Defaults to ImageNet's; [0,0,0] / [1,1,1] for none. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Columns; default ceil(sqrt(n)). */
  ncols?: number;
  /** Show at most this many images (default: all). */
  maxN?: number;
  /** Integer text scale; default 1, or 2 when the images are at least 160 px wide. */
  fontScale?: number;
  /** Pixels between cells and around the grid; default 6. */
  gap?: number;
}

export interface BatchGrid {
  image: Raster;
  /** Where each image landed (its top-left pixel and size). */
  cells: { x: number; y: number; width: number; height: number }[];
}

const TEXT: Rgb = [20, 20, 20];

function checkBatch(shape: readonly number[]): [number, number, number] {
  if (shape.length !== 4 || shape[3] !== 3) throw new RangeError(`showBatch: expected an NHWC batch [B, H, W, 3], got [${shape.join(', ')}]`);
  return [shape[0]!, shape[1]!, shape[2]!];
}

/** Lays out and draws the grid (pure; no file). */
export function renderBatchGrid(x: HostBatch, labels: readonly string[], opts: ShowBatchOptions = {}): BatchGrid {
  const [B, H, W] = checkBatch(x.shape);
  if (x.data.length !== B * H * W * 3) throw new RangeError(`showBatch: ${x.data.length} values for shape [${x.shape.join(', ')}]`);
  const mean = opts.mean ?? IMAGENET_STATS.mean;
  const std = opts.std ?? IMAGENET_STATS.std;
  if (mean.length !== 3 || std.length !== 3) throw new RangeError('showBatch: mean and std need 3 values each');
  const n = Math.max(1, Math.min(B, opts.maxN ?? B));
  const ncols = Math.max(1, Math.min(n, Math.floor(opts.ncols ?? Math.ceil(Math.sqrt(n)))));
  const nrows = Math.ceil(n / ncols);
  const fs = Math.max(1, Math.floor(opts.fontScale ?? (W >= 160 ? 2 : 1)));
  const gap = Math.max(0, Math.floor(opts.gap ?? 6));
  const labelH = LINE_HEIGHT * fs + 4;
  const cellH = labelH + H;
  const image = new Raster(ncols * W + (ncols + 1) * gap, nrows * cellH + (nrows + 1) * gap);
  const cells: BatchGrid['cells'] = [];
  const pixels = new Uint8Array(H * W * 3);
  for (let i = 0; i < n; i++) {
    const cx = gap + (i % ncols) * (W + gap);
    const cy = gap + Math.floor(i / ncols) * (cellH + gap);
    const base = i * H * W * 3;
    for (let k = 0; k < H * W * 3; k++) {
      const c = k % 3;
      const v = x.data[base + k]! * std[c]! + mean[c]!;
      pixels[k] = Math.round(Math.min(Math.max(Number.isFinite(v) ? v : 0, 0), 1) * 255);
    }
    const label = fitText(labels[i] ?? '', W, fs);
    drawText(image, label, cx + Math.floor((W - textWidth(label, fs)) / 2), cy + 2, TEXT, fs);
    image.blit(pixels, W, H, cx, cy + labelH);
    cells.push({ x: cx, y: cy + labelH, width: W, height: H });
  }
  return { image, cells };
}

/** A batch on the CPU, read back from the GPU when it is a tensor. */
export async function hostBatch(x: Tensor | HostBatch): Promise<HostBatch> {
  if ('data' in x) return x;
  const arr = await x.toArray();
  return { data: arr instanceof Float32Array ? arr : Float32Array.from(arr), shape: x.shape };
}
