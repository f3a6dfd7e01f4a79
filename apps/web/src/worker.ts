/**
 * The training worker: owns the WebGPU device, the data loaders, the learner and the model,
 * so the page never waits on a batch. It is wiring only: @tessera/fastai's calls, as a
 * TypeScript user (or the CLI) makes them — ImageDataLoaders, visionLearner, lrFind, fineTune,
 * tta, ClassificationInterpretation, predict, export — with the results posted to the page.
 */
import { initDevice, manualSeed } from '@tessera/tensor';
import { CancelFitException, Callback, type EpochRow } from '@tessera/nn';
import {
  ClassificationInterpretation, ImageDataLoaders, InferenceLearner, augTransforms, errorRate, loadLearner, plotLoss, plotLrFind,
  prepareKernels, resize, visionLearner, webWorkers, type VisionLearner,
} from '@tessera/fastai';
import type { SkippedItem } from '@tessera/vision';
import { readWeights } from './weight-files.js';
import type {
  DataRequest, EpochEvent, ModelFormat, ModelInfo, ModelRequest, Picture, Replies, Reply, Request, TopClass, TrainRequest, WorkerEvent,
} from './protocol.js';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

function emit(ev: WorkerEvent, transfer: Transferable[] = []): void {
  scope.postMessage(ev, transfer);
}

/** The page shows the SVG documents as they are (the CLI rasterises the same ones to PNG). */
function toPicture(p: { svg: string; width: number; height: number }): Picture {
  return { width: p.width, height: p.height, svg: p.svg };
}

// ---- state ------------------------------------------------------------------------

let data: { dls: ImageDataLoaders; req: DataRequest } | null = null;
/** The model predictions and downloads use: trained here or loaded from a file. */
let current: { learner: InferenceLearner; origin: string } | null = null;
/** The learner that trained `current` on the loaded data (what TTA needs); null for a loaded model. */
let trained: VisionLearner | null = null;
let stopRequested = false;
let busy = false;

function modelInfo(): ModelInfo {
  const { learner, origin } = current!;
  return { arch: learner.meta.arch, classes: [...learner.meta.classes], size: learner.meta.preprocess.size, origin };
}

/** Runs `fn` as the one GPU job at a time (training, the LR finder, TTA). */
async function exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
  if (busy) throw new Error(`${what}: training is running; wait for it or stop it`);
  busy = true;
  stopRequested = false;
  try {
    return await fn();
  } finally {
    busy = false;
    stopRequested = false;
  }
}

// ---- data and show_batch ----------------------------------------------------------

/** Decoding threads for the loaders: Web Workers of their own, so decoding overlaps the GPU's work. */
const threads = webWorkers(() => new Worker(new URL('./loader-worker.ts', import.meta.url), { type: 'module', name: 'tessera-loader' }));

/** One line on the page per image that fails to decode (the loaders skip it and carry on). */
function reportSkip(s: SkippedItem): void {
  emit({ type: 'log', text: `skipped ${s.file}: ${s.reason}` });
}

async function setData(req: DataRequest): Promise<Replies['data']> {
  if (busy) throw new Error('training is running; stop it first');
  const old = data;
  data = null;
  trained = null;
  await old?.dls.close();
  manualSeed(req.seed);
  const { source, size, validPct, seed, bs } = req;
  const common = { validPct, seed, bs, threads, onSkip: reportSkip };
  let dls: ImageDataLoaders;
  let describe: string;
  if (source.kind === 'counting') {
    // Drawn at `size` and squished, augmented only in ways that keep every disc in the picture.
    const [lo, hi] = source.range;
    dls = await ImageDataLoaders.counting({ ...common, range: [lo, hi], perClass: source.perClass, size });
    describe = `synthetic counting ${lo}-${hi}: ${dls.trainDs.length} training and ${dls.validDs.length} validation images (${source.perClass} per class, ${size} px)`;
  } else {
    // A dropped or picked folder, as from_folder: class = parent folder; train/ and valid/ give the split.
    const files = source.files.map(({ path, file }) => ({ name: path.split('/').pop()!, webkitRelativePath: path, arrayBuffer: () => file.arrayBuffer() }));
    dls = await ImageDataLoaders.fromFiles(files, { ...common, itemTfms: resize(size), batchTfms: augTransforms() });
    describe = dls.description;
  }
  data = { dls, req };
  return { describe, classes: [...dls.classes], showBatch: toPicture(await dls.showBatch()) };
}

