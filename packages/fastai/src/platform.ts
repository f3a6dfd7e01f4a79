/**
 * What only Node can do (files, worker threads, the weights lookup on disk), handed to the
 * browser-safe API by @tessera/fastai/node when it is imported. A browser never registers it:
 * there the API works from `File`s and bytes, and asking for a file path says what to use instead.
 */
import type { Tensor } from '@tessera/tensor';
import type { Arch, DarknetTiny, ModelMeta, Module, ResNet, StateStore } from '@tessera/nn';
import type {
  ConfusionMatrixOptions, HostBatch, LineChartOptions, LineSeries, LoaderThreads, RgbImage, ShowBatchOptions, VisionDataset,
} from '@tessera/vision';

export interface FolderData {
  train: VisionDataset;
  valid: VisionDataset;
  classes: string[];
  skipped: number;
  describe: string;
}

export interface NodePlatform {
  threads: LoaderThreads;
  openFolder(path: string, o: { validPct: number; seed: number; maxBadFraction: number; verify: boolean }): Promise<FolderData>;
  decodeImageFile(path: string): Promise<RgbImage>;
  readFile(path: string): Promise<Uint8Array>;
  saveModel(path: string, model: Module, meta: ModelMeta): Promise<void>;
  /** The model as an ONNX file (@tessera/onnx/node's saveOnnx: atomic). */
  saveOnnx(path: string, model: Module, meta: ModelMeta): Promise<void>;
  loadModel(path: string): Promise<{ model: Module; meta: ModelMeta }>;
  fileStore(): StateStore;
  findWeights(arch: Arch, explicit?: string): Promise<string | null>;
  loadPretrainedFile(net: ResNet | DarknetTiny, arch: Arch, path: string): Promise<void>;
  missingWeightsMessage(arch: Arch): string;
  pictures: {
    showBatch(x: Tensor | HostBatch, labels: readonly string[], path: string, opts: ShowBatchOptions): Promise<{ width: number; height: number; svg: string }>;
    lineChart(path: string, series: readonly LineSeries[], opts: LineChartOptions): Promise<{ width: number; height: number; svg: string }>;
    confusionMatrix(path: string, m: readonly (readonly number[])[], classes: readonly string[], opts: ConfusionMatrixOptions): Promise<{ width: number; height: number; svg: string }>;
  };
}

let registered: NodePlatform | null = null;

export function registerNodePlatform(p: NodePlatform): void {
  registered = p;
}

export function nodePlatform(): NodePlatform | null {
  return registered;
}

/** The Node platform, or one line saying that `what` needs Node and what a browser uses instead. */
export function requireNode(what: string, instead: string): NodePlatform {
  if (!registered) throw new Error(`${what} needs Node: import from '@tessera/fastai/node' there; in a browser ${instead}`);
  return registered;
}
