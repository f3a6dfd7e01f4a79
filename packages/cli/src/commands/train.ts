/**
 * `tessera train <dataset> [options]`: fastai's lesson 1 — fine-tune a pretrained
 * network (or train from scratch) on a folder of images or the synthetic counting
 * task, print the epoch table, and write the run folder.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gpu, initDevice, manualSeed } from '@tessera/tensor';
import { loadGemmTuningCache, saveGemmTuningCache, tuningCachePath } from '@tessera/tensor/node';
import {
  ClassificationInterpretation,
  Learner,
  checkArch,
  createNetwork,
  createVisionModel,
  tuneModelGemms,
  errorRate,
  tta,
  type Arch,
} from '@tessera/nn';
import { fileStore, saveModel } from '@tessera/nn/node';
import { BadShareLimit, GpuBatches, IMAGENET_STATS, withoutSkipped, type AugmentOptions } from '@tessera/vision';
import { showBatch, workerThreads } from '@tessera/vision/node';
import { UsageError, parseArgs } from '../args.js';
import { resolveDataset } from '../datasets.js';
import { findWeights, loadPretrained, missingWeightsMessage } from '../weights.js';
import { RunLog } from '../run-log.js';
import { writeInterpretation, writeLossChart, writeReport } from '../report.js';
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
  normalize: 'imagenet' | 'none';
  augment: Partial<AugmentOptions>;
  /** --max-bad-pct over the whole dataset (scan, training and validation), shared by every loader of the run. */
  badShareLimit: BadShareLimit;
  /** Files skipped so far: unusable when the folder was opened, or failing to decode since. */
  skippedFiles(): number;
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
  const arch = checkArch(String(o.arch ?? 'resnet34'));
  const seed = (o.seed as number | undefined) ?? 42;
  const validPct = (o['valid-pct'] as number | undefined) ?? 0.2;
  if (!(validPct > 0 && validPct < 1)) throw new UsageError(`${command}: --valid-pct must be between 0 and 1, got ${validPct}`);
  for (const k of ['bs', 'size', 'per-class'] as const) positive(k, o[k] as number | undefined);
  const synthetic = /^counting(-\d+-\d+)?$/.test(datasetArg);
  const size = (o.size as number | undefined) ?? (synthetic ? 64 : 224);
  const bs = (o.bs as number | undefined) ?? 32;
  const maxBadPct = (o['max-bad-pct'] as number | undefined) ?? 10;
  if (!(maxBadPct >= 0 && maxBadPct <= 100)) throw new UsageError(`${command}: --max-bad-pct must be between 0 and 100, got ${maxBadPct}`);
  const maxBadFraction = maxBadPct / 100;
  manualSeed(seed);
  const data = await resolveDataset(datasetArg, {
    validPct, seed, perClass: o['per-class'] as number | undefined, countingSize: size, maxBadFraction, verify: o['verify-images'] === true,
  });
  const ctx = await initDevice();
  const tuned = await loadGemmTuningCache();
  // Weights: explicit file, the default location, or a plain statement that there are none.
  const noPretrained = o.pretrained === false;
  const explicit = typeof o.pretrained === 'string' ? o.pretrained : undefined;
  const weights = noPretrained ? null : await findWeights(arch, explicit);
  if (!weights && !noPretrained && !data.synthetic) throw new UsageError(`${command}: ${missingWeightsMessage(arch)}`);
  const net = createNetwork(arch);
  if (weights) await loadPretrained(net, arch, weights);
  const model = createVisionModel(net, data.classes.length);
  const normalize = arch === 'darknet-tiny' ? 'none' : 'imagenet';
  const workers = o.workers as number | undefined;
  // Training crops come from slightly larger images (fastai's presizing) with aug_transforms' defaults
  // (flip, ±10° rotation, zoom 1–1.1, warp 0.2, lighting 0.2) and fastai's Resize crop, as the
  // blog's lesson did; counting images are drawn at `size` and only squished (all circles must stay).
  const augment: Partial<AugmentOptions> = data.synthetic ? { crop: 'squish' } : { crop: 'resize' };
  const badShareLimit = new BadShareLimit(data.train.length + data.valid.length + data.skipped, maxBadFraction, data.skipped);
  const skipping = { badShareLimit, onSkip: reportSkip };
  const trainSrc = new GpuBatches(data.train, { batchSize: bs, size, train: true, seed, normalize, threads: workerThreads, workers, workSize: data.synthetic ? size : undefined, augment, ...skipping });
  const validSrc = new GpuBatches(data.valid, { batchSize: bs, size, train: false, seed, normalize, threads: workerThreads, workers, ...skipping });
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
    `model: ${arch} with fastai's head, ${weights ? `ImageNet weights from ${weights}` : noPretrained ? 'trained from scratch (--no-pretrained)' : 'trained from scratch (synthetic data; pass --pretrained FILE to fine-tune)'}`,
    `device: ${ctx.info.vendor || 'unknown'} ${ctx.info.architecture || ''}${ctx.info.isSoftware ? ' (software adapter)' : ''}; images ${size}px, batch ${bs}`,
  ];
  return {
    o,
    setup: {
      arch, size, bs, seed, learn, trainSrc, validSrc, data, pretrained: weights, normalize, augment, badShareLimit,
      skippedFiles: () => data.skipped + trainSrc.skipped.length + validSrc.skipped.length,
      async close() {
        await trainSrc.close();
        await validSrc.close();
      },
    } as TrainSetup,
    info,
  };
}

