/** Pictures as PNG files, written atomically (temp file + rename), so a reader never sees half a picture. */
import type { Tensor } from '@tessera/tensor';
import { renderConfusionMatrix, renderLineChart, type ConfusionMatrixOptions, type LineChartOptions, type LineSeries } from '../pictures/chart.js';
import { hostBatch, renderBatchGrid, type HostBatch, type ShowBatchOptions } from '../pictures/grid.js';
import type { Raster } from '../pictures/raster.js';
import { writeFileAtomic } from './atomic-write.js';

/** Encodes and writes a raster as PNG, atomically. */
export async function writePng(path: string, img: Raster): Promise<void> {
  await writeFileAtomic(path, img.toPng());
}

async function written(path: string, image: Raster): Promise<{ width: number; height: number }> {
  await writePng(path, image);
  return { width: image.width, height: image.height };
}

/**
 * Reads a normalised NHWC batch back from the GPU (or takes it from the CPU), undoes the
 * normalisation and writes the grid as a PNG at `path` (atomically). Returns the picture's size.
 */
export async function showBatch(
  x: Tensor | HostBatch,
  labels: readonly string[],
  path: string,
  opts: ShowBatchOptions = {},
): Promise<{ width: number; height: number }> {
  return written(path, renderBatchGrid(await hostBatch(x), labels, opts).image);
}

/** Writes a line chart PNG at `path` (atomically). */
export async function lineChart(path: string, series: readonly LineSeries[], opts: LineChartOptions = {}): Promise<{ width: number; height: number }> {
  return written(path, renderLineChart(series, opts).image);
}

/** Writes a confusion-matrix PNG at `path` (atomically). */
export async function confusionMatrix(
  path: string,
  matrix: readonly (readonly number[])[],
  classes: readonly string[],
  opts: ConfusionMatrixOptions = {},
): Promise<{ width: number; height: number }> {
  return written(path, renderConfusionMatrix(matrix, classes, opts).image);
}
