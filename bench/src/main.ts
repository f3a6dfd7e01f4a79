/**
 * `pnpm bench [--filter <word>] [--json <file>] [--reps <n>] [--tfjs | --no-tfjs] [--gemm-variant <v>] [--tfjs-flags <json>]`: runs the benchmark
 * cases (cases/index.ts) on this machine's WebGPU adapter, each against baselines
 * measured in the same run, prints a table and optionally writes the records as JSON:
 * [{ name, shape, ms, rate, unit, gflops?, refs: [{ name, ms, note? }], skipped?, extra? }]
 * (ms: median per run; rate in unit: GFLOP/s, GB/s or img/s).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { adapterProfile, chooseGemmVariant, gemmSubgroupLanes, gemmVariantUnsupported, gpu, initDevice, probeGemmSubgroupSize, setConvAlgorithm, setGemmVariant, type ConvAlgorithm, type GemmVariant } from '@tessera/tensor';
import { loadGemmTuningCache, tuningCachePath } from '@tessera/tensor/node';
import { configureTfjs } from './baselines/tfjs.js';
import { ALL_CASES } from './cases/index.js';
import { benchRecord, textTable, type BenchRecord } from './harness.js';
import { runBrowserBench } from './browser/index.js';
import { formatModelTable, runModelBench, tfjsRowSetting } from './model/run.js';
import { BENCH_MODELS, type BenchModelName } from './model/step.js';

interface Args {
  filter?: string;
  json?: string;
  reps: number;
  /** --tfjs (true), --no-tfjs (false), or neither: the default of the mode (see tfjsDefault). */
  tfjs?: boolean;
  browser: boolean;
  variant?: GemmVariant;
  convAlgorithm?: ConvAlgorithm;
  tfjsFlags?: Record<string, unknown>;
  models?: BenchModelName[];
  sizes: number[];
  batch: number;
  steps: number;
  modes: ('train' | 'eval')[];
  noTorch: boolean;
  tune: boolean;
}

const USAGE = `usage: pnpm bench [--filter <word>] [--json <file>] [--reps <n>] [--tfjs | --no-tfjs] [--browser] [--gemm-variant <v>] [--conv-algorithm <a>] [--tfjs-flags <json>]
       pnpm bench --model <name[,name…]> [--sizes 128,224] [--batch 16] [--steps 3] [--modes train,eval] [--no-torch] [--tfjs] [--tune] [--json <file>]
  --filter <word>       run only the cases whose name or shape contains <word>
  --json <file>         also write the results as JSON records
  --reps <n>            timed repetitions of our kernels (median kept; default 5)
  --no-tfjs             skip the TensorFlow.js baselines (quick kernel iteration)
  --tfjs                run them even where they are off by default: the --model row on a
                        software adapter (TF.js's filter gradients make a ResNet step minutes long there)
  --browser             also run the matmul and convolution cases in headless Chromium (its WebGPU:
                        SwiftShader here) and print them beside the Node figures; slow there, so
                        combine with --filter (e.g. --filter 1024)
  --gemm-variant <v>    force every GEMM (matmul, conv) to portable | register-tiled | subgroup | subgroup-uniform
  --conv-algorithm <a>  force convolutions to gemm | winograd-2x2 | winograd-4x4 (default: Winograd for
                        3×3 stride-1 convolutions with ≥ 16 channels, F(4×4) from 6×6 outputs, F(2×2)
                        below; the implicit GEMM otherwise)
  --tfjs-flags <json>   tfjs env flags, e.g. '{"WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE":false}'
  --model <names>       whole-network steps instead of kernels: ${BENCH_MODELS.join(' | ')} (comma-separated)
  --sizes <list>        image sizes for --model (default 128,224)
  --batch <n>           batch size for --model (default 16)
  --steps <n>           timed steps per configuration after one warm-up (default 3)
  --modes <list>        train,eval (default both)
  --no-torch            skip the PyTorch CPU reference
  --tune                first measure every GEMM variant for each GEMM call of the steps and keep the
                        fastest correct one (cached per adapter and driver in ~/.cache/tessera)`;

