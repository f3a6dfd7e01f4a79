/**
 * The training worker: owns the WebGPU device, the data, the model and the Learner,
 * so the page never waits on a batch. It is wiring only — the same calls the CLI's
 * `train` and `predict` commands make (packages/cli/src/commands), with the results
 * posted to the page instead of printed.
 */
import { initDevice, manualSeed } from '@tessera/tensor';
import {
  CancelFitException, Callback, Learner, createNetwork, createVisionModel, errorRate, loadPretrained,
  modelFromBytes, modelToBytes, predict, type EpochRow, type ModelMeta, type Module,
} from '@tessera/nn';
import { COUNTING_AUGMENT, GpuBatches, IMAGENET_STATS, renderBatchGrid, renderLineChart, webWorkers, type SkippedItem } from '@tessera/vision';
import { decodeBytes, loadData, prepareInput, readWeights, type LoadedData } from './engine.js';
import type { DataRequest, EpochEvent, ModelInfo, Picture, Replies, Reply, Request, TopClass, TrainRequest, WorkerEvent } from './protocol.js';

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

interface Data extends LoadedData {
  req: DataRequest;
  trainSrc: GpuBatches;
  validSrc: GpuBatches;
  normalize: 'imagenet' | 'none';
}

let data: Data | null = null;
let current: { model: Module; meta: ModelMeta; origin: string } | null = null;
let stopRequested = false;
let training = false;

function modelInfo(): ModelInfo {
  const c = current!;
  return { arch: c.meta.arch, classes: c.meta.classes, size: c.meta.preprocess.size, origin: c.origin };
}

// ---- data and show_batch ----------------------------------------------------------

async function closeData(): Promise<void> {
  if (!data) return;
  const d = data;
  data = null;
  await d.trainSrc.close();
  await d.validSrc.close();
}

/** Decoding threads for the loaders: Web Workers of their own, so decoding overlaps the GPU's work. */
const threads = webWorkers(() => new Worker(new URL('./loader-worker.ts', import.meta.url), { type: 'module', name: 'tessera-loader' }));

/** One line on the page per image that fails to decode (the loaders skip it and carry on). */
function reportSkip(s: SkippedItem): void {
  emit({ type: 'log', text: `skipped ${s.file}: ${s.reason}` });
}

/** `prev`: the sources being replaced, whose record of undecodable images carries over (each is named once). */
function batchSources(d: LoadedData, req: DataRequest, normalize: 'imagenet' | 'none', prev?: { trainSrc: GpuBatches; validSrc: GpuBatches }) {
  // As the CLI: counting images are drawn at `size` and augmented only in ways that keep every
  // disc in the picture; real photos get fastai's presizing and aug_transforms.
  const augment = d.synthetic ? { ...COUNTING_AUGMENT } : { crop: 'resize' as const };
  const common = { batchSize: req.bs, size: req.size, seed: req.seed, normalize, threads, onSkip: reportSkip };
  return {
    trainSrc: new GpuBatches(d.train, { ...common, train: true, workSize: d.synthetic ? req.size : undefined, augment, skipped: prev?.trainSrc.skipRecord }),
    validSrc: new GpuBatches(d.valid, { ...common, train: false, skipped: prev?.validSrc.skipRecord }),
  };
}

async function showBatch(d: Data): Promise<Picture> {
  const { mean, std } = d.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
  for await (const b of d.trainSrc.batches(0)) {
    try {
      const x = (await b.x.toArray()) as Float32Array;
      const y = (await b.y.toArray()) as Int32Array;
      const labels = Array.from(y, (i) => d.classes[i]!);
      const grid = renderBatchGrid({ data: x, shape: b.x.shape }, labels, { mean, std, maxN: 9, ncols: 3 });
      return toPicture(grid);
    } finally {
      b.x.dispose();
      b.y.dispose();
    }
  }
  throw new Error('the training set has no batch to show (too few images for one batch?)');
}

async function setData(req: DataRequest): Promise<Replies['data']> {
  if (training) throw new Error('training is running; stop it first');
  await closeData();
  manualSeed(req.seed);
  const loaded = await loadData(req);
  if (loaded.train.length === 0 || loaded.valid.length === 0) {
    throw new Error(`need images for both training and validation (got ${loaded.train.length} and ${loaded.valid.length})`);
  }
  // Normalisation follows the architecture (Tiny Darknet was trained on [0, 1] RGB); the
  // batches are rebuilt when training starts with another one.
  const normalize = 'none';
  data = { ...loaded, req, normalize, ...batchSources(loaded, req, normalize) };
  return {
    describe: loaded.describe,
    classes: loaded.classes,
    showBatch: await showBatch(data),
  };
}

// ---- training ---------------------------------------------------------------------

