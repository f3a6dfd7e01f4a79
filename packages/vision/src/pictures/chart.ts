/**
 * Charts as PNGs, with no plotting library: line charts (losses.png, lr_find.png: axes with tick
 * labels, optional log x axis, a marked point) and confusion matrices.
 */
import { LINE_HEIGHT, drawText, fitText, textWidth } from './font.js';
import { BLACK, Raster, type Rgb } from './raster.js';

/** matplotlib's tab10 colours, the ones fastai's plots use. */
export const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
];

const GRID: Rgb = [225, 225, 225];
const TEXT: Rgb = [30, 30, 30];
const MARK: Rgb = [214, 39, 40];

export interface LineSeries {
  name?: string;
  x: readonly number[];
  y: readonly number[];
  color?: Rgb;
}

export interface LineChartOptions {
  width?: number;
  height?: number;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic x axis (lr_find); points with x <= 0 are skipped. */
  logX?: boolean;
  /** Fixed y range instead of the data's (e.g. to cut off lr_find's final explosion). */
  yRange?: readonly [number, number];
  /** A highlighted point, e.g. lr_find's suggestion. */
  mark?: { x: number; y: number; label?: string; color?: Rgb };
  /** Line thickness in pixels; default 2. */
  lineWidth?: number;
}

export interface LineChart {
  image: Raster;
  /** The plotting area. */
  plot: { x: number; y: number; width: number; height: number };
  /** Data coordinates to (fractional) pixel coordinates. */
  toPixel(x: number, y: number): [number, number];
  xTicks: number[];
  yTicks: number[];
}

