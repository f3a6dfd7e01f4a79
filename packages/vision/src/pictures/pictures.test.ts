import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blues, formatTick, linearTicks, logTicks, renderConfusionMatrix, renderLineChart } from './chart.js';
import { renderBatchGrid } from './grid.js';
import { svgDocument, rect } from './svg.js';
import { fitText, textWidth, xmlEscape } from './text.js';
import { confusionMatrix, lineChart, showBatch, svgToPng, writePng } from '../node/pictures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-pictures-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Pixels {
  width: number;
  height: number;
  at: (x: number, y: number) => number[];
}

function pixelsOf(bytes: Uint8Array): Pixels {
  expect([...bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const png = pngjs.PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, at: (x, y) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)] };
}

async function readPng(path: string): Promise<Pixels> {
  return pixelsOf(new Uint8Array(await readFile(path)));
}

/** Lines are anti-aliased: some pixel next to (px, py) has the colour (within a few levels). */
function near(png: Pixels, px: number, py: number, want: readonly number[]): boolean {
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) if (png.at(Math.round(px) + dx, Math.round(py) + dy).every((v, c) => Math.abs(v - want[c]!) <= 8)) return true;
  }
  return false;
}

/** Pixels darker than mid-grey in a rectangle: where text was drawn. */
function ink(png: Pixels, x0: number, y0: number, w: number, h: number): number {
  let n = 0;
  for (let y = Math.max(0, y0); y < Math.min(png.height, y0 + h); y++) for (let x = Math.max(0, x0); x < Math.min(png.width, x0 + w); x++) if (png.at(x, y)[0]! < 128) n++;
  return n;
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

describe('text', () => {
  it('measures with DejaVu Sans widths and cuts long labels with an ellipsis', () => {
    // DejaVu Sans: 'i' is 569/2048 em, 'W' 2025/2048 em; non-ASCII counts a full em.
    expect(textWidth('i', 2048)).toBe(569);
    expect(textWidth('W', 2048)).toBe(2025);
    expect(textWidth('日', 12)).toBe(12);
    expect(textWidth('iii', 12)).toBeLessThan(textWidth('WWW', 12) / 3);
    const cut = fitText('a very long class name indeed', 60, 12);
    expect(cut.endsWith('…')).toBe(true);
    expect(textWidth(cut, 12)).toBeLessThanOrEqual(60);
    expect(fitText('ok', 60, 12)).toBe('ok');
  });

  it('escapes markup and control characters, so any class name gives a valid SVG', () => {
    expect(xmlEscape(`<b>&"x'\u0001`)).toBe('&lt;b&gt;&amp;&quot;x&#39;\ufffd');
    const hostile = ['<script>alert(1)</script>', 'a&b', 'tab\there', 'bell\u0007', 'ünï 日本'];
    const pic = renderConfusionMatrix(hostile.map((_, i) => hostile.map((__, j) => (i === j ? 3 : 1))), hostile);
    expect(pic.svg).not.toContain('<script>');
    const png = pixelsOf(svgToPng(pic.svg)); // resvg refuses malformed XML
    expect([png.width, png.height]).toEqual([pic.width, pic.height]);
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
    // 2 columns x 2 rows; gap 6; an 18-px label row (12-px text) above each 12-px image.
    expect([size.width, size.height]).toEqual([2 * 20 + 3 * 6, 2 * (18 + 12) + 3 * 6]);
    const png = await readPng(path);
    expect([png.width, png.height]).toEqual([size.width, size.height]);
    const { cells, svg } = renderBatchGrid(x, ['red', 'green', 'blue'], { ncols: 2 });
    expect(svg).toBe(size.svg);
    expect(cells.map((c) => [c.x, c.y])).toEqual([[6, 24], [32, 24], [6, 60]]);
    // The images are embedded pixel for pixel: exact colours at the corners and inside.
    cells.forEach((c, b) => {
      for (const [dx, dy] of [[0, 0], [19, 11], [10, 5]]) expect(png.at(c.x + dx, c.y + dy)).toEqual(colours[b]);
      expect(png.at(c.x - 1, c.y)).toEqual([255, 255, 255]);
    });
    // Label text above each image (drawn by resvg with DejaVu Sans), none in the empty fourth cell.
    for (const c of cells) expect(ink(png, c.x - 2, c.y - 18, 24, 18)).toBeGreaterThan(5);
    expect(ink(png, 32, 60 - 18, 20, 30)).toBe(0);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('takes stats, maxN and validates shapes', () => {
    const x = solidBatch(4, 4);
    const plain = { data: x.data.map(() => 0.5), shape: x.shape };
    const g = renderBatchGrid(plain, [], { mean: [0, 0, 0], std: [1, 1, 1], maxN: 2, gap: 0 });
    expect(g.cells.length).toBe(2);
    expect(pixelsOf(svgToPng(g.svg)).at(g.cells[1]!.x, g.cells[1]!.y)).toEqual([128, 128, 128]);
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
    expect(size).toMatchObject({ width: 500, height: 300 });
    const png = await readPng(path);
    expect([png.width, png.height]).toEqual([500, 300]);
    const chart = renderLineChart([{ name: 'loss', x: lrs, y: losses }], opts);
    expect(chart.xTicks.every((t) => Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9)).toBe(true);
    const [lx, ly] = chart.toPixel(lrs[5]!, losses[5]!);
    expect(near(png, lx, ly, [31, 119, 180])).toBe(true);
    const [mx, my] = chart.toPixel(lrs[20]!, losses[20]!);
    expect(png.at(Math.round(mx), Math.round(my))).toEqual([214, 39, 40]);
    // Text is SVG text (crisp at any zoom in report.html), and resvg drew it: ink in the title's band.
    expect(chart.svg).toMatch(/<text [^>]*>lr_find<\/text>/);
    expect(ink(png, 200, 8, 100, 24)).toBeGreaterThan(20);
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
    expect(near(pixelsOf(svgToPng(chart.svg)), x, y, [255, 127, 14])).toBe(true);
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
    expect(pixelsOf(svgToPng(norm.svg)).at(x + 1, y + 1)).toEqual([...blues((25 / 28) / (50 / 52))]);
    expect(() => renderConfusionMatrix([[1, 2]], ['a'])).toThrow(/1x1/);
  });

  it('overwrites atomically', async () => {
    const path = join(dir, 'sub', 'x.png');
    await writePng(path, svgDocument(3, 2, []));
    await writePng(path, svgDocument(5, 4, [rect(0, 0, 5, 4, [1, 2, 3])]));
    const png = await readPng(path);
    expect([png.width, png.height, ...png.at(4, 3)]).toEqual([5, 4, 1, 2, 3]);
    expect(await readdir(join(dir, 'sub'))).toEqual(['x.png']);
  });
});
