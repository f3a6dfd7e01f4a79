/**
 * `pnpm bench --model <name>`: whole-network training and eval steps at batch 16,
 * 128² and 224², beside PyTorch on the CPU in the same run. Per configuration:
 *  - images/s and ms per step (median of timed steps after a warm-up step, each
 *    step awaited with sync(), no readback inside it);
 *  - one more step profiled with timestamp queries: device time per kernel, split
 *    into GEMM-like kernels (matmul and the convolution GEMMs) and everything else;
 *  - dispatches and submits per step; peak device memory the pool held
 *    (model + optimizer state + activations + pool slack) and activations per image.
 */
import { canProfile, gpu, memoryStats, queueStats, recordGemms, resetPeak, startProfile, stopProfile, sync, trimPool, tuneGemms } from '@tessera/tensor';
import { saveGemmTuningCache } from '@tessera/tensor/node';
import { type Module, setConvBnFusion } from '@tessera/nn';
import { median, textTable } from '../harness.js';
import { type BenchModelName, buildNetwork, evalStepper, trainStepper } from './step.js';
import { torchStep, type TorchResult } from './torch-ref.js';
import { raceTfjs, type TfjsRace } from './tfjs-step.js';

export interface ModelRecord {
  name: string;
  imgs_per_s: number;
  step_ms: number;
  /** Host time to encode and submit the step (until step() returns; the device runs meanwhile). */
  encode_ms: number;
  /** Device time of GEMM-like kernels in one profiled step. */
  gemm_ms: number;
  /** Device time of all kernels in that profiled step. */
  kernels_ms: number;
  /** Of the non-GEMM time: Winograd's transforms (winograd_* kernels), the convolution work that is not products. */
  winograd_ms: number;
  dispatches: number;
  submits: number;
  peak_bytes: number;
  /** (peak − what lives between steps: weights, optimizer state, input) / batch: activations, gradients, workspace. */
  activation_bytes_per_image: number;
  refs: { name: string; imgs_per_s: number; step_ms: number }[];
  /** Eval only: images/s with the conv → BatchNorm → activation fusion turned off (same run). */
  unfused_imgs_per_s?: number;
  /** The slowest non-GEMM kernels of the profiled step: name → ms. */
  top_other?: Record<string, number>;
  /** The same step in TF.js (tfjs-layers on tfjs-backend-webgpu, same adapter), timed alternately with ours; or why not. */
  tfjs?: (TfjsRace & { model: BenchModelName; ratio: number }) | { skipped: string };
}

/**
 * Whether the TF.js row runs: `--tfjs` / `--no-tfjs` when given; otherwise on for a hardware
 * adapter and off for a software one, where TF.js's ResNet step takes minutes (its filter
 * gradient is a direct loop per weight, 44–79× slower than ours: docs/performance.md).
 */
export function tfjsRowSetting(flag: boolean | undefined, isSoftware: boolean): true | string {
  if (flag === true) return true;
  if (flag === false) return 'disabled by --no-tfjs';
  return isSoftware ? 'off on a software adapter (a TF.js ResNet step takes minutes there); --tfjs runs it' : true;
}

export interface ModelBenchOptions {
  models: BenchModelName[];
  sizes: number[];
  batch: number;
  steps: number;
  modes: ('train' | 'eval')[];
  torch: boolean;
  /** Tune the GEMMs of each configuration first (cached on disk, so only once per adapter). */
  tune: boolean;
  /**
   * Race the same step in TF.js (ResNets only; ResNet-18 stands in when TF.js cannot run ResNet-34),
   * or the reason it is off, which each record's `tfjs.skipped` repeats.
   */
  tfjs: true | string;
  log: (m: string) => void;
}

/** Records the GEMM calls of one step and tunes the ones not yet in the table; saves the table. */
async function tuneStep(model: Module, mode: 'train' | 'eval', batch: number, size: number, log: (m: string) => void): Promise<void> {
  const s = mode === 'train' ? trainStepper(model, batch, size) : evalStepper(model, batch, size);
  try {
    const { calls } = recordGemms(() => s.step());
    await sync();
    const t0 = performance.now();
    const tuned = await tuneGemms(calls, { log });
    const n = Object.keys(tuned).length;
    if (n) log(`  tuned ${n} of ${calls.length} GEMM calls in ${((performance.now() - t0) / 1000).toFixed(0)} s; table saved to ${await saveGemmTuningCache()}`);
    else log(`  all ${calls.length} GEMM calls were already tuned (cache)`);
  } finally {
    s.dispose();
  }
}

