/**
 * The web app (apps/web) end to end, as a person uses it, in Debian's headless Chromium
 * whose WebGPU is SwiftShader: the test builds the page with Vite, serves it, loads the
 * counting task, runs the LR finder, trains a tiny model for an epoch (the table must show a
 * finite error rate below chance, the confusion matrix follows, TTA's error rate too),
 * predicts an image, downloads the model and has `pnpm predict` read it (same class as the
 * page), downloads the ONNX model and runs it in onnxruntime-node (same class), and loads a
 * model trained by the CLI into the page (same class as the CLI); then it loads a picked
 * folder, fine-tunes Tiny Darknet from weight files the user selects (when TESSERA_WEIGHTS
 * holds them) and stops a run. A screenshot is kept under test/output/web-app/. Skips,
 * saying why, without Chromium, a built CLI or Vite. A first, browser-free test checks that
 * the page's sources use @tessera/fastai rather than wiring loaders, learners or pictures.
 *
 * SwiftShader runs WebGPU on the CPU and compiles every WGSL pipeline there: on the 2-core
 * machine the first epoch took about 2:20, mostly compiling, and the whole file ~2:45, before
 * the LR finder (16 batches; it now pays the compiling) and TTA (4 passes over 120 images)
 * were added. Not measured since on an idle machine: on 2026-12-07, with load 30–40 from other
 * runs, the LR finder's result came 7:26 into the file, and the tests after the first took 1:50.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { CLI, tessera } from './support/cli.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '@tessera/onnx';
import type { Preprocess } from '@tessera/nn';
import { preparedImage } from '../packages/onnx/src/testing/models.js';

const ROOT = resolve(import.meta.dirname, '..');
const APP = join(ROOT, 'apps/web');
const VITE = join(APP, 'node_modules/vite/bin/vite.js');
const CHROMIUM = '/usr/bin/chromium';
const OUT = join(ROOT, 'test/output/web-app');
const DARKNET = join(resolve(process.env.TESSERA_WEIGHTS ?? join(ROOT, 'weights')), 'darknet-tiny');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const missing = !existsSync(CHROMIUM)
  ? `no ${CHROMIUM} (scripts/setup.sh --with-torch installs it)`
  : !existsSync(CLI)
    ? 'the CLI is not built (pnpm build)'
    : !existsSync(VITE)
      ? 'Vite is not installed in apps/web (pnpm install)'
      : '';
if (missing) console.log(`[web-app] skipped: ${missing}`);
const noDarknet = existsSync(join(DARKNET, 'model.json')) ? '' : `no Tiny Darknet weights at ${DARKNET} (set TESSERA_WEIGHTS)`;
if (!missing && noDarknet) console.log(`[web-app] fine-tuning from weight files skipped: ${noDarknet}`);

// The task: counting 1–2 circles (two classes, chance is 0.5 error) in 32-px images. One epoch
// from scratch needs about 60 steps to get reliably below chance (measured over seeds with the
// CLI: error 0.19–0.38 at these settings; with 15–40 steps the model often still predicts one
// class), so: 480 training images in batches of 8.
const TASK = { lo: 1, hi: 2, perClass: 300, size: 32, bs: 8, lr: '1e-3', seed: 3 };
const CLASSES = ['1', '2'];
const CHANCE = 1 - 1 / CLASSES.length;

const work = mkdtempSync(join(tmpdir(), 'tessera-web-'));
let server: Server | undefined;
let browser: Browser | undefined;
let page: Page;
let url = '';
/** One image of each class to classify, drawn by `pnpm data counting` (another seed than the training set). */
let samples: string[] = [];
const pageErrors: string[] = [];
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;


interface CliPrediction {
  file: string;
  top: { label: string; index: number; prob: number }[];
}

function cliPredict(model: string, images: string[]): CliPrediction[] {
  const r = tessera(['predict', model, ...images, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CliPrediction[];
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.wasm': 'application/wasm',
};

/** A static server for the built page (what any web server does with `dist/`). */
function serve(dir: string): Promise<Server> {
  const s = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname));
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((done) => s.listen(0, '127.0.0.1', () => done(s)));
}

