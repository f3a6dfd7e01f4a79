import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blues, formatTick, linearTicks, logTicks, renderConfusionMatrix, renderLineChart } from './chart.js';
import { ADVANCE, drawText, fitText, glyphRows, textWidth } from './font.js';
import { renderBatchGrid } from './grid.js';
import { Raster } from './raster.js';
import { confusionMatrix, lineChart, showBatch, writePng } from '../node/pictures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-pictures-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readPng(path: string): Promise<{ width: number; height: number; at: (x: number, y: number) => number[] }> {
  const bytes = await readFile(path);
  expect([...bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const png = pngjs.PNG.sync.read(bytes);
  return { width: png.width, height: png.height, at: (x, y) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)] };
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

describe('font', () => {
  it('has a 5x7 glyph for every printable ASCII character', () => {
    const box = glyphRows('\u2603');
    for (let c = 33; c < 127; c++) {
      const rows = glyphRows(String.fromCharCode(c));
      expect(rows.some((r) => r !== 0)).toBe(true);
      expect(rows).not.toBe(box);
    }
    expect(glyphRows(' ').every((r) => r === 0)).toBe(true);
    expect(textWidth('abc', 2)).toBe((3 * ADVANCE - 1) * 2);
    expect(fitText('a long label', 30)).toBe('a l..');
    expect(textWidth(fitText('a long label', 30))).toBeLessThanOrEqual(30);
    expect(fitText('ok', 30)).toBe('ok');
  });

  it('draws glyph pixels where expected, horizontally and vertically', () => {
    const img = new Raster(40, 40);
    drawText(img, 'T', 10, 10, [255, 0, 0], 2);
    // 'T' top bar: columns 0..4 of row 0, at scale 2 -> x 10..19, y 10..11; stem at column 2.
    expect(img.get(10, 10)).toEqual([255, 0, 0]);
    expect(img.get(19, 11)).toEqual([255, 0, 0]);
    expect(img.get(14, 22)).toEqual([255, 0, 0]);
    expect(img.get(10, 14)).toEqual([255, 255, 255]);
    const v = new Raster(20, 20);
    drawText(v, '-', 2, 2, [0, 0, 0], 1, true);
    // '-' is row 3, columns 0..4; rotated counter-clockwise it becomes column 3, rows 6..2.
    for (let y = 2; y <= 6; y++) expect(v.get(5, y)).toEqual([0, 0, 0]);
    expect(v.get(4, 4)).toEqual([255, 255, 255]);
  });
});

