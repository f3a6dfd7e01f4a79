/**
 * `tessera train <dataset> [options]`: fastai's lesson 1 — fine-tune a pretrained
 * network (or train from scratch) on a folder of images or the synthetic counting
 * task, print the epoch table, and write the run folder.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { gpu, initDevice, manualSeed } from '@tessera/tensor';
import { loadGemmTuningCache, makeFolder, saveGemmTuningCache, tuningCachePath } from '@tessera/tensor/node';
import {
  ClassificationInterpretation,
  Learner,
  createNetwork,
  createVisionModel,
  tuneModelGemms,
  errorRate,
  tta,
  type Arch,
} from '@tessera/nn';
import { fileStore, saveModel } from '@tessera/nn/node';
import { BadShareLimit, COUNTING_AUGMENT, GpuBatches, IMAGENET_STATS, withoutSkipped, type AugmentOptions } from '@tessera/vision';
import { showBatch, workerThreads } from '@tessera/vision/node';
import { UsageError, parseArgs } from '../args.js';
import { resolveDataset } from '../datasets.js';
import { chooseArch, describeWeights, findWeights, loadPretrained, missingWeightsMessage } from '../weights.js';
import { RunLog } from '../run-log.js';
import { writeInterpretation, writeLossChart, writeMetrics, writeReport } from '../report.js';
import { checkBatchFits, smallerBatch } from '../limits.js';
import { acquireRunLock, type RunLock } from '../run-lock.js';
import { inheritRunOptions, loadRunModel, readFinishedRun, readRunEpochs, readRunInfo, writeRunInfo, type RunInfo } from '../run-info.js';
import { COUNTING_RECIPE, defaultCountingArch } from '../counting-recipe.js';
import { Startup, startupLine } from '../startup.js';
import type { Command } from './index.js';

export const TRAIN_OPTIONS = {
  arch: { kind: 'string' },
  pretrained: { kind: 'string', negatable: true },
  epochs: { kind: 'int' },
  'freeze-epochs': { kind: 'int' },
  lr: { kind: 'number' },
  bs: { kind: 'int' },
  size: { kind: 'int' },
  'valid-pct': { kind: 'number' },
  seed: { kind: 'int' },
  out: { kind: 'string' },
  tta: { kind: 'flag' },
  resume: { kind: 'string' },
  'per-class': { kind: 'int' },
  workers: { kind: 'int' },
  tune: { kind: 'flag' },
  from: { kind: 'string' },
  'max-bad-pct': { kind: 'number' },
  'verify-images': { kind: 'flag' },
} as const;

export interface TrainSetup {
  arch: Arch;
  size: number;
  bs: number;
  seed: number;
  learn: Learner;
  trainSrc: GpuBatches;
  validSrc: GpuBatches;
  data: Awaited<ReturnType<typeof resolveDataset>>;
  pretrained: string | null;
  /** `--from`: the finished run this one continues, whose model.safetensors was loaded. */
  from: string | null;
  runInfo: RunInfo;
  normalize: 'imagenet' | 'none';
  augment: Partial<AugmentOptions>;
  /** --max-bad-pct over the whole dataset (scan, training and validation), shared by every loader of the run. */
  badShareLimit: BadShareLimit;
  /** Files skipped so far: unusable when the folder was opened, or failing to decode since. */
  skippedFiles(): number;
  /** Start-up phases and the kernels compiled ahead (startup.ts). */
  startup: Startup;
  close(): Promise<void>;
}

/** One line per image that fails to decode while loading (the loaders skip it and carry on). */
function reportSkip(s: { file: string; reason: string }): void {
  console.warn(`skipping ${s.file}: ${s.reason}`);
}

function positive(name: string, v: number | undefined, lo = 1): void {
  if (v !== undefined && !(v >= lo)) throw new UsageError(`--${name} must be at least ${lo}, got ${v}`);
}

