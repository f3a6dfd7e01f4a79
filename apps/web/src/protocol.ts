/**
 * Messages between the page (main.ts) and the training worker (worker.ts). Requests
 * carry an id and get exactly one reply with that id ('ok' or 'error'); training also
 * streams events (no id) while it runs, so the page stays responsive and live.
 */

/** Where the training images come from. */
export type DataSource =
  | { kind: 'counting'; range: [number, number]; perClass: number }
  /** A dropped folder: each file with its path inside the folder (class = parent folder). */
  | { kind: 'files'; files: { path: string; file: Blob }[] };

export interface DataRequest {
  source: DataSource;
  /** Square side the model sees, in pixels. */
  size: number;
  bs: number;
  validPct: number;
  seed: number;
}

export type Arch = 'darknet-tiny' | 'resnet18' | 'resnet34' | 'resnet50';

/** The model to build: the architecture, and the pretrained body weights if any. */
export interface ModelRequest {
  arch: Arch;
  /** Pretrained body weights: a TF.js model (model.json + shards) or a single weights file. */
  weights?: { name: string; file: Blob }[];
}

export interface TrainRequest extends ModelRequest {
  epochs: number;
  lr: number;
  /** Frozen epochs before unfreezing (fine-tuning only). */
  freezeEpochs: number;
  /** Create the steps' kernels ahead (default); false (`?warmup=0` in the page's address) compiles each at its first use, for before/after measurements. */
  warmup?: boolean;
}

/** A picture as an SVG document (sharp at any size), with its size in pixels. */
export interface Picture {
  width: number;
  height: number;
  svg: string;
}

export interface ModelInfo {
  arch: string;
  classes: string[];
  size: number;
  /** Where it came from: 'trained here' or the loaded file's name. */
  origin: string;
}

export interface TopClass {
  label: string;
  index: number;
  prob: number;
}

/** The model downloads: Tessera's model file, or a standard ONNX model for ONNX Runtime. */
export type ModelFormat = 'safetensors' | 'onnx';

export type Request =
  | { id: number; type: 'init' }
  | { id: number; type: 'data'; req: DataRequest }
  | { id: number; type: 'train'; req: TrainRequest }
  | { id: number; type: 'stop' }
  | { id: number; type: 'predict'; file: Blob; topk: number }
  /** `numIt`: fastai's num_it, the training batches the LR finder runs (default 100). */
  | { id: number; type: 'lrFind'; req: ModelRequest; numIt: number }
  | { id: number; type: 'tta' }
  | { id: number; type: 'export'; format: ModelFormat }
  | { id: number; type: 'load'; file: Blob; name: string };

export interface Replies {
  init: { device: string };
  data: { describe: string; classes: string[]; showBatch: Picture };
  /** `confusion`: the validation set's confusion matrix (null when stopped before an epoch ended). */
  train: { stopped: boolean; model: ModelInfo; confusion: Picture | null; mostConfused: [string, string, number][] };
  lrFind: { valley: number; chart: Picture };
  tta: { errorRate: number };
  stop: Record<string, never>;
  predict: { top: TopClass[] };
  export: { bytes: Uint8Array<ArrayBuffer>; fileName: string };
  load: { model: ModelInfo };
}

/** One finished epoch, with the CLI's columns. */
export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  stage: 'train' | 'frozen' | 'unfrozen';
  train_loss: number | null;
  valid_loss: number | null;
  error_rate: number | null;
  time: string;
  seconds: number;
}

export type WorkerEvent =
  | EpochEvent
  /** Progress within an epoch: batches done of the pass, and the smoothed loss. */
  | { type: 'progress'; phase: 'train' | 'valid'; epoch: number; nEpoch: number; iter: number; nIter: number; smoothLoss: number }
  | { type: 'chart'; chart: Picture }
  | { type: 'log'; text: string };

export type Reply =
  | { id: number; type: 'ok'; value: unknown }
  | { id: number; type: 'error'; message: string; name: string };