describe('showBatch', () => {
  const colours = [
    [200, 30, 40],
    [10, 220, 90],
    [0, 0, 255],
  ];
  function solidBatch(h: number, w: number): { data: Float32Array; shape: number[] } {
    const data = new Float32Array(colours.length * h * w * 3);
    colours.forEach((col, b) => {
      for (let p = 0; p < h * w; p++) for (let c = 0; c < 3; c++) data[(b * h * w + p) * 3 + c] = (col[c]! / 255 - IMAGENET.mean[c]!) / IMAGENET.std[c]!;
    });
    return { data, shape: [colours.length, h, w, 3] };
  }

  it('writes a valid PNG grid of the de-normalised images with their labels', async () => {
    const path = join(dir, 'batch.png');
    const x = solidBatch(12, 20);
    const size = await showBatch(x, ['red', 'green', 'blue'], path, { ncols: 2 });
    // 2 columns x 2 rows; gap 6; label row 8+4 above each 12-px image.
    expect(size).toEqual({ width: 2 * 20 + 3 * 6, height: 2 * (12 + 12) + 3 * 6 });
    const png = await readPng(path);
    expect([png.width, png.height]).toEqual([size.width, size.height]);
    const { cells } = renderBatchGrid(x, ['red', 'green', 'blue'], { ncols: 2 });
    expect(cells.map((c) => [c.x, c.y])).toEqual([[6, 18], [32, 18], [6, 48]]);
    cells.forEach((c, b) => {
      for (const [dx, dy] of [[0, 0], [19, 11], [10, 5]]) expect(png.at(c.x + dx, c.y + dy)).toEqual(colours[b]);
      expect(png.at(c.x - 1, c.y)).toEqual([255, 255, 255]);
    });
    // Some label ink above each image, none in the empty fourth cell.
    const ink = (x0: number, y0: number, w: number, h: number): number => {
      let n = 0;
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (png.at(x, y)[0]! < 128) n++;
      return n;
    };
    for (const c of cells) expect(ink(c.x, c.y - 12, 20, 12)).toBeGreaterThan(5);
    expect(ink(32, 48 - 12, 20, 24)).toBe(0);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('takes stats, maxN and validates shapes', () => {
    const x = solidBatch(4, 4);
    const plain = { data: x.data.map(() => 0.5), shape: x.shape };
    const g = renderBatchGrid(plain, [], { mean: [0, 0, 0], std: [1, 1, 1], maxN: 2, gap: 0 });
    expect(g.cells.length).toBe(2);
    expect(g.image.get(g.cells[1]!.x, g.cells[1]!.y)).toEqual([128, 128, 128]);
    expect(() => renderBatchGrid({ data: new Float32Array(12), shape: [1, 2, 2, 4] }, [])).toThrow(/NHWC/);
  });
});

describe('charts', () => {
  it('formats and places ticks', () => {
    expect([0, 0.25, 1200, 3e-5, 1e-7, 123456, -0.5].map(formatTick)).toEqual(['0', '0.25', '1200', '3e-5', '1e-7', '1.23e5', '-0.5']);
    expect(linearTicks(0.03, 0.97)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(linearTicks(-1, 9)).toEqual([0, 2, 4, 6, 8]);
    expect(logTicks(1e-7, 10)).toEqual([1e-7, 1e-5, 1e-3, 1e-1, 10]);
    expect(logTicks(2e-3, 9e-3)).toEqual([2e-3, 5e-3]);
  });

  it('draws a line chart PNG with series, axes and a marked point', async () => {
    const path = join(dir, 'lr_find.png');
    const lrs = Array.from({ length: 50 }, (_, i) => 1e-6 * 10 ** (i / 7));
    const losses = lrs.map((lr) => 2 - 0.1 * Math.log10(lr));
    const opts = { width: 500, height: 300, logX: true, title: 'lr_find', xLabel: 'Learning Rate', yLabel: 'Loss', mark: { x: lrs[20]!, y: losses[20]!, label: 'valley' } } as const;
    const size = await lineChart(path, [{ name: 'loss', x: lrs, y: losses }], opts);
    expect(size).toEqual({ width: 500, height: 300 });
    const png = await readPng(path);
    expect([png.width, png.height]).toEqual([500, 300]);
    const chart = renderLineChart([{ name: 'loss', x: lrs, y: losses }], opts);
    expect(chart.xTicks.every((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9)).toBe(true);
    const near = (px: number, py: number, want: number[]): boolean => {
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (png.at(Math.round(px) + dx, Math.round(py) + dy).join() === want.join()) return true;
      return false;
    };
    const [lx, ly] = chart.toPixel(lrs[5]!, losses[5]!);
    expect(near(lx, ly, [31, 119, 180])).toBe(true);
    const [mx, my] = chart.toPixel(lrs[20]!, losses[20]!);
    expect(png.at(Math.round(mx), Math.round(my))).toEqual([214, 39, 40]);
    // The axes: a black vertical line left of the plot, a horizontal one below it.
    expect(png.at(chart.plot.x - 1, chart.plot.y + 10)).toEqual([0, 0, 0]);
    expect(png.at(chart.plot.x + 10, chart.plot.y + chart.plot.height)).toEqual([0, 0, 0]);
    // The first and last points land at the plot's left and right edges (log scale, no x padding).
    expect(chart.toPixel(lrs[0]!, 2)[0]).toBeCloseTo(chart.plot.x, 6);
    expect(chart.toPixel(lrs[49]!, 2)[0]).toBeCloseTo(chart.plot.x + chart.plot.width - 1, 6);
  });

  it('handles several series, gaps, a fixed y range and bad input', () => {
    const chart = renderLineChart(
      [
        { name: 'train', x: [0, 1, 2, 3], y: [1, 0.8, NaN, 0.5] },
        { name: 'valid', x: [0, 3], y: [0.9, 0.6] },
      ],
      { yRange: [0, 1] },
    );
    expect(chart.yTicks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const [x, y] = chart.toPixel(3, 0.6);
    const c = chart.image.get(Math.round(x), Math.round(y));
    expect(c).toEqual([255, 127, 14]);
    expect(() => renderLineChart([{ x: [1, 2], y: [1] }])).toThrow(/2 x and 1 y/);
  });

  it('draws a confusion matrix PNG coloured by count', async () => {
    const path = join(dir, 'confusion.png');
    const classes = ['cat', 'dog', 'a very long class name indeed'];
    const m = [
      [50, 2, 0],
      [5, 40, 1],
      [0, 3, 25],
    ];
    const size = await confusionMatrix(path, m, classes, { title: 'Confusion matrix', maxLabelWidth: 60 });
    const png = await readPng(path);
    expect([png.width, png.height]).toEqual([size.width, size.height]);
    const pic = renderConfusionMatrix(m, classes, { title: 'Confusion matrix', maxLabelWidth: 60 });
    const cell = (i: number, j: number): number[] => {
      const { x, y } = pic.cellAt(i, j);
      return png.at(x + 1, y + 1);
    };
    expect(cell(0, 0)).toEqual([...blues(1)]);
    expect(cell(0, 2)).toEqual([...blues(0)]);
    expect(cell(1, 1)).toEqual([...blues(40 / 50)]);
    const norm = renderConfusionMatrix(m, classes, { normalize: true });
    const { x, y } = norm.cellAt(2, 2);
    expect(norm.image.get(x + 1, y + 1)).toEqual([...blues((25 / 28) / (50 / 52))]);
    expect(() => renderConfusionMatrix([[1, 2]], ['a'])).toThrow(/1x1/);
  });

  it('overwrites atomically', async () => {
    const path = join(dir, 'sub', 'x.png');
    await writePng(path, new Raster(3, 2));
    await writePng(path, new Raster(5, 4, [1, 2, 3]));
    const png = await readPng(path);
    expect([png.width, png.height, ...png.at(4, 3)]).toEqual([5, 4, 1, 2, 3]);
    expect(await readdir(join(dir, 'sub'))).toEqual(['x.png']);
  });
});