/** Shared by train and lr-find: data, model (with weights) and learner. */
export async function setupTraining(command: string, argv: string[], extra: Record<string, { kind: 'string' | 'number' | 'int' | 'flag' }> = {}) {
  const { positional, options: o } = parseArgs(command, argv, { ...TRAIN_OPTIONS, ...extra } as Parameters<typeof parseArgs>[2]);
  const [datasetArg, ...rest] = positional;
  if (!datasetArg) throw new UsageError(`${command}: usage: ${command} <dataset | folder> [--arch resnet34] [--epochs N] [--size N] …`);
  if (rest.length) throw new UsageError(`${command}: unexpected argument '${rest[0]}'`);
  for (const k of ['size', 'per-class', 'epochs', 'freeze-epochs', 'num-it'] as const) positive(k, o[k] as number | undefined, k === 'num-it' ? 2 : 1);
  positive('workers', o.workers as number | undefined, 0);
  if (o.bs !== undefined && (o.bs as number) < 2) {
    throw new UsageError(`${command}: --bs must be at least 2 (BatchNorm needs more than one image per batch in training), got ${o.bs}`);
  }
  // --from: the data, split, size and architecture are the finished run's (run-info.ts).
  const from = o.from !== undefined ? resolve(String(o.from)) : null;
  if (from) inheritRunOptions(from, await readFinishedRun(from), datasetArg, o);
  // A resumed run keeps its image size and architecture (run.json in its folder).
  const prior = o.resume ? await readRunInfo(resolve(String(o.resume))) : null;
  for (const [k, v] of [['size', prior?.size], ['arch', prior?.arch]] as const) {
    if (prior && o[k] !== undefined && o[k] !== v) {
      throw new UsageError(`${command}: the run in ${resolve(String(o.resume))} was trained with --${k} ${v}; resume it with --${k} ${v} (or start a new run with another --out)`);
    }
  }
  const synthetic = /^counting(-\d+-\d+)?$/.test(datasetArg);
  const arch = await chooseArch(command, o.arch ?? prior?.arch ?? (synthetic ? await defaultCountingArch() : undefined), o.pretrained);
  const seed = (o.seed as number | undefined) ?? 42;
  const validPct = (o['valid-pct'] as number | undefined) ?? 0.2;
  if (!(validPct > 0 && validPct < 1)) throw new UsageError(`${command}: --valid-pct must be between 0 and 1, got ${validPct}`);
  const size = (o.size as number | undefined) ?? prior?.size ?? (synthetic ? COUNTING_RECIPE.size : 224);
  const bs = (o.bs as number | undefined) ?? 32;
  const maxBadPct = (o['max-bad-pct'] as number | undefined) ?? 10;
  if (!(maxBadPct >= 0 && maxBadPct <= 100)) throw new UsageError(`${command}: --max-bad-pct must be between 0 and 100, got ${maxBadPct}`);
  const maxBadFraction = maxBadPct / 100;
  manualSeed(seed);
  // The device first: the kernels the last run of this model needed compile on worker threads while the data is scanned.
  const startup = new Startup(command === 'train' ? `${command} ${arch} ${size}px bs${bs} ${synthetic ? 'counting' : 'images'}` : null);
  const ctx = await initDevice();
  startup.phase('device');
  await startup.startCompileAhead();
  const data = await resolveDataset(datasetArg, {
    validPct, seed, perClass: o['per-class'] as number | undefined, countingSize: size, maxBadFraction, verify: o['verify-images'] === true,
  });
  startup.phase('data scan');
  checkBatchFits(command, bs, size, ctx.limits);
  if (data.train.length < 2 || data.valid.length < 1) {
    throw new UsageError(
      `${command}: too few images: ${data.train.length} for training and ${data.valid.length} for validation; ` +
        'at least 2 and 1 are needed (give more images, e.g. a larger --per-class, or change --valid-pct)',
    );
  }
  const tuned = await loadGemmTuningCache();
  // Weights: explicit file, the default location, or a plain statement that there are none.
  const noPretrained = o.pretrained === false;
  const explicit = typeof o.pretrained === 'string' ? o.pretrained : undefined;
  const weights = noPretrained || from ? null : await findWeights(arch, explicit);
  if (!weights && !noPretrained && !from && !data.synthetic) throw new UsageError(`${command}: ${missingWeightsMessage(arch)}`);
  const net = createNetwork(arch);
  if (weights) await loadPretrained(net, arch, weights);
  const model = createVisionModel(net, data.classes.length);
  if (from) await loadRunModel(model, from, data.classes);
  const normalize = arch === 'darknet-tiny' ? 'none' : 'imagenet';
  let workers = o.workers as number | undefined;
  const cores = availableParallelism();
  if (workers !== undefined && workers > cores) {
    // Each worker holds a copy of the dataset's state and a batch in flight: more than the cores only costs memory.
    console.log(`note: --workers ${workers} is more than the ${cores} CPU cores; using ${cores}`);
    workers = cores;
  }
  // Training crops come from slightly larger images (fastai's presizing) with aug_transforms' defaults
  // (flip, ±10° rotation, zoom 1–1.1, warp 0.2, lighting 0.2) and fastai's Resize crop, as the
  // blog's lesson did; counting images are drawn at `size`, never cropped or warped (every disc stays).
  const augment: Partial<AugmentOptions> = data.synthetic ? COUNTING_AUGMENT : { crop: 'resize' };
  const badShareLimit = new BadShareLimit(data.train.length + data.valid.length + data.skipped, maxBadFraction, data.skipped);
  const skipping = { badShareLimit, onSkip: reportSkip };
  const trainSrc = new GpuBatches(data.train, { batchSize: bs, size, train: true, seed, normalize, threads: workerThreads, workers, workSize: data.synthetic ? size : undefined, augment, ...skipping });
  const validSrc = new GpuBatches(data.valid, { batchSize: bs, size, train: false, seed, normalize, threads: workerThreads, workers, ...skipping });
  startup.phase('model');
  const learn = new Learner({ train: trainSrc, valid: validSrc, classes: data.classes }, model, { metrics: [errorRate], store: fileStore() });
  if (o.tune) {
    // Measures each GEMM variant for this model, batch and size once; later runs load the table.
    console.log(`tuning the GEMM kernels for ${arch} at ${size}px, batch ${bs} (once per adapter and shape) …`);
    const t0 = performance.now();
    const entries = await tuneModelGemms(model, [bs, size, size, 3], { numClasses: data.classes.length });
    console.log(`tuned ${Object.keys(entries).length} GEMM calls in ${((performance.now() - t0) / 1000).toFixed(0)} s; saved to ${await saveGemmTuningCache()}`);
  } else if (tuned) {
    console.log(`GEMM kernels: ${tuned} tuned calls for this adapter from ${tuningCachePath()}`);
  }
  const info = [
    `data: ${data.describe}`,
    `model: ${arch} with fastai's head, ${from ? `continued from ${join(from, 'model.safetensors')} (unfrozen, a fresh optimizer)` : weights ? describeWeights(arch, weights) : noPretrained ? 'trained from scratch (--no-pretrained)' : 'trained from scratch (synthetic data; pass --pretrained FILE to fine-tune)'}`,
    `device: ${ctx.info.vendor || 'unknown'} ${ctx.info.architecture || ''}${ctx.info.isSoftware ? ' (software adapter)' : ''}; images ${size}px, batch ${bs}`,
  ];
  return {
    o,
    setup: {
      arch, size, bs, seed, learn, trainSrc, validSrc, data, pretrained: weights, from, normalize, augment, badShareLimit,
      runInfo: { version: 1, dataset: datasetArg, arch, size, bs, seed, validPct, perClass: data.perClass, classes: data.classes },
      skippedFiles: () => data.skipped + trainSrc.skipped.length + validSrc.skipped.length,
      startup,
      async close() {
        await trainSrc.close();
        await validSrc.close();
      },
    } as TrainSetup,
    info,
  };
}