/** Posts every epoch row and the live loss chart; stops the fit when the page asks. */
class PageLog extends Callback {
  override order = 64;
  readonly trainLoss: number[] = [];
  readonly validAt: { iter: number; loss: number }[] = [];
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
    if (l.training && performance.now() - this.lastChart > 1000) this.chart();
    if (stopRequested) throw new CancelFitException('stopped from the page');
  }

  /** The Recorder's row for the epoch just finished (the CLI's columns). */
  row(r: EpochRow): void {
    const names = this.learn.recorder.metricNames.slice(1, -1);
    const get = (n: string) => {
      const v = r.values[names.indexOf(n)];
      return v === undefined ? null : v;
    };
    const ev: EpochEvent = {
      type: 'epoch', epoch: r.epoch, stage: this.stage, time: r.time, seconds: r.seconds,
      train_loss: get('train_loss'), valid_loss: get('valid_loss'), error_rate: get('error_rate'),
    };
    if (ev.valid_loss !== null) this.validAt.push({ iter: this.trainLoss.length, loss: ev.valid_loss });
    this.epochsDone++;
    emit(ev);
    this.chart();
  }

  chart(): void {
    this.lastChart = performance.now();
    if (this.trainLoss.length < 2) return;
    const chart = renderLineChart(
      [
        { name: 'train (smoothed)', x: this.trainLoss.map((_, i) => i + 1), y: this.trainLoss },
        ...(this.validAt.length ? [{ name: 'valid', x: this.validAt.map((v) => v.iter), y: this.validAt.map((v) => v.loss) }] : []),
      ],
      { title: 'Loss', xLabel: 'batches processed', yLabel: 'loss', width: 560, height: 320 },
    );
    emit({ type: 'chart', chart: toPicture(chart) });
  }
}

async function train(req: TrainRequest): Promise<Replies['train']> {
  if (!data) throw new Error('load the data first');
  if (training) throw new Error('training is already running');
  training = true;
  stopRequested = false;
  try {
    const d = data;
    const { seed, size } = d.req;
    manualSeed(seed);
    const normalize = req.arch === 'darknet-tiny' ? 'none' : 'imagenet';
    if (normalize !== d.normalize) {
      await d.trainSrc.close();
      await d.validSrc.close();
      Object.assign(d, { normalize, ...batchSources(d, d.req, normalize, d) });
    }
    const net = createNetwork(req.arch);
    const pretrained = req.weights?.length ? await readWeights(req.weights) : null;
    if (pretrained) loadPretrained(net, req.arch, pretrained.weights, pretrained.source);
    const model = createVisionModel(net, d.classes.length);
    const learn = new Learner({ train: d.trainSrc, valid: d.validSrc, classes: d.classes }, model, { metrics: [errorRate], progress: false });
    const log = new PageLog(pretrained ? req.freezeEpochs : 0);
    learn.addCbs([log]);
    learn.logger = (row) => log.row(row);
    emit({
      type: 'log',
      text: `model: ${req.arch} with fastai's head, ${pretrained ? `ImageNet weights from ${pretrained.source}` : 'trained from scratch'}; ` +
        `images ${size}px, batch ${d.req.bs}`,
    });
    let stopped = false;
    try {
      if (pretrained) {
        // fastai's fine_tune: the frozen epoch(s), then the unfrozen ones with discriminative rates.
        await learn.fineTune(req.epochs, req.lr, { freezeEpochs: req.freezeEpochs });
      } else {
        await learn.fitOneCycle(req.epochs, req.lr);
      }
    } catch (e) {
      if (!(e instanceof CancelFitException)) {
        model.dispose();
        throw e;
      }
      stopped = true;
    } finally {
      // The optimizer's moments live on the GPU; the model is all that is kept.
      learn.opt?.dispose();
    }
    stopped ||= stopRequested;
    current?.model.dispose();
    // The model file's preprocessing, as the CLI's train writes it, except for generated data:
    // counting images are drawn at the model's size and trained uncropped ('squish'), and the
    // 'crop' transform (shorter side to size·256/224, centre crop) would cut off circles near
    // the edges and undercount; 'align-corners' at the same size leaves them as they are.
    const resize = d.synthetic ? 'align-corners' : 'crop';
    current = {
      model,
      meta: { arch: req.arch, kind: 'vision', classes: [...d.classes], preprocess: { size, normalize, resize } },
      origin: 'trained here',
    };
    return { stopped, model: modelInfo() };
  } finally {
    training = false;
    stopRequested = false;
  }
}

// ---- prediction, download, upload -------------------------------------------------

async function predictFile(file: Blob, topk: number): Promise<Replies['predict']> {
  if (!current) throw new Error('train a model or load a model file first');
  if (training) throw new Error('training is running; wait for it or stop it');
  const img = decodeBytes(new Uint8Array(await file.arrayBuffer()), (file as File).name ?? 'image');
  const x = prepareInput(img, current.meta.preprocess);
  try {
    const p = await predict(current.model, x, current.meta.classes);
    const order = [...p.probs.keys()].sort((a, b) => p.probs[b]! - p.probs[a]!).slice(0, Math.max(1, topk));
    const top: TopClass[] = order.map((i) => ({ label: current!.meta.classes[i]!, index: i, prob: p.probs[i]! }));
    return { top };
  } finally {
    x.dispose();
  }
}

async function exportModel(): Promise<Replies['export']> {
  if (!current) throw new Error('there is no model yet: train one or load a model file');
  if (training) throw new Error('training is running; wait for it or stop it');
  const bytes = (await modelToBytes(current.model, current.meta)) as Uint8Array<ArrayBuffer>;
  return { bytes, fileName: 'model.safetensors' };
}

async function loadModel(file: Blob, name: string): Promise<Replies['load']> {
  if (training) throw new Error('training is running; wait for it or stop it');
  const { model, meta } = modelFromBytes(new Uint8Array(await file.arrayBuffer()), name);
  current?.model.dispose();
  current = { model, meta, origin: name };
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
    case 'data': {
      const v = await setData(msg.req);
      return { value: v };
    }
    case 'train':
      return { value: await train(msg.req) };
    case 'stop':
      if (training) stopRequested = true;
      return { value: {} };
    case 'predict':
      return { value: await predictFile(msg.file, msg.topk) };
    case 'export': {
      const v = await exportModel();
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