/** The epoch table's rows as numbers (the CLI's columns). */
async function epochRows(p: Page) {
  const rows = await p.$$eval('#epochs-table tbody tr.epoch', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  return rows.map(([epoch, train_loss, valid_loss, error_rate, time]) => ({
    epoch: Number(epoch), train_loss: Number(train_loss), valid_loss: Number(valid_loss), error_rate: Number(error_rate), time,
  }));
}

/** Predicts one image through the page's file picker; returns the rows of its table. */
async function pagePredict(p: Page, image: string): Promise<{ label: string; prob: number }[]> {
  await p.evaluate(() => {
    const el = document.getElementById('prediction')!;
    delete el.dataset.state;
  });
  await p.setInputFiles('#image-input', image);
  await p.waitForSelector('#prediction[data-state=done], #prediction[data-state=error]', { timeout: 240_000 });
  const state = await p.getAttribute('#prediction', 'data-state');
  expect(state, await p.textContent('#model-status') ?? '').toBe('done');
  return p.$$eval('#prediction-table tbody tr', (trs) =>
    trs.map((tr) => ({ label: tr.cells[0]!.textContent ?? '', prob: Number.parseFloat(tr.cells[1]!.textContent ?? '') / 100 })),
  );
}

beforeAll(async () => {
  if (missing) return;
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const images = join(work, 'images');
  const d = tessera(['data', 'counting', '--range', `${TASK.lo}-${TASK.hi}`, '--per-class', '1', '--size', String(TASK.size), '--seed', '99', '--out', images]);
  expect(d.code, d.stderr).toBe(0);
  samples = CLASSES.map((c) => join(images, c, readdirSync(join(images, c))[0]!));
  // The page, built as `pnpm build` builds it, into a folder of the test's own.
  const dist = join(work, 'dist');
  const b = spawnSync(process.execPath, [VITE, 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], { cwd: APP, encoding: 'utf8', timeout: 300_000 });
  expect(b.status, `vite build failed:\n${b.stdout}\n${b.stderr}`).toBe(0);
  server = await serve(dist);
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/.test(m.text())) pageErrors.push(m.text());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-state=ready], body[data-state=no-gpu]', { timeout: 60_000 });
  expect(await page.getAttribute('body', 'data-state'), (await page.textContent('#device')) ?? '').toBe('ready');
  console.log(`[web-app] ${await page.textContent('#device')} (${elapsed()})`);
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  rmSync(work, { recursive: true, force: true });
});

it('the page runs on @tessera/fastai: no loader, learner, TTA or picture wiring of its own', () => {
  const src = join(APP, 'src');
  const code = readdirSync(src).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(src, f), 'utf8')).join('\n');
  // What the worker imports from the packages below @tessera/fastai: the fit's cancel signal and callback base only.
  const below = [...code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'@tessera\/(nn|vision)'/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, '')).filter(Boolean));
  expect(below.sort()).toEqual(['Callback', 'CancelFitException', 'EpochRow', 'SkippedItem', 'serveLoaderWorker']);
  for (const api of ['ImageDataLoaders', 'visionLearner', 'fineTune', 'lrFind', '.tta()', 'ClassificationInterpretation', '.predict(', 'exportOnnxBytes', 'loadLearner']) {
    expect(code, api).toContain(api);
  }
});

