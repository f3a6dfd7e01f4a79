/**
 * The worker's calls into the engine that turn what the page hands over (generated data,
 * dropped files, weight files, an image) into datasets, state dicts and input tensors —
 * the browser's counterparts of the CLI's datasets.ts, weights.ts and preprocess.ts,
 * built on @tessera/vision's and @tessera/nn's in-memory APIs.
 */
import { type Tensor, tensor } from '@tessera/tensor';
import { io, type Preprocess } from '@tessera/nn';
import {
  CountingDataset, DEFAULT_MAX_BAD_FRACTION, IMAGENET_STATS, MemoryImageFolder, centreCrop, decodeImage, resize, resizeShorterSide, splitDataset,
  type RgbImage, type VisionDataset,
} from '@tessera/vision';
import type { DataRequest } from './protocol.js';

export interface LoadedData {
  train: VisionDataset;
  valid: VisionDataset;
  classes: string[];
  /** Generated data: drawn at the model's size and only squished, as the CLI does. */
  synthetic: boolean;
  describe: string;
}

export async function loadData(req: DataRequest): Promise<LoadedData> {
  const { source, validPct, seed, size } = req;
  if (source.kind === 'counting') {
    const [lo, hi] = source.range;
    const ds = new CountingDataset({ range: [lo, hi], perClass: source.perClass, size, seed });
    const { train, valid } = splitDataset(ds, { validPct, seed });
    return {
      train, valid, classes: [...ds.classes], synthetic: true,
      describe: `synthetic counting ${lo}-${hi}: ${train.length} training and ${valid.length} validation images (${source.perClass} per class, ${size} px)`,
    };
  }
  // A dropped or picked folder: the same layout rules as the CLI's ImageFolder (class = parent
  // folder; train/ and valid/ inside give the split, else a seeded random one).
  const files = source.files.map(({ path, file }) => ({ name: path.split('/').pop()!, webkitRelativePath: path, arrayBuffer: () => file.arrayBuffer() }));
  // As the CLI's default --max-bad-pct: a folder mostly of unusable files is refused, not trained on.
  const f = await MemoryImageFolder.fromFiles(files, { validPct, seed, maxBadFraction: DEFAULT_MAX_BAD_FRACTION });
  const skipped = f.skipped.length ? `, ${f.skipped.length} unreadable files skipped` : '';
  return {
    train: f.train, valid: f.valid, classes: [...f.classes], synthetic: false,
    describe: `${f.root}: ${f.train.length} training and ${f.valid.length} validation images in ${f.classes.length} classes ` +
      `(${f.split === 'folders' ? 'train/valid folders' : `random ${Math.round(validPct * 100)}% validation split`})${skipped}`,
  };
}

export function decodeBytes(bytes: Uint8Array, name: string): RgbImage {
  return decodeImage(bytes, { file: name });
}

/** The evaluation transform a model file prescribes (as `pnpm predict`): one image → a [1, s, s, 3] batch. */
export function prepareInput(img: RgbImage, p: Preprocess): Tensor {
  const fitted =
    p.resize === 'align-corners'
      ? resize(img, p.size, p.size, { mode: 'align-corners' })
      : centreCrop(resizeShorterSide(img, Math.round((p.size * 256) / 224)), p.size, p.size);
  const s = p.size;
  const data = new Float32Array(s * s * 3);
  const { mean, std } = p.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
  for (let i = 0; i < s * s * 3; i++) data[i] = (fitted.data[i]! / 255 - mean[i % 3]!) / std[i % 3]!;
  return tensor(data, [1, s, s, 3]);
}

/**
 * ImageNet weights from the files a user selected: a TF.js layers model (model.json and
 * its shards, matched by file name) or one safetensors / torch.save file.
 */
export async function readWeights(files: { name: string; file: Blob }[]): Promise<{ weights: io.StateDict; source: string }> {
  const json = files.find((f) => f.name.endsWith('.json'));
  if (json) {
    const shards = new Map<string, Uint8Array>();
    for (const f of files) if (f !== json) shards.set(f.name, new Uint8Array(await f.file.arrayBuffer()));
    const text = await json.file.text();
    // The manifest names shards by path relative to model.json; the picker gives bare names.
    const model = io.parseTfjsModel(text, (path) => shards.get(path.split('/').pop() ?? path), json.name);
    return { weights: io.kerasToTorch(model), source: json.name };
  }
  if (files.length !== 1) throw new Error(`select one weights file (.safetensors or .pth), or a TF.js model.json with its shards; got ${files.length} files`);
  const f = files[0]!;
  return { weights: io.parseStateDict(new Uint8Array(await f.file.arrayBuffer()), f.name), source: f.name };
}
