/**
 * `tessera train <dataset> [options]`: fastai's lesson 1 — fine-tune a pretrained
 * network (or train from scratch) on a folder of images or the synthetic counting
 * task, print the epoch table, and write the run folder. A shell over @tessera/fastai:
 * this file turns options into its calls and writes the run folder's files.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { gpu, initDevice, manualSeed } from '@tessera/tensor';
import { loadGemmTuningCache, makeFolder, saveGemmTuningCache, tuningCachePath } from '@tessera/tensor/node';
import { writeFileAtomic } from '@tessera/vision/node';
import { describeWeights, fileStore } from '@tessera/nn/node';
import {
  ClassificationInterpretation, errorRate, tuneGemms, stepKernels, visionLearner, visionLearnerFor, type ImageDataLoaders, type VisionLearner,
} from '@tessera/fastai/node';
import type { Arch, ModelArch } from '@tessera/nn';
import { UsageError, parseArgs, type OptionTable } from '../args.js';
import { openDataset, resolveDatasetArg } from '../datasets.js';
import { chooseArch, findWeights, missingWeightsMessage } from '../weights.js';
import { RunLog } from '../run-log.js';
import { writeLossChart, writeMetrics, writeReport } from '../report.js';
import { checkBatchFits, smallerBatch } from '../limits.js';
import { acquireRunLock, type RunLock } from '../run-lock.js';
import { inheritRunOptions, loadRunModel, readFinishedRun, readRunEpochs, readRunInfo, writeRunInfo, type RunInfo } from '../run-info.js';
import { COUNTING_RECIPE, defaultCountingArch } from '../counting-recipe.js';
import { graphPretrained } from '../graph-pretrained.js';
import { Startup, startupLine } from '../startup.js';
import type { Command } from './index.js';

/** Defaults that depend on the run (fine-tuning or not, counting or a folder), stated once for the run and for `--help`. */
export const TRAIN_DEFAULTS = {
  size: 224,
  /** fastai's fine_tune(base_lr=2e-3); fit_one_cycle from scratch and after --from at 1e-3. */
  lr: { fineTune: 2e-3, fit: 1e-3 },
  /** The blog's 4 fine-tuning epochs; 3 from scratch. */
  epochs: { fineTune: 4, fit: 3 },
} as const;

/** `train`'s options (and `lr-find`'s): what `--help` prints and the parser checks. */
export const TRAIN_OPTIONS = {
  arch: {
    kind: 'string', metavar: 'NAME', help: 'the network: resnet18, resnet34, resnet50 or darknet-tiny',
    defaultText: "resnet34; counting: darknet-tiny when its weights are found; a --pretrained model file's own",
  },
  pretrained: {
    kind: 'string', negatable: true, metavar: 'FILE', help: 'weights to start from; --no-pretrained trains from scratch',
    defaultText: 'the first found of $TESSERA_WEIGHTS, ./weights, the cache, the bundled Tiny Darknet',
  },
  epochs: {
    kind: 'int', help: 'epochs to train (fine-tuning: after the frozen ones)',
    defaultText: `${TRAIN_DEFAULTS.epochs.fineTune} fine-tuning, ${TRAIN_DEFAULTS.epochs.fit} from scratch; counting: ${COUNTING_RECIPE.epochs(true)} fine-tuning, ${COUNTING_RECIPE.epochs(false)} from scratch`,
  },
  'freeze-epochs': { kind: 'int', default: 1, help: 'epochs with the pretrained body frozen, first' },
  lr: { kind: 'number', help: 'the one-cycle maximum learning rate', defaultText: `${TRAIN_DEFAULTS.lr.fineTune.toExponential()} fine-tuning, ${TRAIN_DEFAULTS.lr.fit.toExponential()} otherwise` },
  bs: { kind: 'int', default: 32, help: 'images per batch' },
  size: { kind: 'int', metavar: 'PX', help: 'image side in pixels', defaultText: `${TRAIN_DEFAULTS.size}; counting: ${COUNTING_RECIPE.size}; --resume: the run's` },
  'valid-pct': { kind: 'number', default: 0.2, defaultLate: true, metavar: 'P', help: 'share of the images held out for validation, without train/ and valid/ folders' },
  seed: { kind: 'int', default: 42, defaultLate: true, help: 'seed of the split, the shuffling and the augmentation' },
  out: { kind: 'string', metavar: 'DIR', help: 'the run folder', defaultText: 'runs/<dataset>-<arch>; --resume and --from: their folder' },
  tta: { kind: 'flag', help: 'also report the error rate with test-time augmentation' },
  resume: { kind: 'string', metavar: 'DIR', help: 'continue an interrupted run from its last checkpoint' },
  'per-class': { kind: 'int', help: 'images per class of a counting dataset', defaultText: String(COUNTING_RECIPE.perClass) },
  workers: { kind: 'int', help: 'image-decoding threads (0: the main thread; at most the CPU cores)', defaultText: 'min(4, cores - 1)' },
  tune: { kind: 'flag', help: 'measure the GEMM kernel variants for this model first (cached per adapter)' },
  from: { kind: 'string', metavar: 'DIR', help: "continue a finished run with a new one-cycle schedule (its data, split, size and model)" },
  'max-bad-pct': { kind: 'number', default: 10, metavar: 'P', help: 'stop when more than this percentage of the images cannot be decoded' },
  'verify-images': { kind: 'flag', help: 'decode every image when the folder is opened, before training' },
} as const satisfies OptionTable;