it.skipIf(!!missing)('trains on the counting task in the page, predicts, and round-trips the model through pnpm predict', async () => {

  // 1 · data: the built-in counting task, and show_batch of the augmented training images.
  await page.fill('#count-lo', String(TASK.lo));
  await page.fill('#count-hi', String(TASK.hi));
  await page.fill('#per-class', String(TASK.perClass));
  await page.fill('#size', String(TASK.size));
  await page.fill('#bs', String(TASK.bs));
  await page.fill('#seed', String(TASK.seed));
  await page.click('#load-data');
  await page.waitForSelector('#show-batch-figure:not([hidden])', { timeout: 120_000 });
  expect(await page.textContent('#data-status')).toBe('synthetic counting 1-2: 480 training and 120 validation images (300 per class, 32 px); classes 1, 2');
  // show_batch is an SVG picture (images and their labels as text) that the page shows as an image.
  await page.waitForFunction(() => { const i = document.querySelector<HTMLImageElement>('#show-batch')!; return i.complete && i.naturalWidth > 0; });
  const grid = await page.$eval('#show-batch', (i) => ({ w: (i as HTMLImageElement).naturalWidth, h: (i as HTMLImageElement).naturalHeight, src: (i as HTMLImageElement).src }));
  expect(grid.src).toMatch(/^blob:/);
  expect(grid.w).toBeGreaterThan(3 * TASK.size);
  expect(grid.h).toBeGreaterThan(3 * TASK.size);

  // 2 · lr_find: the curve, and the learning rate field set to its valley.
  await page.check('#weights-scratch');
  await page.fill('#lr-iters', '16'); // fastai's 100 would cost minutes on SwiftShader; the curve needs only a few points
  await page.click('#lr-find');
  await page.waitForFunction(() => /valley|error/.test(document.getElementById('lr-status')?.textContent ?? '') || document.getElementById('lr-status')!.classList.contains('error'), null, { timeout: 900_000 });
  const lrStatus = (await page.textContent('#lr-status')) ?? '';
  expect(lrStatus).toMatch(/^valley \d\.\d\de[+-]\d+: the learning rate is set to \d\.\de[+-]\d+$/);
  expect(Number(await page.inputValue('#lr'))).toBeGreaterThan(0);
  await page.waitForFunction(() => { const i = document.querySelector<HTMLImageElement>('#lr-chart')!; return !i.hidden && i.complete && i.naturalWidth > 100; });
  console.log(`[web-app] ${lrStatus} (${elapsed()})`);

  // 3 · train one epoch from scratch (at the rate measured for this task); the page must stay responsive while the worker trains.
  await page.fill('#epochs', '1');
  await page.fill('#lr', TASK.lr);
  await page.click('#train');
  await page.waitForSelector('body[data-state=training]');
  let worstDelay = 0;
  for (let i = 0; i < 5; i++) {
    const delay = await page.evaluate(() => new Promise<number>((done) => {
      const t = performance.now();
      setTimeout(() => done(performance.now() - t), 0);
    }));
    worstDelay = Math.max(worstDelay, delay);
    await page.waitForTimeout(500);
  }
  expect(worstDelay).toBeLessThan(250);
  await page.waitForSelector('body[data-state=trained], body[data-state=failed]', { timeout: 600_000 });
  expect(await page.getAttribute('body', 'data-state'), (await page.textContent('#train-status')) ?? '').toBe('trained');
  const rows = await epochRows(page);
  console.log(`[web-app] trained (${elapsed()}):`, rows);
  expect(rows).toHaveLength(1);
  for (const k of ['train_loss', 'valid_loss', 'error_rate'] as const) expect(Number.isFinite(rows[0]![k]), k).toBe(true);
  expect(rows[0]!.error_rate).toBeLessThan(CHANCE);
  await page.waitForFunction(() => { const i = document.querySelector<HTMLImageElement>('#loss-chart')!; return !i.hidden && i.complete && i.naturalWidth > 100; });
  // ClassificationInterpretation's confusion matrix, then fastai's tta.
  await page.waitForFunction(() => { const i = document.querySelector<HTMLImageElement>('#confusion')!; return !document.getElementById('interpretation')!.hidden && i.complete && i.naturalWidth > 50; });
  expect(await page.textContent('#most-confused')).toMatch(/^(most confused \(actual → predicted, images\): [12] → [12] \(\d+\)|no validation image was misclassified)/);
  await page.click('#tta');
  await page.waitForFunction(() => /TTA error rate: [\d.]+$/.test(document.getElementById('tta-status')?.textContent ?? '') || document.getElementById('tta-status')!.classList.contains('error'), null, { timeout: 300_000 });
  const ttaError = Number(((await page.textContent('#tta-status')) ?? '').replace('TTA error rate: ', ''));
  console.log(`[web-app] TTA error rate ${ttaError} (${elapsed()})`);
  expect(ttaError).toBeLessThan(CHANCE);

  // 4 · predict an image, then download the model and let the CLI read it.
  const pagePred = await pagePredict(page, samples[1]!);
  expect(CLASSES).toContain(pagePred[0]!.label);
  expect(pagePred.reduce((s, r) => s + r.prob, 0)).toBeCloseTo(1, 2);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  expect(download.suggestedFilename()).toBe('model.safetensors');
  const saved = join(OUT, 'page-model.safetensors');
  await download.saveAs(saved);
  const cli = cliPredict(saved, [samples[1]!]);
  expect(cli[0]!.top[0]!.label).toBe(pagePred[0]!.label);
  expect(cli[0]!.top[0]!.prob).toBeCloseTo(pagePred[0]!.prob, 2);
  console.log(`[web-app] page and CLI agree on the page's model (${elapsed()})`);

  // 5 · the ONNX download: a standard ONNX model with the classes and preprocessing in its
  // metadata; ONNX Runtime, fed as that metadata says, predicts as the page does.
  const [onnxDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-onnx')]);
  expect(onnxDownload.suggestedFilename()).toBe('model.onnx');
  const onnxFile = join(OUT, 'page-model.onnx');
  await onnxDownload.saveAs(onnxFile);
  const onnx = readFileSync(onnxFile);
  const proto = decodeModel(onnx);
  const dims = proto.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || String(d.dimValue));
  expect(dims).toEqual(['batch', '3', String(TASK.size), String(TASK.size)]);
  const props = Object.fromEntries(proto.metadataProps!.map((e) => [e.key!, e.value!]));
  expect(JSON.parse(props['classes']!)).toEqual(CLASSES);
  const pre = JSON.parse(props['tessera.preprocess']!) as Preprocess;
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['cpu'] });
  const { nchw } = await preparedImage(samples[1]!, pre);
  const logits = (await session.run({ input: new ort.Tensor('float32', nchw, [1, 3, TASK.size, TASK.size]) }))['logits']!.data as Float32Array;
  await session.release();
  const e = [...logits].map((v) => Math.exp(v - Math.max(...logits)));
  const probs = e.map((v) => v / e.reduce((a, b) => a + b));
  const best = probs.indexOf(Math.max(...probs));
  expect(CLASSES[best]).toBe(pagePred[0]!.label);
  expect(probs[best]).toBeCloseTo(pagePred[0]!.prob, 3);
  console.log(`[web-app] ONNX Runtime agrees with the page on the downloaded model.onnx (${elapsed()})`);
  await page.screenshot({ path: join(OUT, 'web-app.png'), fullPage: true });
  expect(pageErrors).toEqual([]);
}, 1_800_000);

