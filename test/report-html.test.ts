/**
 * A run's report.html as a person sees it: a tiny training run through the CLI, then
 * Debian's headless Chromium opens the report and the test checks the epoch table
 * matches metrics.json, every picture loaded and the charts are embedded SVG. A screenshot is kept in the
 * run folder. Skips, saying why, without Chromium or a built CLI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'packages/cli/dist/main.js');
const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM) ? `no ${CHROMIUM} (scripts/setup.sh --with-torch installs it)` : !existsSync(CLI) ? 'the CLI is not built (pnpm build)' : '';
if (missing) console.log(`[report-html] skipped: ${missing}`);

const work = mkdtempSync(join(tmpdir(), 'tessera-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.skipIf(!!missing)('report.html shows the epoch table and every picture in headless Chromium', async () => {
  const out = join(work, 'run');
  const r = spawnSync(
    process.execPath,
    [CLI, 'train', 'counting-1-2', '--arch', 'darknet-tiny', '--no-pretrained', '--size', '16', '--per-class', '16', '--epochs', '2', '--bs', '8', '--out', out],
    { encoding: 'utf8', timeout: 300_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { error_rate: number }[];
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(pathToFileURL(join(out, 'report.html')).href);
    const rows = await page.locator('#metrics tbody tr').count();
    expect(rows).toBe(metrics.length);
    const firstError = await page.locator('#metrics tbody tr').first().locator('td').nth(3).innerText();
    expect(Number(firstError)).toBeCloseTo(metrics[0]!.error_rate, 5);
    // Photo grids are PNG images; the charts are embedded SVG (sharp at any zoom) with real text.
    const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0 })));
    expect(images.map((i) => i.src)).toEqual(['show_batch.png', 'top_losses.png']);
    for (const i of images) expect(i.ok, `${i.src} did not load`).toBe(true);
    const charts = await page.$$eval('.chart', (divs) => divs.map((d) => {
      const svg = d.querySelector('svg')!;
      const box = svg.getBoundingClientRect();
      return { src: d.getAttribute('data-src'), width: box.width, texts: [...svg.querySelectorAll('text')].map((t) => t.textContent) };
    }));
    expect(charts.map((c) => c.src)).toEqual(['losses.png', 'confusion.png']);
    for (const c of charts) expect(c.width, c.src!).toBeGreaterThan(100);
    expect(charts[0]!.texts).toContain('Loss');
    expect(charts[1]!.texts).toContain('Predicted');
    for (const f of ['losses.png', 'losses.svg', 'confusion.png', 'confusion.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    await page.screenshot({ path: join(out, 'report.png'), fullPage: true });
    expect(existsSync(join(out, 'report.png'))).toBe(true);
  } finally {
    await browser.close();
  }
});