export interface TrainSetup {
  name: string;
  synthetic: boolean;
  learn: VisionLearner;
  dls: ImageDataLoaders;
  /** `--from`: the finished run this one continues, whose model.safetensors was loaded. */
  from: string | null;
  runInfo: RunInfo;
  /** Start-up phases and the kernels compiled ahead (startup.ts). */
  startup: Startup;
}

function positive(name: string, v: number | undefined, lo = 1): void {
  if (v !== undefined && !(v >= lo)) throw new UsageError(`--${name} must be at least ${lo}, got ${v}`);
}

/** Shared by train and lr-find: the options checked and turned into loaders and a vision learner. */
export async function setupTraining(command: string, argv: string[], extra: OptionTable = {}) {
  const { positional, options: o } = parseArgs(command, argv, { ...TRAIN_OPTIONS, ...extra });
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
  // An imported network (model.onnx, or a model file convert made from one): graph-pretrained.ts.
  // A run --from continues an imported network's run with its own model file.
  const graph = from ? await graphPretrained(join(from, 'model.safetensors')) : typeof o.pretrained === 'string' ? await graphPretrained(String(o.pretrained)) : null;
  const arch: ModelArch = graph ? 'graph' : await chooseArch(command, o.arch ?? prior?.arch ?? (synthetic ? await defaultCountingArch() : undefined), o.pretrained);
  const seed = (o.seed as number | undefined) ?? TRAIN_OPTIONS.seed.default;
  const validPct = (o['valid-pct'] as number | undefined) ?? TRAIN_OPTIONS['valid-pct'].default;
  if (!(validPct > 0 && validPct < 1)) throw new UsageError(`${command}: --valid-pct must be between 0 and 1, got ${validPct}`);
  const size = (o.size as number | undefined) ?? prior?.size ?? (synthetic ? COUNTING_RECIPE.size : TRAIN_DEFAULTS.size);
  const bs = (o.bs as number | undefined) ?? 32;
  const maxBadPct = (o['max-bad-pct'] as number | undefined) ?? 10;
  if (!(maxBadPct >= 0 && maxBadPct <= 100)) throw new UsageError(`${command}: --max-bad-pct must be between 0 and 100, got ${maxBadPct}`);
  manualSeed(seed);
  const dataset = await resolveDatasetArg(datasetArg);
  // The device first: the kernels the last run of this model needed compile on worker threads while the data is scanned.
  const startup = new Startup(command === 'train' ? `${command} ${arch} ${size}px bs${bs} ${synthetic ? 'counting' : 'images'}` : null);
  const ctx = await initDevice();
  startup.phase('device');
  await startup.startCompileAhead();
  checkBatchFits(command, bs, size, ctx.limits);
  let workers = o.workers as number | undefined;
  const cores = availableParallelism();
  if (workers !== undefined && workers > cores) {
    // Each worker holds a copy of the dataset's state and a batch in flight: more than the cores only costs memory.
    console.log(`note: --workers ${workers} is more than the ${cores} CPU cores; using ${cores}`);
    workers = cores;
  }
  const { dls, perClass } = await openDataset(command, dataset, {
    validPct, seed, bs, size, workers, maxBadPct, verify: o['verify-images'] === true, perClass: o['per-class'] as number | undefined,
  });
  startup.phase('data scan');
  const tuned = await loadGemmTuningCache();
  // Weights: --pretrained FILE, else the lookup (required for a folder); none with --no-pretrained or --from.
  const noPretrained = o.pretrained === false;
  const weights = noPretrained || from || arch === 'graph' ? null : await findWeights(arch, typeof o.pretrained === 'string' ? o.pretrained : undefined);
  if (!weights && !graph && !noPretrained && !from && !synthetic) throw new UsageError(`${command}: ${missingWeightsMessage(arch as Arch)}`);
  startup.phase('model');
  const learnerOpts = { metrics: [errorRate], store: fileStore() };
  const learn = arch === 'graph'
    ? await visionLearnerFor(dls, {
        model: await graph!.visionModel(dls.classes.length, size), arch, graph: graph!.encoded,
        normalize: graph!.preprocess.normalize, pretrained: from ? null : String(o.pretrained),
      }, learnerOpts)
    : await visionLearner(dls, arch, { pretrained: weights ?? false, ...learnerOpts });
  if (from) await loadRunModel(learn.model, from, dls.classes);
  if (o.tune) {
    // Measures each GEMM variant for this model, batch and size once; later runs load the table.
    console.log(`tuning the GEMM kernels for ${arch} at ${size}px, batch ${bs} (once per adapter and shape) …`);
    const t0 = performance.now();
    const n = await tuneGemms(learn);
    console.log(`tuned ${n} GEMM calls in ${((performance.now() - t0) / 1000).toFixed(0)} s; saved to ${await saveGemmTuningCache()}`);
  } else if (tuned) {
    console.log(`GEMM kernels: ${tuned} tuned calls for this adapter from ${tuningCachePath()}`);
  }
  // A first run of this model here (no warm-up plan): the kernels come from tracing its steps.
  startup.traceAhead(() => stepKernels(learn));
  const info = [
    `data: ${dls.description}`,
    `model: ${arch} with fastai's head, ${from ? `continued from ${join(from, 'model.safetensors')} (unfrozen, a fresh optimizer)` : graph ? graph.describe : weights ? describeWeights(arch as Arch, weights) : noPretrained ? 'trained from scratch (--no-pretrained)' : 'trained from scratch (synthetic data; pass --pretrained FILE to fine-tune)'}`,
    `device: ${ctx.info.vendor || 'unknown'} ${ctx.info.architecture || ''}${ctx.info.isSoftware ? ' (software adapter)' : ''}; images ${size}px, batch ${bs}`,
  ];
  const setup: TrainSetup = {
    name: datasetArg, synthetic, learn, dls, from, startup,
    runInfo: { version: 1, dataset: datasetArg, arch, size, bs, seed, validPct, perClass, classes: dls.classes },
  };
  return { o, setup, info };
}