// ---- the learner ------------------------------------------------------------------

/** visionLearner on the loaded data, with the weights the person selected (else from scratch). */
async function makeLearner(req: ModelRequest): Promise<{ learn: VisionLearner; pretrained: string | null }> {
  if (!data) throw new Error('load the data first');
  manualSeed(data.req.seed);
  const w = req.weights?.length ? await readWeights(req.weights) : null;
  const learn = await visionLearner(data.dls, req.arch, {
    pretrained: w ? w.weights : false, pretrainedSource: w?.source, metrics: [errorRate], progress: false,
  });
  return { learn, pretrained: w?.source ?? null };
}

async function lrFind(req: ModelRequest, numIt: number): Promise<Replies['lrFind']> {
  return exclusive('the LR finder', async () => {
    const { learn } = await makeLearner(req);
    try {
      const r = await learn.lrFind({ numIt });
      if (!Number.isFinite(r.valley)) throw new Error('the LR finder found no valley (the loss never fell): try more images or another architecture');
      return { valley: r.valley, chart: toPicture(await plotLrFind(r)) };
    } finally {
      learn.opt?.dispose();
      learn.model.dispose();
    }
  });
}

/** Posts every epoch row and the live loss chart; stops the fit when the page asks. */
class PageLog extends Callback {
  override order = 64;
  /** Across fine-tuning's two fits (the Recorder starts again at each). */
  readonly trainLoss: number[] = [];
  readonly validLoss: { at: number; loss: number }[] = [];
  private epochsDone = 0;
  private lastChart = 0;

  /** `frozenEpochs`: how many leading epochs are fine-tuning's frozen stage (0 from scratch). */
  constructor(private readonly frozenEpochs: number) {
    super();
  }

  private get stage(): EpochEvent['stage'] {
    if (this.frozenEpochs === 0) return 'train';
    return this.epochsDone < this.frozenEpochs ? 'frozen' : 'unfrozen';
  }

  override afterBatch(): void {
    const l = this.learn;
    if (l.training && l.recorder.losses.length) this.trainLoss.push(l.recorder.losses[l.recorder.losses.length - 1]!);
    emit({ type: 'progress', phase: l.training ? 'train' : 'valid', epoch: l.epoch, nEpoch: l.nEpoch, iter: l.iter + 1, nIter: l.nIter, smoothLoss: l.smoothLoss });
    if (l.training && performance.now() - this.lastChart > 1000) void this.chart();
    if (stopRequested) throw new CancelFitException('stopped from the page');
  }

  /** The Recorder's row for the epoch just finished (the CLI's columns). */
  row(r: EpochRow): void {
    const names = this.learn.recorder.metricNames.slice(1, -1);
    const get = (n: string) => r.values[names.indexOf(n)] ?? null;
    const ev: EpochEvent = {
      type: 'epoch', epoch: r.epoch, stage: this.stage, time: r.time, seconds: r.seconds,
      train_loss: get('train_loss'), valid_loss: get('valid_loss'), error_rate: get('error_rate'),
    };
    if (ev.valid_loss !== null) this.validLoss.push({ at: this.trainLoss.length, loss: ev.valid_loss });
    this.epochsDone++;
    emit(ev);
    void this.chart();
  }

  async chart(): Promise<void> {
    this.lastChart = performance.now();
    if (this.trainLoss.length < 2) return;
    emit({ type: 'chart', chart: toPicture(await plotLoss({ train: this.trainLoss, valid: this.validLoss })) });
  }
}