it.skipIf(!!missing)('loads a model trained by the CLI and predicts the classes the CLI predicts', async () => {
  const run = join(work, 'cli-run');
  const t = tessera([
    'train', `counting-${TASK.lo}-${TASK.hi}`, '--arch', 'darknet-tiny', '--no-pretrained', '--size', String(TASK.size),
    '--per-class', '100', '--epochs', '2', '--bs', String(TASK.bs), '--lr', '3e-3', '--out', run,
  ]);
  expect(t.code, t.stderr).toBe(0);
  await page.setInputFiles('#model-input', join(run, 'model.safetensors'));
  await page.waitForFunction(() => /model: darknet-tiny/.test(document.getElementById('model-status')?.textContent ?? ''), null, { timeout: 60_000 });
  expect(await page.textContent('#model-status')).toMatch(/classes 1, 2 \(model\.safetensors\)/);
  const cli = cliPredict(join(run, 'model.safetensors'), samples);
  for (const [i, image] of samples.entries()) {
    const mine = await pagePredict(page, image);
    expect(mine[0]!.label, image).toBe(cli[i]!.top[0]!.label);
    expect(mine[0]!.prob).toBeCloseTo(cli[i]!.top[0]!.prob, 2);
  }
  console.log(`[web-app] page and CLI agree on the CLI's model (${elapsed()})`);
  expect(pageErrors).toEqual([]);
}, 600_000);