/** An out-of-memory failure anywhere in a run, as one line naming a batch size to try. */
export function withBatchHint(e: unknown, command: string, bs: number, size: number): unknown {
  if ((e as Error).name !== 'OutOfMemoryError') return e;
  return new UsageError(
    `${command}: out of GPU memory at --bs ${bs} and --size ${size} (${(e as Error).message}); try --bs ${smallerBatch(bs, size, gpu().limits)}`,
  );
}

/** The run folder: runs/<dataset>-<arch> unless --out (or, for train, the run resumed or continued) says otherwise. */
export function runFolder(o: Record<string, unknown>, s: TrainSetup, continued = true): string {
  const earlier = continued ? (o.resume ?? s.from) : undefined;
  return resolve(String(o.out ?? earlier ?? join('runs', `${s.name.replace(/[^\w.-]+/g, '_')}-${s.learn.arch}`)));
}

/** A line printed and kept for the report. */
function say(summary: string[], line: string): void {
  console.log(line);
  summary.push(line);
}

export const trainCommand: Command = {
  summary: 'fine-tune a model on a folder of images (train <dataset> [--arch resnet34] [--epochs N] …)',
  async run(argv) {
    const t0 = performance.now();
    const { o, setup: s, info } = await setupTraining('train', argv);
    const { learn, dls } = s;
    let lock: RunLock | null = null;
    try {
      for (const line of info) console.log(line);
      if (gpu().info.isSoftware && dls.size > 128 && !s.synthetic) {
        console.log('note: this is a software WebGPU adapter (the CPU); training at this size is slow. Try --size 128.');
      }
      const out = runFolder(o, s);
      await makeFolder(out);
      lock = await acquireRunLock(out, 'train');
      for (const note of lock.notes) console.log(note);
      await writeRunInfo(out, s.runInfo);
      // A look at what the augmentation does, before training (fastai's show_batch).
      await dls.showBatch({ file: join(out, 'show_batch.png') });
      // The blog: 4 fine-tuning; counting has its own recipe (counting-recipe.ts).
      const pretrained = !!learn.pretrained;
      const epochs = (o.epochs as number | undefined) ?? (s.synthetic && !s.from ? COUNTING_RECIPE.epochs(pretrained) : pretrained ? TRAIN_DEFAULTS.epochs.fineTune : TRAIN_DEFAULTS.epochs.fit);
      const freezeEpochs = (o['freeze-epochs'] as number | undefined) ?? 1;
      const resume = o.resume ? resolve(String(o.resume)) : undefined;
      // A continued run appends its epochs to the finished run's table.
      const log = s.from
        ? new RunLog(out, 0, dls.classes.length, await readRunEpochs(s.from))
        : new RunLog(out, pretrained ? freezeEpochs : 0, dls.classes.length);
      log.skippedFiles = () => dls.skippedFiles();
      if (s.from) await writeMetrics(out, log.epochs);
      if (resume) await log.resumeFrom(resume);
      learn.addCbs([log, s.startup.planSaver()]);
      await s.startup.ready();
      s.startup.phase('show_batch and waiting for the kernels compiled ahead');
      log.startup = (firstStepAt) => s.startup.report(firstStepAt);
      const lr = o.lr as number | undefined;
      // --from: fastai's learn.fit_one_cycle(epochs, lr) after fine_tune (everything trainable).
      if (pretrained && !s.from) await learn.fineTune(epochs, lr ?? TRAIN_DEFAULTS.lr.fineTune, { freezeEpochs, checkpoint: out, resume });
      else await learn.fitOneCycle(epochs, lr ?? TRAIN_DEFAULTS.lr.fit, { checkpoint: out, resume: s.from ? undefined : resume });
      await s.startup.savePlan();
      await learn.export(join(out, 'model.safetensors'));
      await writeLossChart(out, log);
      const interp = await ClassificationInterpretation.fromLearner(learn);
      // The SVG beside the PNG is what report.html embeds (sharp at any zoom).
      const confusion = await interp.plotConfusionMatrix({ file: join(out, 'confusion.png') });
      await writeFileAtomic(join(out, 'confusion.svg'), confusion.svg);
      await interp.plotTopLosses(9, { file: join(out, 'top_losses.png') });
      const summary = [...info];
      const confused = interp.mostConfused(1).slice(0, 5);
      if (confused.length) summary.push(`most confused: ${confused.map(([a, p, n]) => `${a} as ${p} (${n})`).join(', ')}`);
      if (o.tta) say(summary, `TTA error_rate: ${(await learn.tta()).errorRate.toFixed(6)}`);
      const skipped = dls.skippedFiles();
      if (skipped) say(summary, `skipped files: ${skipped} could not be decoded (named above; skipped_files in metrics.json)`);
      if (log.warnings.length) summary.push(`warning: ${log.warnings[log.warnings.length - 1]}`);
      const times = [startupLine(s.startup.report(learn.timer.firstStepAt)), ...log.timingLines()];
      for (const line of times) console.log(line);
      summary.push(...times);
      summary.push(`total time: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      await writeReport(out, `Tessera run: ${s.name} (${learn.arch})`, summary, log.epochs, ['show_batch.png', 'losses.png', 'confusion.png', 'top_losses.png']);
      console.log(`wrote ${out}: model.safetensors, metrics.json, metrics.csv, show_batch.png, losses.png, confusion.png, top_losses.png, report.html`);
      // Said again at the end, where it cannot scroll away: the run "worked" but the model is useless.
      if (log.warnings.length) console.error(`warning: ${log.warnings[log.warnings.length - 1]}`);
      return 0;
    } catch (e) {
      throw withBatchHint(e, 'train', dls.bs, dls.size);
    } finally {
      await lock?.release();
      await dls.close();
    }
  },
};
