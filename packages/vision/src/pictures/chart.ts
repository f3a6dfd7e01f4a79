/**
 * Charts as SVG documents: line charts (losses, lr_find: axes with tick labels, optional log x
 * axis, a marked point) and confusion matrices. SVG stays sharp at any size in report.html and
 * the web app; @tessera/vision/node rasterises it to PNG with resvg. The layout (ticks, margins,
 * where each value lands) is computed here, so tests can check pixels at known places.
 */
import { circle, line, polyline, rect, svgDocument, text, type Rgb } from './svg.js';
import { fitText, textWidth } from './text.js';

export type { Rgb } from './svg.js';

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
  /** The chart as an SVG document of `width` x `height` px. */
  svg: string;
  width: number;
  height: number;
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

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];
/** Text sizes in px: tick labels and axis labels, titles. */
const SMALL = 12;
const TITLE = 16;

/** 32-bit FNV-1a of a string, in hex. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Lays out and draws a line chart (pure; no file). */
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
  const yTickW = Math.max(...yTicks.map((t) => textWidth(formatTick(t), SMALL)), 0);
  const left = Math.ceil(8 + (opts.yLabel ? SMALL + 8 : 0) + yTickW + 10);
  const top = opts.title ? 12 + TITLE + 12 : 12;
  const bottom = 8 + SMALL + 8 + (opts.xLabel ? SMALL + 8 : 0);
  const right = 16;
  const plot = { x: left, y: top, width: width - left - right, height: height - top - bottom };
  if (plot.width < 20 || plot.height < 20) throw new RangeError(`lineChart: ${width}x${height} is too small`);
  const fx = (x: number): number => plot.x + (((logX ? Math.log10(x) : x) - tx0) / (tx1 - tx0)) * (plot.width - 1);
  const fy = (y: number): number => plot.y + plot.height - 1 - ((y - y0) / (y1 - y0)) * (plot.height - 1);
  const toPixel = (x: number, y: number): [number, number] => [fx(x), fy(y)];
  const body: string[] = [];
  // Grid lines, ticks and tick labels (lines on pixel centres, so 1 px stays 1 px).
  for (const t of xTicks) {
    const px = Math.round(fx(t));
    if (px < plot.x || px >= plot.x + plot.width) continue;
    body.push(line(px + 0.5, plot.y, px + 0.5, plot.y + plot.height, GRID), line(px + 0.5, plot.y + plot.height, px + 0.5, plot.y + plot.height + 4, BLACK));
    body.push(text(px + 0.5, plot.y + plot.height + 8 + SMALL / 2, formatTick(t), { size: SMALL, fill: TEXT, anchor: 'middle' }));
  }
  for (const t of yTicks) {
    const py = Math.round(fy(t));
    if (py < plot.y || py >= plot.y + plot.height) continue;
    body.push(line(plot.x, py + 0.5, plot.x + plot.width, py + 0.5, GRID), line(plot.x - 4, py + 0.5, plot.x, py + 0.5, BLACK));
    body.push(text(plot.x - 7, py + 0.5, formatTick(t), { size: SMALL, fill: TEXT, anchor: 'end' }));
  }
  // Axes: the column left of the plot and the row below it.
  body.push(rect(plot.x - 1, plot.y, 1, plot.height + 1, BLACK), rect(plot.x - 1, plot.y + plot.height, plot.width + 1, 1, BLACK));
  if (opts.title) body.push(text(width / 2, 12 + TITLE / 2, opts.title, { size: TITLE, fill: TEXT, anchor: 'middle' }));
  if (opts.xLabel) body.push(text(plot.x + plot.width / 2, height - 6 - SMALL / 2, opts.xLabel, { size: SMALL, fill: TEXT, anchor: 'middle' }));
  if (opts.yLabel) body.push(text(8 + SMALL / 2, plot.y + plot.height / 2, opts.yLabel, { size: SMALL, fill: TEXT, anchor: 'middle', vertical: true }));
  // Series, clipped to the plot: one polyline per run of usable points, a dot for a lone point.
  const lw = opts.lineWidth ?? 2;
  const seriesStart = body.length;
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    let run: [number, number][] = [];
    const flush = (): void => {
      if (run.length === 1) body.push(circle(run[0]![0], run[0]![1], lw, color));
      else if (run.length > 1) body.push(polyline(run, color, lw));
      run = [];
    };
    for (let i = 0; i < s.x.length; i++) {
      if (usable(s.x[i]!, s.y[i]!)) run.push(toPixel(s.x[i]!, s.y[i]!));
      else flush();
    }
    flush();
  });
  if (opts.mark && usable(opts.mark.x, opts.mark.y)) {
    const [mx, my] = toPixel(opts.mark.x, opts.mark.y);
    const color = opts.mark.color ?? MARK;
    body.push(circle(mx, my, 4.5, color));
    if (opts.mark.label) {
      const right = mx + 8 + textWidth(opts.mark.label, SMALL) < plot.x + plot.width;
      body.push(text(right ? mx + 8 : mx - 8, my - 10, opts.mark.label, { size: SMALL, fill: color, anchor: right ? 'start' : 'end' }));
    }
  }
  // Ids are global in an HTML page that embeds several charts: this one is named after its content.
  const clipId = `plot-${fnv1a(body.slice(seriesStart).join(''))}`;
  body.splice(seriesStart, 0, `<clipPath id="${clipId}"><rect x="${plot.x}" y="${plot.y}" width="${plot.width}" height="${plot.height}"/></clipPath>`, `<g clip-path="url(#${clipId})">`);
  body.push('</g>');
  // Legend (top right) when any series is named.
  const named = series.map((s, k) => ({ name: s.name, color: s.color ?? PALETTE[k % PALETTE.length]! })).filter((s) => s.name);
  if (named.length > 0) {
    const row = SMALL + 6;
    const w = Math.ceil(Math.max(...named.map((s) => textWidth(s.name!, SMALL))) + 36);
    const h = named.length * row + 8;
    const lx = plot.x + plot.width - w - 6;
    const ly = plot.y + 6;
    body.push(rect(lx + 0.5, ly + 0.5, w, h, WHITE, [200, 200, 200]));
    named.forEach((s, i) => {
      const cy = ly + 4 + i * row + row / 2;
      body.push(line(lx + 6, cy, lx + 24, cy, s.color, 2), text(lx + 30, cy, s.name!, { size: SMALL, fill: TEXT }));
    });
  }
  return { svg: svgDocument(width, height, body), width, height, plot, toPixel, xTicks, yTicks };
}