/** An out-of-memory failure anywhere in a run, as one line naming a batch size to try. */
export function withBatchHint(e: unknown, command: string, bs: number, size: number): unknown {
  if ((e as Error).name !== 'OutOfMemoryError') return e;
  return new UsageError(
    `${command}: out of GPU memory at --bs ${bs} and --size ${size} (${(e as Error).message}); try --bs ${smallerBatch(bs, size, gpu().limits)}`,
  );
}

export const trainCommand: Command = {
  summary: 'fine-tune a model on a folder of images (train <dataset> [--arch resnet34] [--epochs N] …)',
  async run(argv) {
    const t0 = performance.now();
    const { o, setup: s, info } = await setupTraining('train', argv);
    let lock: RunLock | null = null;
    try {
      for (const line of info) console.log(line);
      if (gpu().info.isSoftware && s.size > 128 && !s.data.synthetic) {
        console.log('note: this is a software WebGPU adapter (the CPU); training at this size is slow. Try --size 128.');
      }
      const out = resolve(String(o.out ?? o.resume ?? s.from ?? join('runs', `${s.data.name.replace(/[^\w.-]+/g, '_')}-${s.arch}`)));
      await makeFolder(out);
      lock = await acquireRunLock(out, 'train');
      for (const note of lock.notes) console.log(note);
      await writeRunInfo(out, s.runInfo);
      // A look at what the augmentation does, before training (fastai's show_batch).
      for await (const b of s.trainSrc.batches(0)) {
        const { mean, std } = s.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
        const labels = Array.from((await b.y.toArray()) as Int32Array, (i) => s.data.classes[i]!);
        await showBatch(b.x, labels, join(out, 'show_batch.png'), { mean, std, maxN: 9, ncols: 3 });
        b.x.dispose();
        b.y.dispose();
        break;
      }
      // The blog: 4 fine-tuning; counting has its own recipe (counting-recipe.ts).
      const epochs = (o.epochs as number | undefined) ?? (s.data.synthetic && !s.from ? COUNTING_RECIPE.epochs(!!s.pretrained) : s.pretrained ? 4 : 3);
      const freezeEpochs = (o['freeze-epochs'] as number | undefined) ?? 1;
      const resume = o.resume ? resolve(String(o.resume)) : undefined;
      // A continued run appends its epochs to the finished run's table.
      const log = s.from
        ? new RunLog(out, 0, s.data.classes.length, await readRunEpochs(s.from))
        : new RunLog(out, s.pretrained ? freezeEpochs : 0, s.data.classes.length);
      log.skippedFiles = s.skippedFiles;
      if (s.from) await writeMetrics(out, log.epochs);
      if (resume) await log.resumeFrom(resume);
      s.learn.addCbs([log, s.startup.planSaver()]);
      await s.startup.ready();
      s.startup.phase('show_batch and waiting for the kernels compiled ahead');
      log.startup = (firstStepAt) => s.startup.report(firstStepAt);
      // --from: fastai's learn.fit_one_cycle(epochs, lr) after fine_tune (everything trainable).
      const fit = s.from
        ? () => s.learn.fitOneCycle(epochs, (o.lr as number | undefined) ?? 1e-3, { checkpoint: out })
        : s.pretrained
        ? () => s.learn.fineTune(epochs, (o.lr as number | undefined) ?? 2e-3, { freezeEpochs, checkpoint: out, resume })
        : () => s.learn.fitOneCycle(epochs, (o.lr as number | undefined) ?? 1e-3, { checkpoint: out, resume });
      await fit();
      await s.startup.savePlan();
      const arch = s.arch;
      await saveModel(join(out, 'model.safetensors'), s.learn.model, {
        arch,
        kind: 'vision',
        classes: s.data.classes,
        // Counting images were trained whole (squished, never cropped): a centre crop at predict
        // time would cut circles off the edges and undercount.
        preprocess: { size: s.size, normalize: s.normalize, resize: s.data.synthetic ? 'align-corners' : 'crop' },
      });
      await writeLossChart(out, log);
      const interp = await ClassificationInterpretation.fromLearner(s.learn);
      // Interpretation's positions are over the validation images that decoded.
      await writeInterpretation(out, interp, s.data.classes, withoutSkipped(s.data.valid, s.validSrc.skipped), s.size);
      const summary = [...info];
      const confused = interp.mostConfused(1).slice(0, 5);
      if (confused.length) summary.push(`most confused: ${confused.map(([a, p, n]) => `${a} as ${p} (${n})`).join(', ')}`);
      if (o.tta) {
        // Training-time augmentation over the validation images, in order and complete; each pass
        // (an "epoch" of this source) draws new augmentations.
        const augmented = new GpuBatches(s.data.valid, {
          batchSize: s.bs, size: s.size, train: true, shuffle: false, dropLast: false, seed: s.seed + 1, normalize: s.normalize,
          augment: s.augment, threads: workerThreads, badShareLimit: s.badShareLimit, skipped: s.validSrc.skipRecord,
        });
        const { probs, targets } = await tta(s.learn, { augmented: () => augmented }).finally(() => augmented.close());
        const c = s.data.classes.length;
        let wrong = 0;
        targets.forEach((t, i) => {
          let best = 0;
          for (let k = 1; k < c; k++) if (probs[i * c + k]! > probs[i * c + best]!) best = k;
          if (best !== t) wrong++;
        });
        const line = `TTA error_rate: ${(wrong / targets.length).toFixed(6)}`;
        console.log(line);
        summary.push(line);
      }
      const skipped = s.skippedFiles();
      if (skipped) {
        const line = `skipped files: ${skipped} could not be decoded (named above; skipped_files in metrics.json)`;
        console.log(line);
        summary.push(line);
      }
      if (log.warnings.length) summary.push(`warning: ${log.warnings[log.warnings.length - 1]}`);
      const times = [startupLine(s.startup.report(s.learn.timer.firstStepAt)), ...log.timingLines()];
      for (const line of times) console.log(line);
      summary.push(...times);
      summary.push(`total time: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      await writeReport(out, `Tessera run: ${s.data.name} (${arch})`, summary, log.epochs, ['show_batch.png', 'losses.png', 'confusion.png', 'top_losses.png']);
      console.log(`wrote ${out}: model.safetensors, metrics.json, metrics.csv, show_batch.png, losses.png, confusion.png, top_losses.png, report.html`);
      // Said again at the end, where it cannot scroll away: the run "worked" but the model is useless.
      if (log.warnings.length) console.error(`warning: ${log.warnings[log.warnings.length - 1]}`);
      return 0;
    } catch (e) {
      throw withBatchHint(e, 'train', s.bs, s.size);
    } finally {
      await lock?.release();
      await s.close();
    }
  },
};