function intList(flag: string, v: string): number[] {
  const xs = v.split(',').map((s) => Number.parseInt(s, 10));
  if (xs.some((x) => !Number.isInteger(x) || x <= 0)) throw new Error(`${flag}: expected positive integers separated by commas, got ${v}`);
  return xs;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { reps: 5, browser: false, sizes: [128, 224], batch: 16, steps: 3, modes: ['train', 'eval'], noTorch: false, tune: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--filter') args.filter = value();
    else if (a === '--json') args.json = value();
    else if (a === '--reps') args.reps = Math.max(1, Number.parseInt(value(), 10) || 5);
    else if (a === '--no-tfjs') args.tfjs = false;
    else if (a === '--tfjs') args.tfjs = true;
    else if (a === '--browser') args.browser = true;
    else if (a === '--gemm-variant') {
      const v = value();
      if (!['portable', 'register-tiled', 'subgroup', 'subgroup-uniform'].includes(v)) throw new Error(`--gemm-variant: unknown variant ${v}\n${USAGE}`);
      args.variant = v as GemmVariant;
    } else if (a === '--conv-algorithm') {
      const v = value();
      if (!['gemm', 'winograd-2x2', 'winograd-4x4'].includes(v)) throw new Error(`--conv-algorithm: unknown algorithm ${v}\n${USAGE}`);
      args.convAlgorithm = v as ConvAlgorithm;
    } else if (a === '--tfjs-flags') args.tfjsFlags = JSON.parse(value()) as Record<string, unknown>;
    else if (a === '--model') {
      const names = value().split(',');
      for (const n of names) if (!BENCH_MODELS.includes(n as BenchModelName)) throw new Error(`--model: unknown model ${n}; choose from ${BENCH_MODELS.join(', ')}`);
      args.models = names as BenchModelName[];
    } else if (a === '--sizes') args.sizes = intList(a, value());
    else if (a === '--batch') args.batch = intList(a, value())[0]!;
    else if (a === '--steps') args.steps = intList(a, value())[0]!;
    else if (a === '--modes') {
      const modes = value().split(',');
      if (modes.some((m) => m !== 'train' && m !== 'eval')) throw new Error(`--modes: expected train and/or eval, got ${modes.join(',')}`);
      args.modes = modes as ('train' | 'eval')[];
    } else if (a === '--no-torch') args.noTorch = true;
    else if (a === '--tune') args.tune = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

/** Node and browser figures side by side, paired by case and shape. */
function browserTable(node: BenchRecord[], browser: BenchRecord[]): string {
  const num = (x: number | undefined, d: number) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '—');
  const rows = browser.map((b) => {
    const n = node.find((r) => `browser ${r.name}` === b.name && r.shape === b.shape);
    const ratio = n && Number.isFinite(n.rate) && Number.isFinite(b.rate) ? `${(n.rate / b.rate).toFixed(1)}x` : '—';
    return [b.name.replace(/^browser /, ''), b.shape, num(n?.rate, 2), num(b.rate, 2), b.unit, ratio];
  });
  return `same kernels, two adapters (Node: Dawn on this machine's adapter; browser: headless Chromium's WebGPU):\n${table([['case', 'shape', 'node rate', 'browser rate', 'unit', 'node/browser'], ...rows])}`;
}

/** Case, shape and unit columns read left-aligned; numbers right-aligned. */
const table = (rows: string[][]): string => textTable(rows, [0, 1, 4]);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const ctx = await initDevice();
  const sg = await probeGemmSubgroupSize();
  const info = gpu().info;
  console.log(`adapter: ${info.vendor} ${info.architecture} — ${info.description}${info.driverBoundsChecksOnly ? "; Dawn's shader bounds checks off (the driver checks every access; TESSERA_DAWN_ROBUSTNESS=1 keeps them)" : ''}`);
  console.log(
    `subgroups: ${ctx.hasSubgroups ? `${info.subgroupMinSize}..${info.subgroupMaxSize} (probe saw ${sg})` : 'none'}; ` +
      `GEMM variant: ${chooseGemmVariant()}; adapter profile: ${adapterProfile().kind}${ctx.hasSubgroups ? `; subgroup GEMM lanes: ${gemmSubgroupLanes()}` : ''}`,
  );
  if (args.variant) {
    const why = gemmVariantUnsupported(args.variant);
    if (why) throw new Error(`--gemm-variant ${args.variant}: ${why}`);
    setGemmVariant(args.variant);
    console.log(`GEMM variant forced to ${args.variant} for every GEMM`);
  }
  if (args.convAlgorithm) {
    setConvAlgorithm(args.convAlgorithm);
    console.log(`convolutions forced to ${args.convAlgorithm}`);
  }
  configureTfjs({ disabled: args.tfjs === false ? 'disabled by --no-tfjs' : undefined, flags: args.tfjsFlags });
  if (args.tfjsFlags) console.log(`tfjs flags: ${JSON.stringify(args.tfjsFlags)}`);
  // The machine may be shared: the load says how many cores the adapter's threads competed for.
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`load average at start: ${load()}`);
  if (args.models) {
    await modelBench(args, load);
    return;
  }
  const word = args.filter?.toLowerCase();
  const cases = ALL_CASES.filter((c) => !word || c.name.toLowerCase().includes(word) || c.shape.toLowerCase().includes(word));
  if (cases.length === 0) throw new Error(`no case matches --filter ${args.filter}`);

  const records: BenchRecord[] = [];
  const notes: string[] = [];
  const t0 = performance.now();
  for (const c of cases) {
    process.stderr.write(`${c.name} ${c.shape} …\n`);
    const started = performance.now();
    const r = await c.run({ reps: args.reps, log: (m) => process.stderr.write(`${m}\n`) });
    records.push(benchRecord(c, r));
    if (r.skipped) notes.push(`${c.name} ${c.shape}: SKIPPED — ${r.skipped}`);
    for (const n of r.notes ?? []) notes.push(`${c.name} ${c.shape}: ${n}`);
    for (const ref of r.refs) if (ref.note) notes.push(`${c.name} ${c.shape}: ${ref.name} ${ref.note}`);
    process.stderr.write(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }

  const refNames = [...new Set(records.flatMap((r) => r.refs.map((x) => x.name)))];
  const head = ['case', 'shape', 'ms', 'rate', 'unit', ...refNames.flatMap((n) => [`${n} ms`, 'rate', 'speedup'])];
  const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  const rows = records.map((r) => {
    // The same work per run for ours and the baselines: their rate is ours scaled by the time ratio.
    return [
      r.name,
      r.shape,
      num(r.ms, 1),
      num(r.rate, 2),
      r.unit,
      ...refNames.flatMap((n) => {
        const ref = r.refs.find((x) => x.name === n);
        if (!ref || r.skipped) return ['—', '—', '—'];
        return [num(ref.ms, 1), num((r.rate * r.ms) / ref.ms, 2), `${num(ref.ms / r.ms, 1)}x`];
      }),
    ];
  });
  console.log(`\n${table([head, ...rows])}\n`);
  console.log(
    `ms: median per run after a warm-up (ours over ${args.reps} repetitions unless a note says fewer, interleaved with up to 3 of tfjs; naive over 3).`,
  );
  for (const n of notes) console.log(`  ${n}`);
  if (args.browser) {
    const browser = await runBrowserBench({ filter: args.filter, reps: args.reps, log: (m) => process.stderr.write(`${m}\n`) });
    console.log(`\n${browserTable(records, browser)}\n`);
    records.push(...browser);
  }
  console.log(`total bench time: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`load average at end: ${load()}`);
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(records, null, 2)}\n`);
    console.log(`wrote ${records.length} records to ${args.json}`);
  }
}

