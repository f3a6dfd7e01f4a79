/**
 * Pictures as PNG files: the SVG documents of ../pictures rasterised by resvg (a maintained
 * renderer, Rust through napi-rs, prebuilt per platform), written atomically (temp file + rename),
 * so a reader never sees half a picture.
 */
import { createRequire } from 'node:module';
import type { Resvg as ResvgClass } from '@resvg/resvg-js';
import type { Tensor } from '@tessera/tensor';
import { renderConfusionMatrix, renderLineChart, type ConfusionMatrixOptions, type LineChartOptions, type LineSeries } from '../pictures/chart.js';
import { hostBatch, renderBatchGrid, type HostBatch, type ShowBatchOptions } from '../pictures/grid.js';
import { writeFileAtomic } from './atomic-write.js';

const require = createRequire(import.meta.url);
/** The font the layout was measured with (pictures/text.ts), from the dejavu-fonts-ttf package. */
const FONT_FILE = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');

let resvg: typeof ResvgClass | null = null;

/**
 * resvg-js, loaded on first use: its native binary comes as a per-platform optional dependency,
 * and a platform without one should lose the PNG pictures, not the whole of @tessera/vision/node.
 */
function loadResvg(): typeof ResvgClass {
  if (!resvg) {
    try {
      resvg = (require('@resvg/resvg-js') as { Resvg: typeof ResvgClass }).Resvg;
    } catch (err) {
      throw new Error(
        `cannot draw PNG pictures: @resvg/resvg-js has no working binary for ${process.platform}-${process.arch} ` +
          `(${(err as Error).message.split('\n')[0]}); reinstall with optional dependencies enabled`,
        { cause: err },
      );
    }
  }
  return resvg;
}

/** A written picture: its size in pixels and the SVG it was drawn from (for report.html). */
export interface WrittenPicture {
  width: number;
  height: number;
  svg: string;
}

/**
 * PNG bytes of an SVG document, at its own size. DejaVu Sans is loaded from the package, so text
 * looks the same on every machine; system fonts stay as the fallback for characters it lacks.
 */
export function svgToPng(svg: string): Uint8Array {
  const Resvg = loadResvg();
  const renderer = new Resvg(svg, {
    font: { fontFiles: [FONT_FILE], loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    imageRendering: 1, // optimizeSpeed: embedded images pixel for pixel
  });
  return new Uint8Array(renderer.render().asPng());
}

/** Rasterises an SVG document and writes it as a PNG at `path`, atomically. */
export async function writePng(path: string, svg: string): Promise<void> {
  await writeFileAtomic(path, svgToPng(svg));
}

async function written(path: string, picture: { svg: string; width: number; height: number }): Promise<WrittenPicture> {
  await writePng(path, picture.svg);
  return { width: picture.width, height: picture.height, svg: picture.svg };
}

/**
 * Reads a normalised NHWC batch back from the GPU (or takes it from the CPU), undoes the
 * normalisation and writes the grid as a PNG at `path` (atomically).
 */
export async function showBatch(
  x: Tensor | HostBatch,
  labels: readonly string[],
  path: string,
  opts: ShowBatchOptions = {},
): Promise<WrittenPicture> {
  return written(path, renderBatchGrid(await hostBatch(x), labels, opts));
}

/** Writes a line chart PNG at `path` (atomically). */
export async function lineChart(path: string, series: readonly LineSeries[], opts: LineChartOptions = {}): Promise<WrittenPicture> {
  return written(path, renderLineChart(series, opts));
}

/** Writes a confusion-matrix PNG at `path` (atomically). */
export async function confusionMatrix(
  path: string,
  matrix: readonly (readonly number[])[],
  classes: readonly string[],
  opts: ConfusionMatrixOptions = {},
): Promise<WrittenPicture> {
  return written(path, renderConfusionMatrix(matrix, classes, opts));
}
