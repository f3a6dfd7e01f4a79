/**
 * fastai's vision_learner and the Learner methods the lesson calls on it. VisionLearner is
 * @tessera/nn's Learner (the training loop, fine_tune, fit_one_cycle, the LR finder, TTA,
 * interpretation are all there) with the vision data and architecture attached, so that the
 * steps that need them — the LR finder's picture, TTA's augmented passes, predict's
 * preprocessing, export's metadata — take no more arguments than in fastai.
 */
import { type KernelSource, TesseraError, createKernelsAsync, initDevice } from '@tessera/tensor';
import {
  type Arch, type LearnerOptions, type LrFindOptions, type LrFindResult, type ModelArch, type ModelMeta, type Prediction, type Preprocess,
  type VisionModel, Learner, checkArch, createNetwork, createVisionModel, io, loadPretrained, modelToBytes, tta, traceStepKernels, tuneModelGemms,
} from '@tessera/nn';
import { renderLineChart, type LineChartOptions, type LineSeries } from '@tessera/vision';
import type { ImageDataLoaders } from './data-loaders.js';
import { type ImageInput, predictImage } from './inference.js';
import { onnxBytes, saveOnnxFile } from './onnx-export.js';
import { nodePlatform, requireNode } from './platform.js';
import { picture, type Picture } from './pictures.js';

export interface VisionLearnerOptions extends LearnerOptions {
  /**
   * ImageNet weights for the body. Left out: used when the lookup finds them (Node: $TESSERA_WEIGHTS,
   * ./weights, the cache, the bundled Tiny Darknet), else the body starts from scratch (see
   * `learn.pretrained`). true: required (one line says where it looked). false: from scratch.
   * A path (Node) or a state dict (e.g. io.parseStateDict of a picked file): those weights.
   */
  pretrained?: boolean | string | io.StateDict;
  /** Names a `pretrained` state dict in messages and in `learn.pretrained` (e.g. the picked file's name). */
  pretrainedSource?: string;
}

/**
 * A network built elsewhere with fastai's head already on (an imported ONNX classifier's body,
 * @tessera/onnx's onnxVisionModel): `visionLearnerFor` uses it as it is.
 */
export interface BuiltVisionModel {
  model: VisionModel;
  /** 'graph' for an imported network, whose structure `graph` then carries into the model file. */
  arch: ModelArch;
  graph?: string;
  /** The input normalisation its weights expect. */
  normalize: 'imagenet' | 'none';
  /** Where its body's weights came from (frozen first, as fastai does), or null from scratch. */
  pretrained: string | null;
}

export interface LrFindSuggestions extends LrFindResult {
  /** fastai's default suggestion (NaN when the suggestion rules asked for left it out). */
  valley: number;
  minimum?: number;
  steep?: number;
  slide?: number;
}

export interface TtaResult {
  probs: Float32Array;
  targets: Int32Array;
  /** Share of the validation images whose arg-max class is wrong. */
  errorRate: number;
}

export class VisionLearner extends Learner {
  declare readonly dls: ImageDataLoaders;
  declare readonly model: VisionModel;

  constructor(
    dls: ImageDataLoaders,
    model: VisionModel,
    readonly arch: ModelArch,
    /** Where the body's weights came from (a path or 'state dict'), or null when it started from scratch. */
    readonly pretrained: string | null,
    opts: LearnerOptions = {},
    /** For arch 'graph': the imported network's structure, kept in the exported model file. */
    readonly graph?: string,
  ) {
    super(dls, model, opts);
  }

  /** How an image is fitted and normalised for this model (saved in the exported file). */
  get preprocess(): Preprocess {
    // Drawn data was trained whole (squished, never cropped): a centre crop would cut discs off the edges.
    return { size: this.dls.size, normalize: this.dls.normalize, resize: this.dls.itemTfms.method === 'squish' ? 'align-corners' : 'crop' };
  }

  get meta(): ModelMeta {
    return { arch: this.arch, ...(this.graph ? { graph: this.graph } : {}), kind: 'vision', classes: [...this.dls.classes], preprocess: this.preprocess };
  }

