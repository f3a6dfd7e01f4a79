/**
 * The page side of `runBrowserBench` (bundled by index.ts for the browser): runs the
 * matmul and convolution cases on the page's navigator.gpu — the same cases and kernels
 * as `pnpm bench`, without the TensorFlow.js baseline — and hands back their records.
 * Bundled with stubs for the harness's Node-only garbage-collection hook (see index.ts).
 */
import { chooseGemmVariant, gpu, initDevice, probeGemmSubgroupSize } from '@tessera/tensor';
import { configureTfjs } from '../baselines/tfjs.js';
import { convCases } from '../cases/conv.js';
import { matmulCases } from '../cases/matmul.js';
import { benchRecord, type BenchRecord } from '../harness.js';

export interface PageBenchOptions {
  filter?: string;
  reps: number;
}

export interface PageBenchResult {
  adapter: string;
  records: BenchRecord[];
  notes: string[];
}

/** The prefix of every record's name: these figures come from the browser's adapter. */
export const BROWSER_PREFIX = 'browser ';

declare global {
  interface Window {
    tesseraBench(opts: PageBenchOptions): Promise<PageBenchResult>;
    /** Exposed by index.ts: progress lines to the caller's log. */
    tesseraBenchLog(msg: string): Promise<void>;
  }
}

async function run(opts: PageBenchOptions): Promise<PageBenchResult> {
  const log = (m: string) => void window.tesseraBenchLog(m);
  const ctx = await initDevice();
  const sg = await probeGemmSubgroupSize();
  const { info } = gpu();
  const adapter =
    `${info.vendor} ${info.architecture}${info.description ? ` — ${info.description}` : ''}; ` +
    `subgroups ${ctx.hasSubgroups ? `${info.subgroupMinSize}..${info.subgroupMaxSize} (probe saw ${sg})` : 'none'}; ` +
    `GEMM variant ${chooseGemmVariant()}; ${navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? navigator.userAgent}`;
  log(`browser adapter: ${adapter}`);
  configureTfjs({ disabled: 'not run in the browser (our kernels only)' });
  const word = opts.filter?.toLowerCase();
  const cases = [...matmulCases, ...convCases].filter((c) => !word || c.name.toLowerCase().includes(word) || c.shape.toLowerCase().includes(word));
  const records: BenchRecord[] = [];
  const notes: string[] = [];
  for (const c of cases) {
    log(`${BROWSER_PREFIX}${c.name} ${c.shape} …`);
    const started = performance.now();
    const r = await c.run({ reps: opts.reps, log });
    records.push(benchRecord(c, r, BROWSER_PREFIX));
    const tag = `${BROWSER_PREFIX}${c.name} ${c.shape}`;
    if (r.skipped) notes.push(`${tag}: SKIPPED — ${r.skipped}`);
    for (const n of r.notes ?? []) if (!n.startsWith('tfjs-webgpu skipped')) notes.push(`${tag}: ${n}`);
    for (const ref of r.refs) if (ref.note) notes.push(`${tag}: ${ref.name} ${ref.note}`);
    log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  return { adapter, records, notes };
}

window.tesseraBench = run;