const isGemm = (kernel: string) => kernel.startsWith('gemm_');
const isWinogradTransform = (kernel: string) => kernel.startsWith('winograd_');

async function measure(model: Module, mode: 'train' | 'eval', batch: number, size: number, steps: number, profile = true) {
  await sync();
  trimPool();
  resetPeak();
  const s = mode === 'train' ? trainStepper(model, batch, size) : evalStepper(model, batch, size);
  s.step(); // warm-up: compiles pipelines, creates optimizer state, fills the pool
  await sync();
  // What lives between steps: weights, BatchNorm buffers, optimizer state, the input batch.
  const resident = memoryStats().bytesLive;
  const times: number[] = [];
  const encodes: number[] = [];
  let perStep = { dispatches: 0, submits: 0 };
  for (let i = 0; i < steps; i++) {
    const a = queueStats();
    const t0 = performance.now();
    s.step();
    encodes.push(performance.now() - t0);
    await sync();
    times.push(performance.now() - t0);
    const b = queueStats();
    perStep = { dispatches: b.dispatches - a.dispatches, submits: b.submits - a.submits };
  }
  const peak = memoryStats().peakBytesHeld;
  let gemm = Number.NaN;
  let total = Number.NaN;
  let winograd = Number.NaN;
  const other = new Map<string, number>();
  if (profile && canProfile()) {
    startProfile();
    s.step();
    await sync();
    const timings = await stopProfile();
    gemm = total = winograd = 0;
    for (const t of timings) {
      total += t.ms;
      if (isWinogradTransform(t.name)) winograd += t.ms;
      if (isGemm(t.name)) gemm += t.ms;
      else other.set(t.name, (other.get(t.name) ?? 0) + t.ms);
    }
  }
  s.dispose();
  await sync();
  const stepMs = median(times);
  const top = [...other.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return {
    stepMs,
    encodeMs: median(encodes),
    gemm,
    total,
    winograd,
    perStep,
    peak,
    activationPerImage: (peak - resident) / batch,
    top: Object.fromEntries(top.map(([k, v]) => [k, Math.round(v * 10) / 10])),
  };
}

/** The TF.js race for one configuration; ResNet-18 (ours and theirs) when TF.js cannot run ResNet-34. */
async function tfjsRow(model: Module, name: BenchModelName, mode: 'train' | 'eval', batch: number, size: number, steps: number, log: (m: string) => void): Promise<ModelRecord['tfjs']> {
  log(`  TF.js ${name} ${mode} ${size}² (alternating with ours) …`);
  let r: TfjsRace | string = await raceTfjs(model, name, mode, batch, size, steps);
  let used = name;
  if (typeof r === 'string' && name === 'resnet34') {
    log(`  TF.js could not run ResNet-34 (${r}); trying ResNet-18`);
    const small = buildNetwork('resnet18');
    try {
      r = await raceTfjs(small, 'resnet18', mode, batch, size, steps);
      used = 'resnet18';
    } finally {
      small.dispose();
    }
  }
  if (typeof r === 'string') {
    log(`  TF.js skipped: ${r}`);
    return { skipped: r };
  }
  const row = { ...r, model: used, ratio: r.tfjs_ms / r.ours_ms };
  log(
    `  TF.js ${used}: ${r.tfjs_ms.toFixed(0)} ms/step against ours ${r.ours_ms.toFixed(0)} (${row.ratio.toFixed(2)}× faster); TF.js peak ${MiB(r.tfjs_peak_bytes)}; ` +
      `its first step ${(r.tfjs_warmup_ms / 1000).toFixed(1)} s with ${r.tfjs_programs} programs compiled (pipeline creation blocked ${(r.tfjs_compile_ms / 1000).toFixed(1)} s)`,
  );
  return row;
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

export async function runModelBench(o: ModelBenchOptions): Promise<ModelRecord[]> {
  const records: ModelRecord[] = [];
  const info = gpu().info;
  o.log(`model bench on ${info.vendor} ${info.architecture}${info.driverBoundsChecksOnly ? " (Dawn's shader bounds checks off: the driver checks every access)" : ''}: batch ${o.batch}, sizes ${o.sizes.join(', ')}, ${o.steps} timed steps after 1 warm-up`);
  for (const name of o.models) {
    const model = buildNetwork(name);
    for (const size of o.sizes) {
      let refs: TorchResult[] | string = 'disabled by --no-torch';
      if (o.torch) {
        o.log(`${name} ${size}²: PyTorch CPU reference …`);
        refs = await torchStep(name, size, o.batch, o.steps, o.modes);
        if (typeof refs === 'string') o.log(`  PyTorch reference skipped: ${refs}`);
      }
      for (const mode of o.modes) {
        o.log(`${name} ${mode} ${size}² b${o.batch} …`);
        if (o.tune) await tuneStep(model, mode, o.batch, size, o.log);
        const m = await measure(model, mode, o.batch, size, o.steps);
        const ref = typeof refs === 'string' ? undefined : refs.find((r) => r.mode === mode);
        let unfused: number | undefined;
        if (mode === 'eval') {
          const prev = setConvBnFusion(false);
          try {
            unfused = (o.batch * 1000) / (await measure(model, mode, o.batch, size, o.steps, false)).stepMs;
          } finally {
            setConvBnFusion(prev);
          }
        }
        const rec: ModelRecord = {
          name: `${name}-${mode}-${size}`,
          imgs_per_s: (o.batch * 1000) / m.stepMs,
          step_ms: m.stepMs,
          encode_ms: m.encodeMs,
          gemm_ms: m.gemm,
          kernels_ms: m.total,
          winograd_ms: m.winograd,
          dispatches: m.perStep.dispatches,
          submits: m.perStep.submits,
          peak_bytes: m.peak,
          activation_bytes_per_image: m.activationPerImage,
          refs: ref ? [{ name: 'pytorch-cpu', imgs_per_s: ref.imgs_per_s, step_ms: ref.step_ms }] : [],
          ...(unfused !== undefined ? { unfused_imgs_per_s: unfused } : {}),
          top_other: m.top,
        };
        rec.tfjs = o.tfjs === true ? await tfjsRow(model, name, mode, o.batch, size, o.steps, o.log) : { skipped: o.tfjs };
        records.push(rec);
        o.log(
          `  ${rec.imgs_per_s.toFixed(2)} img/s, ${m.stepMs.toFixed(0)} ms/step (encoding ${m.encodeMs.toFixed(0)} ms); GEMM ${m.gemm.toFixed(0)} (Winograd transforms ${m.winograd.toFixed(0)}) of ${m.total.toFixed(0)} ms device time; ` +
            `${rec.dispatches} dispatches, ${rec.submits} submits; peak ${MiB(m.peak)}` +
            (unfused !== undefined ? `; without conv-BN fusion ${unfused.toFixed(2)} img/s` : '') +
            (ref ? `; PyTorch ${ref.imgs_per_s.toFixed(2)} img/s` : ''),
        );
      }
    }
    model.dispose();
  }
  return records;
}

export function formatModelTable(records: ModelRecord[]): string {
  const head = ['case', 'img/s', 'ms/step', 'GEMM ms', 'Winograd ms', 'kernels ms', 'step/GEMM', 'step/conv', 'dispatches', 'submits', 'peak', 'act/img', 'PyTorch img/s', 'ratio', 'TF.js ms/step', 'ours ms (alt.)', 'ours ÷ TF.js time', 'TF.js peak'];
  const rows = records.map((r) => {
    const ref = r.refs[0];
    return [
      r.name,
      r.imgs_per_s.toFixed(2),
      r.step_ms.toFixed(0),
      r.gemm_ms.toFixed(0),
      r.winograd_ms.toFixed(0),
      r.kernels_ms.toFixed(0),
      `${(r.step_ms / r.gemm_ms).toFixed(2)}x`,
      `${(r.step_ms / (r.gemm_ms + r.winograd_ms)).toFixed(2)}x`,
      String(r.dispatches),
      String(r.submits),
      MiB(r.peak_bytes),
      MiB(r.activation_bytes_per_image),
      ref ? ref.imgs_per_s.toFixed(2) : '—',
      ref ? `${(r.imgs_per_s / ref.imgs_per_s).toFixed(2)}x` : '—',
      ...(r.tfjs && 'tfjs_ms' in r.tfjs
        ? [`${r.tfjs.tfjs_ms.toFixed(0)}${r.tfjs.model !== r.name.split('-')[0] ? ` (${r.tfjs.model})` : ''}`, r.tfjs.ours_ms.toFixed(0), `${r.tfjs.ratio.toFixed(2)}x faster`, MiB(r.tfjs.tfjs_peak_bytes)]
        : ['—', '—', '—', '—']),
    ];
  });
  return textTable([head, ...rows]);
}