async function modelBench(args: Args, load: () => string): Promise<void> {
  const t0 = performance.now();
  const cached = await loadGemmTuningCache();
  console.log(`GEMM tuning: ${cached ? `${cached} tuned calls loaded from ${tuningCachePath()}` : 'none cached for this adapter (default variants)'}`);
  const tfjs = tfjsRowSetting(args.tfjs, gpu().info.isSoftware);
  if (tfjs !== true) console.log(`TF.js row: ${tfjs}`);
  const records = await runModelBench({
    models: args.models!,
    sizes: args.sizes,
    batch: args.batch,
    steps: args.steps,
    modes: args.modes,
    torch: !args.noTorch,
    tune: args.tune,
    tfjs,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  console.log(`\n${formatModelTable(records)}\n`);
  console.log(
    'img/s and ms/step: median of the timed steps (forward, cross-entropy, backward, Adam step; train-mode BatchNorm), each awaited, no readback inside.\n' +
      'GEMM ms / kernels ms: device time (timestamp queries) of the GEMM-like kernels / of all kernels in one more, profiled step; step/GEMM = ms/step ÷ GEMM ms.\n' +
        'Winograd ms: device time of Winograd\'s transforms (its products are GEMMs); step/conv = ms/step ÷ (GEMM ms + Winograd ms), all convolution work.\n' +
      'peak: most device memory the buffer pool held during the steps (weights, optimizer state, activations, gradients, pool slack); act/img: (peak − what lives between steps: weights, optimizer state, input) ÷ batch.\n' +
      `PyTorch: bench/torch/step_bench.py, the same step on the CPU with torch.set_num_threads(${availableParallelism()}), same run; ratio = ours ÷ PyTorch.`,
  );
  for (const r of records) {
    const top = Object.entries(r.top_other ?? {}).map(([k, v]) => `${k} ${v} ms`).join(', ');
    if (top) console.log(`  ${r.name} slowest non-GEMM kernels: ${top}`);
  }
  console.log(`total bench time: ${((performance.now() - t0) / 1000).toFixed(0)} s; load average at end: ${load()}`);
  if (args.json) {
    writeFileSync(args.json, `${JSON.stringify(records, null, 2)}\n`);
    console.log(`wrote ${records.length} records to ${args.json}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