async function train(req: TrainRequest): Promise<Replies['train']> {
  return exclusive('training', async () => {
    const d = data;
    const { learn, pretrained } = await makeLearner(req);
    const log = new PageLog(pretrained ? req.freezeEpochs : 0);
    learn.addCbs([log]);
    learn.logger = (row) => log.row(row);
    emit({
      type: 'log',
      text: `model: ${req.arch} with fastai's head, ${pretrained ? `ImageNet weights from ${pretrained}` : 'trained from scratch'}; ` +
        `images ${d!.dls.size}px, batch ${d!.dls.bs}`,
    });
    // The kernels of its steps, traced and created at once, so the first epoch does not compile them one by one.
    if (req.warmup !== false) {
      const t0 = performance.now();
      const kernels = await prepareKernels(learn);
      emit({ type: 'log', text: `kernels: ${kernels} created ahead in ${((performance.now() - t0) / 1000).toFixed(1)} s` });
    }
    let stopped = false;
    try {
      // fastai's fine_tune (the frozen epoch(s), then the unfrozen ones with discriminative rates), or fit_one_cycle from scratch.
      if (pretrained) await learn.fineTune(req.epochs, req.lr, { freezeEpochs: req.freezeEpochs });
      else await learn.fitOneCycle(req.epochs, req.lr);
    } catch (e) {
      if (!(e instanceof CancelFitException)) {
        learn.model.dispose();
        throw e;
      }
      stopped = true;
    } finally {
      // The optimizer's moments live on the GPU; the model is all that is kept.
      learn.opt?.dispose();
    }
    stopped ||= stopRequested;
    current?.learner.model.dispose();
    current = { learner: new InferenceLearner(learn.model, learn.meta), origin: 'trained here' };
    trained = learn;
    // fastai's ClassificationInterpretation on the validation set, once training has seen an epoch.
    let confusion: Picture | null = null;
    let mostConfused: [string, string, number][] = [];
    if (log.validLoss.length) {
      const interp = await ClassificationInterpretation.fromLearner(learn);
      confusion = toPicture(await interp.plotConfusionMatrix());
      mostConfused = interp.mostConfused(1).slice(0, 5);
    }
    return { stopped, model: modelInfo(), confusion, mostConfused };
  });
}

/** fastai's tta on the validation set with the model trained here. */
async function tta(): Promise<Replies['tta']> {
  return exclusive('TTA', async () => {
    const learn = trained;
    if (!learn || !current || current.learner.model !== learn.model) throw new Error('TTA needs a model trained here on the loaded data');
    const r = await learn.tta();
    return { errorRate: r.errorRate };
  });
}

// ---- prediction, download, upload -------------------------------------------------

function ready(): InferenceLearner {
  if (!current) throw new Error('train a model or load a model file first');
  if (busy) throw new Error('training is running; wait for it or stop it');
  return current.learner;
}

async function predictFile(file: Blob, topk: number): Promise<Replies['predict']> {
  const learner = ready();
  const { probs } = await learner.predict(file);
  const order = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, Math.max(1, topk));
  const top: TopClass[] = order.map((i) => ({ label: learner.classes[i]!, index: i, prob: probs[i]! }));
  return { top };
}

async function exportModel(format: ModelFormat): Promise<Replies['export']> {
  const learner = ready();
  const bytes = format === 'onnx' ? await learner.exportOnnxBytes() : await learner.exportBytes();
  // A buffer of its own, so that it can be transferred to the page.
  const own = (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()) as Uint8Array<ArrayBuffer>;
  return { bytes: own, fileName: format === 'onnx' ? 'model.onnx' : 'model.safetensors' };
}

async function loadModel(file: Blob, name: string): Promise<Replies['load']> {
  if (busy) throw new Error('training is running; wait for it or stop it');
  const learner = await loadLearner(new Uint8Array(await file.arrayBuffer()), name);
  current?.learner.model.dispose();
  current = { learner, origin: name };
  return { model: modelInfo() };
}

// ---- dispatch ---------------------------------------------------------------------

async function handle(msg: Request): Promise<{ value: unknown; transfer?: Transferable[] }> {
  switch (msg.type) {
    case 'init': {
      const ctx = await initDevice();
      const i = ctx.info;
      return { value: { device: `${[i.vendor, i.architecture].filter(Boolean).join(' ') || 'unknown adapter'}${i.isSoftware ? ' (software adapter)' : ''}` } };
    }
    case 'data':
      return { value: await setData(msg.req) };
    case 'lrFind':
      return { value: await lrFind(msg.req, msg.numIt) };
    case 'train':
      return { value: await train(msg.req) };
    case 'tta':
      return { value: await tta() };
    case 'stop':
      if (busy) stopRequested = true;
      return { value: {} };
    case 'predict':
      return { value: await predictFile(msg.file, msg.topk) };
    case 'export': {
      const v = await exportModel(msg.format);
      return { value: v, transfer: [v.bytes.buffer] };
    }
    case 'load':
      return { value: await loadModel(msg.file, msg.name) };
  }
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  handle(msg).then(
    ({ value, transfer }) => scope.postMessage({ id: msg.id, type: 'ok', value } satisfies Reply, transfer),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      console.error(err);
      scope.postMessage({ id: msg.id, type: 'error', message: err.message, name: err.name } satisfies Reply);
    },
  );
};
