/**
 * `node bench/dist/browser/web-cold-start.js [--epochs 3] [--runs 2] [--no-warmup] [--json FILE]`: how much
 * the web app's first epoch costs over a steady one, in Debian's headless Chromium (WebGPU on
 * SwiftShader), driven the way test/web-app.test.ts drives it: the page built with Vite and
 * served from a loopback server, the counting task loaded (1–2 discs, 300 per class, 32 px,
 * batch 8), Tiny Darknet trained from scratch.
 *
 * Each launch is a fresh browser profile, so nothing the browser caches across page loads
 * helps: this is the first visit. `--runs 2` trains a second time in the same page, which
 * shows what the page's own pipeline cache keeps. Times are wall clock seen from the page
 * (an epoch ends when its row appears; polled every 100 ms) beside the epoch's own mm:ss.
 * Not a CI test: the first epoch compiles every pipeline on the CPU and takes minutes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const APP = join(ROOT, 'apps/web');
const VITE = join(APP, 'node_modules/vite/bin/vite.js');
const TASK = { lo: 1, hi: 2, perClass: 300, size: 32, bs: 8, lr: '1e-3', seed: 3 };
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };

interface Run {
  /** Click on Train → first training batch reported done. */
  first_step_s: number;
  /** Per epoch: wall seconds seen from the page (the first counts from the click) and the row's own mm:ss. */
  epochs: { wall_s: number; row_time: string }[];
  /** First epoch ÷ median of the others (wall). */
  first_over_steady: number;
}

function parseArgs(argv: string[]): { epochs: number; runs: number; json?: string; warmup: boolean } {
  const o: { epochs: number; runs: number; json?: string; warmup: boolean } = { epochs: 3, runs: 2, warmup: true };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--epochs' && v) (o.epochs = Number.parseInt(v, 10)), i++;
    else if (argv[i] === '--runs' && v) (o.runs = Number.parseInt(v, 10)), i++;
    else if (argv[i] === '--json' && v) (o.json = v), i++;
    else if (argv[i] === '--no-warmup') o.warmup = false;
    else throw new Error(`unknown argument ${argv[i]}; usage: web-cold-start.js [--epochs 3] [--runs 2] [--no-warmup] [--json FILE]`);
  }
  if (!(o.epochs >= 2 && o.runs >= 1)) throw new Error('--epochs must be at least 2 (a first and a steady epoch), --runs at least 1');
  return o;
}

function serve(dir: string): Promise<Server> {
  const s = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname));
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir + sep)) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((done) => s.listen(0, '127.0.0.1', () => done(s)));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(CHROMIUM)) throw new Error(`needs Debian's Chromium at ${CHROMIUM} (scripts/install-test-deps.sh)`);
  if (!existsSync(VITE)) throw new Error(`needs Vite in apps/web (pnpm install): ${VITE} is missing`);
  const work = mkdtempSync(join(tmpdir(), 'tessera-cold-'));
  const dist = join(work, 'dist');
  const b = spawnSync(process.execPath, [VITE, 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], { cwd: APP, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`vite build failed:\n${b.stdout}\n${b.stderr}`);
  const server = await serve(dist);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`load average at start: ${load()}`);
  const runs: Run[] = [];
  try {
    const page = await browser.newPage();
    // ?warmup=0: the page compiles each kernel at its first use instead of creating the steps' kernels ahead (the "before").
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/${o.warmup ? '' : '?warmup=0'}`);
    await page.waitForSelector('body[data-state=ready], body[data-state=no-gpu]', { timeout: 120_000 });
    console.log(`device: ${await page.textContent('#device')}`);
    for (const [id, v] of [['count-lo', TASK.lo], ['count-hi', TASK.hi], ['per-class', TASK.perClass], ['size', TASK.size], ['bs', TASK.bs], ['seed', TASK.seed]] as const) {
      await page.fill(`#${id}`, String(v));
    }
    await page.click('#load-data');
    await page.waitForSelector('#show-batch-figure:not([hidden])', { timeout: 600_000 });
    console.log(`data: ${await page.textContent('#data-status')}`);
    for (let r = 0; r < o.runs; r++) {
      await page.fill('#epochs', String(o.epochs));
      await page.fill('#lr', TASK.lr);
      await page.check('#weights-scratch');
      const rowsBefore = await page.$$eval('#epochs-table tbody tr.epoch', (trs) => trs.length);
      const t0 = performance.now();
      await page.click('#train');
      let firstStep = NaN;
      const ends: number[] = [];
      for (;;) {
        const s = await page.evaluate(() => ({
          state: document.body.dataset.state ?? '',
          progress: document.getElementById('progress')?.textContent ?? '',
          rows: document.querySelectorAll('#epochs-table tbody tr.epoch').length,
        }));
        const t = (performance.now() - t0) / 1000;
        if (Number.isNaN(firstStep) && /training batch [1-9]/.test(s.progress)) firstStep = t;
        while (rowsBefore + ends.length < s.rows) ends.push(t);
        if (s.state === 'trained' || s.state === 'failed') break;
        await new Promise((done) => setTimeout(done, 100));
      }
      if ((await page.getAttribute('body', 'data-state')) !== 'trained') throw new Error(`training failed: ${await page.textContent('#train-status')}`);
      const times = await page.$$eval('#epochs-table tbody tr.epoch', (trs) => trs.map((tr) => tr.lastElementChild?.textContent ?? ''));
      const epochs = ends.map((t, i) => ({ wall_s: t - (i ? ends[i - 1]! : 0), row_time: times[rowsBefore + i] ?? '' }));
      const run: Run = { first_step_s: firstStep, epochs, first_over_steady: epochs[0]!.wall_s / median(epochs.slice(1).map((e) => e.wall_s)) };
      runs.push(run);
      console.log(
        `run ${r + 1}${r ? ' (same page: its pipelines already made)' : ' (fresh profile)'}: first training step ${firstStep.toFixed(1)} s after Train; ` +
          `epochs ${epochs.map((e) => `${e.wall_s.toFixed(1)} s (${e.row_time})`).join(', ')}; first ÷ steady = ${run.first_over_steady.toFixed(2)}× (load ${load()})`,
      );
    }
  } finally {
    await browser.close();
    await new Promise((done) => server.close(done));
    rmSync(work, { recursive: true, force: true });
  }
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ task: TASK, warmup: o.warmup, load_end: loadavg(), runs }, null, 2)}\n`);
}

main().catch((e: unknown) => {
  console.error(`web-cold-start: ${(e as Error).message}`);
  process.exit(1);
});
