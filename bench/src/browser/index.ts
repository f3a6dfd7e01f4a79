/**
 * `runBrowserBench`: the matmul and convolution benchmark cases inside Debian's headless
 * Chromium, on its navigator.gpu (SwiftShader here) — the same kernels as the Node run,
 * on a different adapter. page.ts is bundled with esbuild for the browser (our kernels
 * only: @tessera/tensor's browser build, no TensorFlow.js, no Node built-ins), served
 * from a loopback HTTP server (WebGPU needs a secure context, which localhost is) and
 * driven with playwright-core. Records come back named "browser <case>", in the same
 * BenchRecord shape as the Node run.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRecord } from '../harness.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import type { PageBenchOptions, PageBenchResult } from './page.js';

export { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

export interface BrowserBenchOptions {
  /** Runs only the cases whose name or shape contains this word (as `pnpm bench --filter`). */
  filter?: string;
  /** Timed repetitions of our kernels (median kept). */
  reps: number;
  /** Progress and notes, one line per call: the adapter first, the cases' notes last. */
  log: (m: string) => void;
}

/**
 * The page's modules, bundled for the browser. The harness's between-repetition garbage
 * collection reaches V8 through node:v8 and node:vm: a page has no such hook, so they
 * become stubs there (collectGarbage turns into a no-op). The TensorFlow.js baseline is
 * disabled in the page; its lazily imported packages stay out of the bundle.
 */
async function bundlePage(): Promise<string> {
  const { build } = await import('esbuild');
  const here = dirname(fileURLToPath(import.meta.url));
  // From bench/dist (compiled): page.js, with @tessera/tensor's built dist. From the
  // sources (tsx): page.ts, with the workspace's TypeScript through "development".
  const compiled = existsSync(join(here, 'page.js'));
  const out = await build({
    entryPoints: [join(here, compiled ? 'page.js' : 'page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    conditions: compiled ? [] : ['development'],
    external: ['@tensorflow/*'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'no-node-gc-hook',
        setup(b) {
          b.onResolve({ filter: /^node:(v8|vm)$/ }, (a) => ({ path: a.path, namespace: 'gc-hook-stub' }));
          b.onLoad({ filter: /.*/, namespace: 'gc-hook-stub' }, () => ({
            contents: 'export function setFlagsFromString() {}\nexport function runInNewContext() { return undefined; }\n',
            loader: 'js',
          }));
        },
      },
    ],
  });
  return out.outputFiles[0]!.text;
}

function serve(script: string): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><title>tessera bench</title><script type="module" src="/bench.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/bench.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Runs the matmul and convolution cases (bench/src/cases/matmul.ts, conv.ts) in headless
 * Chromium and returns their records, named "browser <case>". Throws with the reason
 * when Chromium or its WebGPU is missing.
 */
export async function runBrowserBench(opts: BrowserBenchOptions): Promise<BenchRecord[]> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`--browser needs Debian's Chromium at ${CHROMIUM}: run scripts/install-test-deps.sh (or apt-get install chromium)`);
  }
  const script = await bundlePage();
  const { chromium } = await import('playwright-core');
  const server = await serve(script);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], headless: true });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.exposeFunction('tesseraBenchLog', (m: string) => opts.log(m));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => typeof window.tesseraBench === 'function', undefined, { timeout: 60_000 }).catch(() => {
      throw new Error(`the bench page did not start${errors.length ? `: ${errors.join('; ')}` : ''}`);
    });
    const hasGpu = await page.evaluate(() => 'gpu' in navigator);
    if (!hasGpu) throw new Error(`Chromium at ${CHROMIUM} exposes no navigator.gpu (flags: ${CHROMIUM_ARGS.join(' ')})`);
    const args: PageBenchOptions = { reps: opts.reps, ...(opts.filter ? { filter: opts.filter } : {}) };
    const result: PageBenchResult = await page.evaluate((a) => window.tesseraBench(a), args);
    for (const n of result.notes) opts.log(`  ${n}`);
    return result.records;
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