export const trainCommand: Command = {
  summary: 'fine-tune a model on a folder of images (train <dataset> [--arch resnet34] [--epochs N] …)',
  async run(argv) {
    const t0 = performance.now();
    const { o, setup: s, info } = await setupTraining('train', argv);
    try {
      for (const line of info) console.log(line);
      if (gpu().info.isSoftware && s.size > 128 && !s.data.synthetic) {
        console.log('note: this is a software WebGPU adapter (the CPU); training at this size is slow. Try --size 128.');
      }
      const out = resolve(String(o.out ?? o.resume ?? join('runs', `${s.data.name.replace(/[^\w.-]+/g, '_')}-${s.arch}`)));
      await mkdir(out, { recursive: true });
      // A look at what the augmentation does, before training (fastai's show_batch).
      for await (const b of s.trainSrc.batches(0)) {
        const { mean, std } = s.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
        const labels = Array.from((await b.y.toArray()) as Int32Array, (i) => s.data.classes[i]!);
        await showBatch(b.x, labels, join(out, 'show_batch.png'), { mean, std, maxN: 9, ncols: 3 });
        b.x.dispose();
        b.y.dispose();
        break;
      }
      const epochs = (o.epochs as number | undefined) ?? (s.pretrained ? 4 : 3); // the blog: 4 fine-tuning, 3 counting
      const freezeEpochs = (o['freeze-epochs'] as number | undefined) ?? 1;
      const resume = o.resume ? resolve(String(o.resume)) : undefined;
      const log = new RunLog(out, s.pretrained ? freezeEpochs : 0);
      log.skippedFiles = s.skippedFiles;
      if (resume) await log.resumeFrom(resume);
      s.learn.addCbs([log]);
      const fit = s.pretrained
        ? () => s.learn.fineTune(epochs, (o.lr as number | undefined) ?? 2e-3, { freezeEpochs, checkpoint: out, resume })
        : () => s.learn.fitOneCycle(epochs, (o.lr as number | undefined) ?? 1e-3, { checkpoint: out, resume });
      try {
        await fit();
      } catch (e) {
        if ((e as Error).name === 'OutOfMemoryError') {
          throw new UsageError(`train: out of GPU memory at batch size ${s.bs} and ${s.size}px (${(e as Error).message}); try --bs ${Math.max(1, s.bs >> 1)}`);
        }
        throw e;
      }
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
      summary.push(`total time: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      await writeReport(out, `Tessera run: ${s.data.name} (${arch})`, summary, log.epochs, ['show_batch.png', 'losses.png', 'confusion.png', 'top_losses.png']);
      console.log(`wrote ${out}: model.safetensors, metrics.json, metrics.csv, show_batch.png, losses.png, confusion.png, top_losses.png, report.html`);
      return 0;
    } finally {
      await s.close();
    }
  },
};