// ---------------------------------------------------------------------------------------------

export interface ConfusionMatrixOptions {
  title?: string;
  /** Show row-normalised fractions instead of counts (colours follow the same values). */
  normalize?: boolean;
  /** Minimum cell size in pixels; default 36. */
  cellSize?: number;
  /** Longest class name drawn, in pixels; longer names are cut. Default 160. */
  maxLabelWidth?: number;
}

export interface ConfusionMatrixPicture {
  /** The matrix as an SVG document of `width` x `height` px. */
  svg: string;
  width: number;
  height: number;
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

/** Lays out and draws a confusion matrix: rows are the actual classes, columns the predicted ones. */
export function renderConfusionMatrix(matrix: readonly (readonly number[])[], classes: readonly string[], opts: ConfusionMatrixOptions = {}): ConfusionMatrixPicture {
  const n = classes.length;
  if (n === 0 || matrix.length !== n || matrix.some((r) => r.length !== n)) {
    throw new RangeError(`confusionMatrix: need an ${n}x${n} matrix for ${n} classes`);
  }
  const values = matrix.map((row) => {
    const total = row.reduce((s, v) => s + v, 0);
    return row.map((v) => (opts.normalize ? (total > 0 ? v / total : 0) : v));
  });
  const labelsOf = values.map((row) => row.map((v) => (opts.normalize ? v.toFixed(2) : String(Math.round(v)))));
  const max = Math.max(...values.flat(), 0);
  const cell = Math.ceil(Math.max(opts.cellSize ?? 36, ...labelsOf.flat().map((t) => textWidth(t, SMALL) + 10)));
  const names = classes.map((c) => fitText(c, opts.maxLabelWidth ?? 160, SMALL));
  const nameW = Math.ceil(Math.max(...names.map((l) => textWidth(l, SMALL))));
  const left = 8 + SMALL + 10 + nameW + 8;
  const top = opts.title ? 12 + TITLE + 14 : 12;
  const gridSize = n * cell;
  const bottom = 8 + nameW + 10 + SMALL + 8;
  const width = Math.ceil(Math.max(left + gridSize + 12, opts.title ? textWidth(opts.title, TITLE) + 24 : 0));
  const height = top + gridSize + bottom;
  const cellAt = (i: number, j: number): { x: number; y: number; size: number } => ({ x: left + j * cell, y: top + i * cell, size: cell });
  const body: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const t = max > 0 ? values[i]![j]! / max : 0;
      const { x, y } = cellAt(i, j);
      body.push(rect(x, y, cell, cell, blues(t)), text(x + cell / 2, y + cell / 2, labelsOf[i]![j]!, { size: SMALL, fill: t > 0.5 ? WHITE : TEXT, anchor: 'middle' }));
    }
    // Row label (actual), right-aligned; column label (predicted), turned, ending at the grid.
    body.push(text(left - 8, top + (i + 0.5) * cell, names[i]!, { size: SMALL, fill: TEXT, anchor: 'end' }));
    body.push(text(left + (i + 0.5) * cell, top + gridSize + 8, names[i]!, { size: SMALL, fill: TEXT, anchor: 'end', vertical: true }));
  }
  body.push(rect(left - 0.5, top - 0.5, gridSize + 1, gridSize + 1, 'none', BLACK));
  if (opts.title) body.push(text(width / 2, 12 + TITLE / 2, opts.title, { size: TITLE, fill: TEXT, anchor: 'middle' }));
  body.push(text(8 + SMALL / 2, top + gridSize / 2, 'Actual', { size: SMALL, fill: TEXT, anchor: 'middle', vertical: true }));
  body.push(text(left + gridSize / 2, height - 8 - SMALL / 2, 'Predicted', { size: SMALL, fill: TEXT, anchor: 'middle' }));
  return { svg: svgDocument(width, height, body), width, height, cellAt };
}