it.skipIf(!!missing)('loads a folder of images, one sub-folder per class', async () => {
  const folder = join(work, 'photos');
  const d = tessera(['data', 'counting', '--range', `${TASK.lo}-${TASK.hi}`, '--per-class', '10', '--size', String(TASK.size), '--seed', '5', '--out', folder]);
  expect(d.code, d.stderr).toBe(0);
  // What the folder picker gives (<input webkitdirectory>): every file with its path inside the folder.
  await page.setInputFiles('#folder-input', folder);
  expect(await page.textContent('#folder-summary')).toBe('20 images in 2 folders (1, 2)');
  expect(await page.isChecked('#source-files')).toBe(true);
  await page.click('#load-data');
  await page.waitForFunction(() => /photos: /.test(document.getElementById('data-status')?.textContent ?? '') || document.getElementById('data-status')!.classList.contains('error'), null, { timeout: 120_000 });
  expect(await page.textContent('#data-status')).toBe(
    'photos: 16 training and 4 validation images in 2 classes (random 20% validation split); classes 1, 2',
  );
  expect(pageErrors).toEqual([]);
}, 300_000);

it.skipIf(!!missing || !!noDarknet)('fine-tunes the ImageNet Tiny Darknet from weight files the user selects', async () => {
  // On the folder just loaded; model.json and its shards, as a person would select them.
  const files = readdirSync(DARKNET).filter((f) => f === 'model.json' || /^group\d+-shard\d+of\d+/.test(f)).map((f) => join(DARKNET, f));
  await page.check('#weights-pretrained');
  await page.setInputFiles('#weights-input', files);
  await page.fill('#epochs', '1');
  await page.fill('#freeze-epochs', '1');
  await page.fill('#lr', '2e-3');
  await page.click('#train');
  await page.waitForSelector('body[data-state=trained], body[data-state=failed]', { timeout: 600_000 });
  expect(await page.getAttribute('body', 'data-state'), (await page.textContent('#train-status')) ?? '').toBe('trained');
  expect(await page.textContent('#train-status')).toBe('done; the model is ready below');
  // fastai's fine_tune: one epoch with the body frozen, then one unfrozen, each its own table part.
  const stages = await page.$$eval('#epochs-table tbody tr.stage', (trs) => trs.map((tr) => tr.textContent));
  expect(stages).toEqual(['body frozen (the new head only)', 'unfrozen (discriminative learning rates)']);
  const rows = await epochRows(page);
  expect(rows.map((r) => r.epoch)).toEqual([0, 0]);
  for (const r of rows) for (const k of ['train_loss', 'valid_loss', 'error_rate'] as const) expect(Number.isFinite(r[k]), k).toBe(true);
  expect(await page.textContent('#model-status')).toBe('model: darknet-tiny, 32px, classes 1, 2 (trained here)');
  console.log(`[web-app] fine-tuned from ${files.length} weight files (${elapsed()})`);
  expect(pageErrors).toEqual([]);
}, 600_000);

it.skipIf(!!missing)('stops training when asked, keeping the page usable', async () => {
  await page.check('#weights-scratch');
  await page.fill('#epochs', '5');
  await page.click('#train');
  await page.waitForFunction(() => /training batch/.test(document.getElementById('progress')?.textContent ?? ''), null, { timeout: 300_000 });
  await page.click('#stop');
  await page.waitForSelector('body[data-state=trained], body[data-state=failed]', { timeout: 300_000 });
  expect(await page.textContent('#train-status')).toBe('stopped; the model as it was is ready below');
  expect((await epochRows(page)).length).toBeLessThan(5);
  expect(await page.isEnabled('#train')).toBe(true);
  expect(pageErrors).toEqual([]);
}, 600_000);