/** A readable short label for an axis value: "0.25", "1200", "1e-05" style becomes "1e-5". */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(2).split('e') as [string, string];
    const mant = m.replace(/\.?0+$/, '');
    return `${mant}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(4)));
}

function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/** "Nice" ticks covering [lo, hi]: multiples of 1, 2 or 5 x 10^k. */
export function linearTicks(lo: number, hi: number, target = 5): number[] {
  const step = niceStep(hi - lo, target);
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** Ticks for a log axis over [lo, hi] (positive): powers of ten, or 1-2-5 steps inside one decade. */
export function logTicks(lo: number, hi: number, target = 6): number[] {
  const e0 = Math.ceil(Math.log10(lo) - 1e-9);
  const e1 = Math.floor(Math.log10(hi) + 1e-9);
  if (e1 - e0 >= 1) {
    const every = Math.max(1, Math.ceil((e1 - e0 + 1) / target));
    const out: number[] = [];
    for (let e = e0; e <= e1; e += every) out.push(Number((10 ** e).toPrecision(12)));
    return out;
  }
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out.length >= 2 ? out : [lo, hi];
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - d, hi + d];
  }
  return [lo, hi];
}

/** Draws a line chart (pure; no file). */
export function renderLineChart(series: readonly LineSeries[], opts: LineChartOptions = {}): LineChart {
  const width = opts.width ?? 640;
  const height = opts.height ?? 420;
  const logX = opts.logX ?? false;
  const usable = (x: number, y: number): boolean => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0);
  for (const s of series) if (s.x.length !== s.y.length) throw new RangeError(`lineChart: series ${s.name ?? ''} has ${s.x.length} x and ${s.y.length} y values`);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    s.x.forEach((x, i) => {
      if (usable(x, s.y[i]!)) {
        xs.push(logX ? Math.log10(x) : x);
        ys.push(s.y[i]!);
      }
    });
  }
  if (opts.mark && usable(opts.mark.x, opts.mark.y)) {
    xs.push(logX ? Math.log10(opts.mark.x) : opts.mark.x);
    ys.push(opts.mark.y);
  }
  let [tx0, tx1] = extent(xs);
  let [y0, y1] = opts.yRange ? [opts.yRange[0], opts.yRange[1]] : extent(ys);
  if (!(y1 > y0)) throw new RangeError('lineChart: yRange must be [lo, hi] with lo < hi');
  if (!opts.yRange) {
    const pad = (y1 - y0) * 0.05;
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  const xPad = logX ? 0 : (tx1 - tx0) * 0.02;
  [tx0, tx1] = [tx0 - xPad, tx1 + xPad];
  const xTicks = logX ? logTicks(10 ** tx0, 10 ** tx1) : linearTicks(tx0, tx1);
  const yTicks = linearTicks(y0, y1);
  const yTickW = Math.max(...yTicks.map((t) => textWidth(formatTick(t))), 0);
  const left = 8 + (opts.yLabel ? LINE_HEIGHT + 6 : 0) + yTickW + 8;
  const top = opts.title ? 8 + 2 * LINE_HEIGHT + 6 : 12;
  const bottom = 6 + LINE_HEIGHT + 6 + (opts.xLabel ? LINE_HEIGHT + 6 : 0);
  const right = 16;
  const plot = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  if (plot.width < 20 || plot.height < 20) throw new RangeError(`lineChart: ${width}x${height} is too small`);
  const fx = (x: number): number => plot.x + (((logX ? Math.log10(x) : x) - tx0) / (tx1 - tx0)) * (plot.width - 1);
  const fy = (y: number): number => plot.y + plot.height - 1 - ((y - y0) / (y1 - y0)) * (plot.height - 1);
  const toPixel = (x: number, y: number): [number, number] => [fx(x), fy(y)];
  const img = new Raster(width, height);
  // Grid lines, axes, ticks, tick labels.
  for (const t of xTicks) {
    const px = Math.round(fx(t));
    if (px < plot.x || px >= plot.x + plot.width) continue;
    img.fillRect(px, plot.y, 1, plot.height, GRID);
    img.fillRect(px, plot.y + plot.height, 1, 4, BLACK);
    const label = formatTick(t);
    drawText(img, label, px - Math.floor(textWidth(label) / 2), plot.y + plot.height + 6, TEXT);
  }
  for (const t of yTicks) {
    const py = Math.round(fy(t));
    if (py < plot.y || py >= plot.y + plot.height) continue;
    img.fillRect(plot.x, py, plot.width, 1, GRID);
    img.fillRect(plot.x - 4, py, 4, 1, BLACK);
    const label = formatTick(t);
    drawText(img, label, plot.x - 6 - textWidth(label), py - 3, TEXT);
  }
  img.fillRect(plot.x - 1, plot.y, 1, plot.height + 1, BLACK);
  img.fillRect(plot.x - 1, plot.y + plot.height, plot.width + 1, 1, BLACK);
  if (opts.title) drawText(img, opts.title, Math.floor((width - textWidth(opts.title, 2)) / 2), 8, TEXT, 2);
  if (opts.xLabel) drawText(img, opts.xLabel, plot.x + Math.floor((plot.width - textWidth(opts.xLabel)) / 2), height - LINE_HEIGHT - 4, TEXT);
  if (opts.yLabel) drawText(img, opts.yLabel, 6, plot.y + Math.floor((plot.height - textWidth(opts.yLabel)) / 2), TEXT, 1, true);
  // Series, clipped to the plot.
  img.clip(plot);
  const lw = opts.lineWidth ?? 2;
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    let prev: [number, number] | null = null;
    for (let i = 0; i < s.x.length; i++) {
      if (!usable(s.x[i]!, s.y[i]!)) {
        prev = null;
        continue;
      }
      const p = toPixel(s.x[i]!, s.y[i]!);
      if (prev) img.line(prev[0], prev[1], p[0], p[1], color, lw);
      else if (s.x.length === 1 || !usable(s.x[i + 1] ?? NaN, s.y[i + 1] ?? NaN)) img.disc(p[0], p[1], lw, color);
      prev = p;
    }
  });
  if (opts.mark && usable(opts.mark.x, opts.mark.y)) {
    const [mx, my] = toPixel(opts.mark.x, opts.mark.y);
    img.disc(mx, my, 4, opts.mark.color ?? MARK);
    if (opts.mark.label) {
      const lx = mx + 8 + textWidth(opts.mark.label) < plot.x + plot.width ? mx + 8 : mx - 8 - textWidth(opts.mark.label);
      drawText(img, opts.mark.label, Math.round(lx), Math.round(my - 12), opts.mark.color ?? MARK);
    }
  }
  img.clip(null);
  // Legend (top right) when any series is named.
  const named = series.map((s, k) => ({ name: s.name, color: s.color ?? PALETTE[k % PALETTE.length]! })).filter((s) => s.name);
  if (named.length > 0) {
    const w = Math.max(...named.map((s) => textWidth(s.name!))) + 28;
    const h = named.length * (LINE_HEIGHT + 4) + 6;
    const lx = plot.x + plot.width - w - 6;
    const ly = plot.y + 6;
    img.fillRect(lx, ly, w, h, [255, 255, 255]);
    img.strokeRect(lx, ly, w, h, [200, 200, 200]);
    named.forEach((s, i) => {
      const yy = ly + 4 + i * (LINE_HEIGHT + 4);
      img.fillRect(lx + 5, yy + 3, 14, 2, s.color);
      drawText(img, s.name!, lx + 23, yy, TEXT);
    });
  }
  return { image: img, plot, toPixel, xTicks, yTicks };
}

// ---------------------------------------------------------------------------------------------

export interface ConfusionMatrixOptions {
  title?: string;
  /** Show row-normalised fractions instead of counts (colours follow the same values). */
  normalize?: boolean;
  /** Minimum cell size in pixels; default 28. */
  cellSize?: number;
  /** Longest class name drawn, in pixels; longer names are cut. Default 160. */
  maxLabelWidth?: number;
}

export interface ConfusionMatrixPicture {
  image: Raster;
  /** Top-left pixel of cell (actual row i, predicted column j). */
  cellAt(i: number, j: number): { x: number; y: number; size: number };
}

/** matplotlib "Blues" (what fastai's plot_confusion_matrix uses), t in [0, 1]. */
export function blues(t: number): Rgb {
  const stops: Rgb[] = [
    [247, 251, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const u = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(u), stops.length - 2);
  const f = u - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as unknown as Rgb;
}

/** Draws a confusion matrix: rows are the actual classes, columns the predicted ones. */
export function renderConfusionMatrix(matrix: readonly (readonly number[])[], classes: readonly string[], opts: ConfusionMatrixOptions = {}): ConfusionMatrixPicture {
  const n = classes.length;
  if (n === 0 || matrix.length !== n || matrix.some((r) => r.length !== n)) {
    throw new RangeError(`confusionMatrix: need an ${n}x${n} matrix for ${n} classes`);
  }
  const values = matrix.map((row) => {
    const total = row.reduce((s, v) => s + v, 0);
    return row.map((v) => (opts.normalize ? (total > 0 ? v / total : 0) : v));
  });
  const text = values.map((row) => row.map((v) => (opts.normalize ? v.toFixed(2) : String(Math.round(v)))));
  const max = Math.max(...values.flat(), 0);
  const cell = Math.max(opts.cellSize ?? 28, ...text.flat().map((t) => textWidth(t) + 8));
  const maxLabel = opts.maxLabelWidth ?? 160;
  const labels = classes.map((c) => fitText(c, maxLabel));
  const labelW = Math.max(...labels.map((l) => textWidth(l)));
  const left = 6 + LINE_HEIGHT + 8 + labelW + 6;
  const top = opts.title ? 8 + 2 * LINE_HEIGHT + 8 : 10;
  const gridSize = n * cell;
  const bottom = 6 + labelW + 8 + LINE_HEIGHT + 8;
  const width = Math.max(left + gridSize + 12, opts.title ? textWidth(opts.title, 2) + 16 : 0);
  const height = top + gridSize + bottom;
  const img = new Raster(width, height);
  const cellAt = (i: number, j: number): { x: number; y: number; size: number } => ({ x: left + j * cell, y: top + i * cell, size: cell });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const t = max > 0 ? values[i]![j]! / max : 0;
      const { x, y } = cellAt(i, j);
      img.fillRect(x, y, cell, cell, blues(t));
      const s = text[i]![j]!;
      drawText(img, s, x + Math.floor((cell - textWidth(s)) / 2), y + Math.floor((cell - 7) / 2), t > 0.5 ? [255, 255, 255] : TEXT);
    }
    // Row label (actual), right-aligned; column label (predicted), vertical below the grid.
    drawText(img, labels[i]!, left - 6 - textWidth(labels[i]!), top + i * cell + Math.floor((cell - 7) / 2), TEXT);
    drawText(img, labels[i]!, left + i * cell + Math.floor((cell - 7) / 2), top + gridSize + 6 + labelW - textWidth(labels[i]!), TEXT, 1, true);
  }
  img.strokeRect(left - 1, top - 1, gridSize + 2, gridSize + 2, BLACK);
  if (opts.title) drawText(img, opts.title, Math.floor((width - textWidth(opts.title, 2)) / 2), 8, TEXT, 2);
  drawText(img, 'Actual', 6, top + Math.floor((gridSize - textWidth('Actual')) / 2), TEXT, 1, true);
  drawText(img, 'Predicted', left + Math.floor((gridSize - textWidth('Predicted')) / 2), height - LINE_HEIGHT - 4, TEXT);
  return { image: img, cellAt };
}