  /**
   * fastai's lr_find: suggestions by name (`valley` first), the curve, and with `file` its
   * picture with the valley marked.
   */
  override async lrFind(opts: LrFindOptions & { file?: string } = {}): Promise<LrFindSuggestions> {
    const { file, ...rest } = opts;
    const r = await super.lrFind(rest);
    const out: LrFindSuggestions = { ...r, ...r.suggestions, valley: r.suggestions.valley ?? NaN };
    if (file !== undefined) await plotLrFind(r, { file });
    return out;
  }

  /**
   * fastai's tta: n passes (default 4) of the validation set with the training augmentation,
   * averaged and mixed with the plain prediction (beta 0.25); with the error rate of the result.
   */
  async tta(opts: { n?: number; beta?: number; useMax?: boolean } = {}): Promise<TtaResult> {
    const augmented = this.dls.validAugmented();
    const { probs, targets } = await tta(this, { ...opts, augmented: () => augmented }).finally(() => augmented.close());
    const c = this.dls.classes.length;
    let wrong = 0;
    targets.forEach((t, i) => {
      let best = 0;
      for (let k = 1; k < c; k++) if (probs[i * c + k]! > probs[i * c + best]!) best = k;
      if (best !== t) wrong++;
    });
    return { probs, targets, errorRate: targets.length ? wrong / targets.length : NaN };
  }

  /** fastai's learn.predict: { label, index, probs } for one image (a path in Node, bytes, a File, or a decoded image). */
  predict(input: ImageInput): Promise<Prediction> {
    return predictImage(this.model, this.meta, input);
  }

  /** The model file's bytes: safetensors with the architecture, classes and preprocessing. */
  exportBytes(): Promise<Uint8Array> {
    return modelToBytes(this.model, this.meta);
  }

  /** fastai's learn.export: writes the model file (atomically); loadLearner reads it back. Node only. */
  async export(path = 'export.safetensors'): Promise<void> {
    await requireNode('export(path)', 'use exportBytes() and save the bytes').saveModel(path, this.model, this.meta);
  }

  /**
   * The model as a standard ONNX file's bytes (what `tessera export` writes), the class names and
   * preprocessing in its metadata_props: for ONNX Runtime (Web, Node, mobile) or a download.
   */
  exportOnnxBytes(): Promise<Uint8Array> {
    return onnxBytes(this.model, this.meta);
  }

  /** Writes the ONNX model at `path` (a `.onnx` name; atomically). Node only. */
  exportOnnx(path = 'model.onnx'): Promise<void> {
    return saveOnnxFile(path, this.model, this.meta);
  }
}

/** The LR finder's curve, the valley marked (as `tessera lr-find` draws lr_find.png). */
export function plotLrFind(r: LrFindResult, opts: { file?: string } = {}): Promise<Picture> {
  const fmt = (v: number) => v.toExponential(2);
  const [vx, vy] = r.points.valley ?? [NaN, NaN];
  const series: LineSeries[] = [{ name: 'smoothed loss', x: r.lrs, y: r.losses }];
  const chart: LineChartOptions = {
    title: 'Learning rate finder', xLabel: 'learning rate (log scale)', yLabel: 'loss', logX: true,
    ...(Number.isFinite(vx) ? { mark: { x: vx, y: vy, label: `valley ${fmt(vx)}` } } : {}),
  };
  return picture('lrFind', opts.file, (p, file) => p.lineChart(file, series, chart), () => renderLineChart(series, chart));
}

/**
 * fastai's recorder.plot_loss: the training loss per batch and the validation loss at each
 * epoch's end (`at`: training batches seen by then), as the CLI's losses.png draws them.
 */
export function plotLoss(
  loss: { train: readonly number[]; valid?: readonly { at: number; loss: number }[] },
  opts: { file?: string; width?: number; height?: number } = {},
): Promise<Picture> {
  const valid = loss.valid ?? [];
  const series: LineSeries[] = [
    { name: 'train (smoothed)', x: loss.train.map((_, i) => i + 1), y: [...loss.train] },
    ...(valid.length ? [{ name: 'valid', x: valid.map((v) => v.at), y: valid.map((v) => v.loss) }] : []),
  ];
  const chart: LineChartOptions = { title: 'Loss', xLabel: 'batches processed', yLabel: 'loss', width: opts.width ?? 560, height: opts.height ?? 320 };
  return picture('plotLoss', opts.file, (p, file) => p.lineChart(file, series, chart), () => renderLineChart(series, chart));
}

