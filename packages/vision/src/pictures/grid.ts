/**
 * `renderBatchGrid`: a grid of a (normalised) batch with each image's label above it, like fastai's
 * `dls.show_batch()`, for looking at what the model is actually fed. An SVG document: the images
 * embedded as PNGs (drawn pixel for pixel), the labels as text (a PNG file:
 * @tessera/vision/node's showBatch).
 */
import type { Tensor } from '@tessera/tensor';
import { IMAGENET_STATS } from '../augment/params.js';
import { encodePng } from '../encode/png.js';
import { base64 } from '../util/bytes.js';
import { image, svgDocument, text, type Rgb } from './svg.js';
import { fitText } from './text.js';

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
  /** Label size in px; default 12, or 16 when the images are at least 160 px wide. */
  fontSize?: number;
  /** Pixels between cells and around the grid; default 6. */
  gap?: number;
}

export interface BatchGrid {
  /** The grid as an SVG document of `width` x `height` px. */
  svg: string;
  width: number;
  height: number;
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
  const size = Math.max(6, opts.fontSize ?? (W >= 160 ? 16 : 12));
  const gap = Math.max(0, Math.floor(opts.gap ?? 6));
  const labelH = Math.ceil(size * 1.5);
  const cellH = labelH + H;
  const width = ncols * W + (ncols + 1) * gap;
  const height = nrows * cellH + (nrows + 1) * gap;
  const body: string[] = [];
  const cells: BatchGrid['cells'] = [];
  for (let i = 0; i < n; i++) {
    const cx = gap + (i % ncols) * (W + gap);
    const cy = gap + Math.floor(i / ncols) * (cellH + gap);
    const base = i * H * W * 3;
    const pixels = new Uint8Array(H * W * 3);
    for (let k = 0; k < H * W * 3; k++) {
      const c = k % 3;
      const v = x.data[base + k]! * std[c]! + mean[c]!;
      pixels[k] = Math.round(Math.min(Math.max(Number.isFinite(v) ? v : 0, 0), 1) * 255);
    }
    // A label may spill into the gaps beside its image, never into the next label.
    const label = fitText(labels[i] ?? '', W + gap - 2, size);
    body.push(text(cx + W / 2, cy + labelH / 2, label, { size, fill: TEXT, anchor: 'middle' }));
    body.push(image(cx, cy + labelH, W, H, `data:image/png;base64,${base64(encodePng({ width: W, height: H, data: pixels }))}`));
    cells.push({ x: cx, y: cy + labelH, width: W, height: H });
  }
  return { svg: svgDocument(width, height, body), width, height, cells };
}

/** A batch on the CPU, read back from the GPU when it is a tensor. */
export async function hostBatch(x: Tensor | HostBatch): Promise<HostBatch> {
  if ('data' in x) return x;
  const arr = await x.toArray();
  return { data: arr instanceof Float32Array ? arr : Float32Array.from(arr), shape: x.shape };
}
