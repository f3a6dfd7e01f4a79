/**
 * The run folder's own files: metrics.json / metrics.csv, losses.png (from the run's table, which
 * spans resumed and continued runs) and report.html, all written atomically. The loss chart is
 * also kept as losses.svg, and report.html embeds every chart's SVG found beside its PNG, so they
 * stay sharp at any zoom. The pictures of the model (show_batch, confusion, top losses) are
 * @tessera/fastai's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, writeFileAtomic } from '@tessera/vision/node';
import type { EpochRecord, RunLog } from './run-log.js';

const fmt = (v: number | null, d = 6) => (v === null || Number.isNaN(v) ? '' : v.toFixed(d));

export async function writeMetrics(dir: string, epochs: EpochRecord[]): Promise<void> {
  const rows = epochs.map((e) => ({
    epoch: e.epoch, train_loss: e.train_loss, valid_loss: e.valid_loss, error_rate: e.error_rate, seconds: Number(e.seconds.toFixed(2)),
    ...(e.skipped_files ? { skipped_files: e.skipped_files } : {}),
    ...(e.warning ? { warning: e.warning } : {}),
    ...(e.timing ? { timing: e.timing } : {}),
    ...(e.startup ? { startup: e.startup } : {}),
  }));
  await writeFileAtomic(join(dir, 'metrics.json'), `${JSON.stringify(rows, null, 2)}\n`);
  const csv = ['epoch,train_loss,valid_loss,error_rate,seconds', ...rows.map((r) => [r.epoch, fmt(r.train_loss), fmt(r.valid_loss), fmt(r.error_rate), r.seconds].join(','))];
  await writeFileAtomic(join(dir, 'metrics.csv'), `${csv.join('\n')}\n`);
}

export async function writeLossChart(dir: string, log: RunLog): Promise<void> {
  if (log.trainLoss.length < 2) return;
  const { svg } = await lineChart(join(dir, 'losses.png'), [
    { name: 'train (smoothed)', x: log.trainLoss.map((_, i) => i + 1), y: log.trainLoss },
    ...(log.validAt.length ? [{ name: 'valid', x: log.validAt.map((v) => v.iter), y: log.validAt.map((v) => v.loss) }] : []),
  ], { title: 'Loss', xLabel: 'batches processed', yLabel: 'loss' });
  await writeFileAtomic(join(dir, 'losses.svg'), svg);
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * A chart whose SVG sits beside its PNG is embedded as SVG (vector: sharp at any zoom); photo
 * grids stay PNG images, which keeps report.html small.
 */
function picture(dir: string, file: string): string {
  const svgFile = join(dir, file.replace(/\.png$/, '.svg'));
  if (file.endsWith('.png') && existsSync(svgFile)) {
    const svg = readFileSync(svgFile, 'utf8');
    return `<div class="chart" data-src="${esc(file)}" role="img" aria-label="${esc(file)}">${svg}</div>`;
  }
  return `<img src="${esc(file)}" alt="${esc(file)}">`;
}

export async function writeReport(dir: string, title: string, summary: string[], epochs: EpochRecord[], images: string[]): Promise<void> {
  const rows = epochs
    .map((e) => `<tr><td>${e.epoch}</td><td>${fmt(e.train_loss)}</td><td>${fmt(e.valid_loss)}</td><td>${fmt(e.error_rate)}</td><td>${e.seconds.toFixed(1)} s</td></tr>`)
    .join('\n');
  const figs = images.filter((f) => existsSync(join(dir, f))).map((f) => `<figure>${picture(dir, f)}<figcaption>${esc(f)}</figcaption></figure>`).join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;text-align:right;border-bottom:1px solid #ddd}
figure{display:inline-block;margin:1rem;vertical-align:top}img,.chart svg{max-width:32rem;height:auto;border:1px solid #ccc}.chart svg{display:block}</style></head>
<body><h1>${esc(title)}</h1>
<ul>${summary.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
<table id="metrics"><thead><tr><th>epoch</th><th>train_loss</th><th>valid_loss</th><th>error_rate</th><th>time</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${figs}
</body></html>
`;
  await writeFileAtomic(join(dir, 'report.html'), html);
}