async function bodyWeights(arch: Arch, pretrained: VisionLearnerOptions['pretrained']): Promise<string | io.StateDict | null> {
  if (pretrained === false) return null;
  if (pretrained !== undefined && pretrained !== true) return pretrained;
  const node = nodePlatform();
  const found = node ? await node.findWeights(arch) : null;
  const missing = node ? node.missingWeightsMessage(arch) : `no ImageNet weights for ${arch}: in a browser pass them as pretrained (a state dict)`;
  if (!found && pretrained === true) throw new TesseraError(missing);
  // Said, never silent: a lesson meant to fine-tune would otherwise train from scratch unnoticed.
  if (!found) console.warn(`visionLearner: ${missing}; the body starts from scratch (pretrained: false says so without this warning)`);
  return found;
}

/**
 * fastai's vision_learner: the architecture's body (with ImageNet weights when found, see
 * `pretrained`) and fastai's head for the data's classes; frozen when pretrained, as fastai does,
 * so lrFind and fineTune start on the head. Inputs are normalised with ImageNet's statistics,
 * except for Tiny Darknet, whose weights expect pixels in [0, 1].
 */
export async function visionLearner(dls: ImageDataLoaders, arch: Arch | string, opts: VisionLearnerOptions = {}): Promise<VisionLearner> {
  const a = checkArch(arch);
  await initDevice();
  const { pretrained, pretrainedSource, ...learnerOpts } = opts;
  const weights = await bodyWeights(a, pretrained);
  if (typeof weights === 'string') await requireNode('pretrained: path', 'pass the weights as a state dict').findWeights(a, weights);
  const net = createNetwork(a);
  if (typeof weights === 'string') await nodePlatform()!.loadPretrainedFile(net, a, weights);
  else if (weights) loadPretrained(net, a, weights, pretrainedSource ?? 'the given state dict');
  const model = createVisionModel(net, dls.classes.length);
  await dls.setNormalize(a === 'darknet-tiny' ? 'none' : 'imagenet');
  const learn = new VisionLearner(dls, model, a, typeof weights === 'string' ? weights : weights ? (pretrainedSource ?? 'state dict') : null, learnerOpts);
  if (weights) learn.freeze();
  return learn;
}

/** visionLearner for a network built elsewhere (see BuiltVisionModel): frozen when pretrained. */
export async function visionLearnerFor(dls: ImageDataLoaders, built: BuiltVisionModel, opts: LearnerOptions = {}): Promise<VisionLearner> {
  await initDevice();
  await dls.setNormalize(built.normalize);
  const learn = new VisionLearner(dls, built.model, built.arch, built.pretrained, opts, built.graph);
  if (built.pretrained) learn.freeze();
  return learn;
}

/**
 * Measures each GEMM variant for this model, batch and image size once (the table is cached per
 * adapter by @tessera/tensor/node's saveGemmTuningCache); every layer trainable while it measures,
 * so the backward's calls are tuned too, then the frozen state is put back.
 */
export async function tuneGemms(learn: VisionLearner): Promise<number> {
  const params = learn.model.parameters();
  const flags = params.map((p) => p.requiresGrad);
  for (const p of params) p.requiresGrad = true;
  try {
    const { bs, size, classes } = learn.dls;
    return Object.keys(await tuneModelGemms(learn.model, [bs, size, size, 3], { numClasses: classes.length })).length;
  } finally {
    params.forEach((p, i) => (p.requiresGrad = flags[i]!));
  }
}

/**
 * The kernels this learner's training and validation steps need that this process has not
 * compiled yet, found without running anything (@tessera/nn's traceStepKernels, on the
 * loaders' batch and image size): what a run compiles ahead on every core before its first step.
 */
export function stepKernels(learn: VisionLearner): KernelSource[] {
  const { bs, size, classes } = learn.dls;
  return traceStepKernels(learn, [bs, size, size, 3], classes.length);
}

/**
 * Creates the pipelines of this learner's steps before its first step, all at once
 * (createComputePipelineAsync): a browser compiles them in parallel on its GPU process
 * instead of one by one inside the first epoch. Resolves to how many were created. (The CLI
 * on lavapipe compiles on worker threads instead: lavapipe compiles at the first dispatch.)
 */
export function prepareKernels(learn: VisionLearner): Promise<number> {
  return createKernelsAsync(stepKernels(learn));
}
