/**
 * Prediction on single images, as a model file's metadata prescribes (the evaluation transform:
 * torchvision's resize-and-centre-crop, or a squish for drawn data; then the normalisation),
 * and fastai's load_learner: a saved model back as something that predicts.
 */
import { type Tensor, initDevice, tensor } from '@tessera/tensor';
import { type ModelMeta, type Module, type Prediction, type Preprocess, modelFromBytes, modelToBytes, predictBatch } from '@tessera/nn';
import { IMAGENET_STATS, centreCrop, decodeImage, resize, resizeShorterSide, type RgbImage } from '@tessera/vision';
import { onnxBytes, saveOnnxFile } from './onnx-export.js';
import { requireNode } from './platform.js';

/** What predict() takes: an image file's path (Node), its bytes, a Blob/File (browser), or a decoded image. */
export type ImageInput = string | Uint8Array | ArrayBuffer | Blob | RgbImage;

export function prepareImage(img: RgbImage, p: Preprocess): RgbImage {
  if (p.resize === 'align-corners') return resize(img, p.size, p.size, { mode: 'align-corners' });
  // torchvision's eval transform: shorter side to size·256/224, then the centre size×size.
  const shorter = Math.round((p.size * 256) / 224);
  return centreCrop(resizeShorterSide(img, shorter), p.size, p.size);
}

/** Prepared images → a normalised NHWC batch. */
export function toBatch(images: RgbImage[], p: Preprocess): Tensor {
  const s = p.size;
  const data = new Float32Array(images.length * s * s * 3);
  const { mean, std } = p.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
  images.forEach((img, b) => {
    const base = b * s * s * 3;
    for (let i = 0; i < s * s * 3; i++) {
      const c = i % 3;
      data[base + i] = (img.data[i]! / 255 - mean[c]!) / std[c]!;
    }
  });
  return tensor(data, [images.length, s, s, 3]);
}

/** Decodes whatever form the image came in (ImageDecodeError names it when it is not an image). */
export async function readImage(input: ImageInput): Promise<RgbImage> {
  if (typeof input === 'string') return requireNode('predict(path)', 'pass the File, a Blob or the bytes').decodeImageFile(input);
  if (input instanceof Uint8Array) return decodeImage(input);
  if (input instanceof ArrayBuffer) return decodeImage(new Uint8Array(input));
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    return decodeImage(new Uint8Array(await input.arrayBuffer()), { file: (input as { name?: string }).name ?? 'blob' });
  }
  return input as RgbImage;
}

/** Class probabilities of one image for a model and its metadata (fastai's learn.predict). */
export async function predictImage(model: Module, meta: ModelMeta, input: ImageInput): Promise<Prediction> {
  const x = toBatch([prepareImage(await readImage(input), meta.preprocess)], meta.preprocess);
  try {
    return (await predictBatch(model, x, meta.classes))[0]!;
  } finally {
    x.dispose();
  }
}

/** fastai's load_learner result: a model with its classes and preprocessing, ready to predict. */
export class InferenceLearner {
  constructor(
    readonly model: Module,
    readonly meta: ModelMeta,
  ) {}

  get classes(): readonly string[] {
    return this.meta.classes;
  }

  /** { label, index, probs } for one image. */
  predict(input: ImageInput): Promise<Prediction> {
    return predictImage(this.model, this.meta, input);
  }

  /** The model file's bytes (safetensors with Tessera's metadata). */
  exportBytes(): Promise<Uint8Array> {
    return modelToBytes(this.model, this.meta);
  }

  async export(path: string): Promise<void> {
    await requireNode('export(path)', 'use exportBytes() and save the bytes').saveModel(path, this.model, this.meta);
  }

  /** The model as an ONNX file's bytes, classes and preprocessing in its metadata (as VisionLearner's). */
  exportOnnxBytes(): Promise<Uint8Array> {
    return onnxBytes(this.model, this.meta);
  }

  /** Writes the ONNX model at `path` (atomically). Node only. */
  exportOnnx(path = 'model.onnx'): Promise<void> {
    return saveOnnxFile(path, this.model, this.meta);
  }
}

/**
 * fastai's load_learner: a model file written by learn.export() (or `tessera train`'s
 * model.safetensors) from its path (Node) or its bytes.
 */
export async function loadLearner(source: string | Uint8Array, name = 'model.safetensors'): Promise<InferenceLearner> {
  await initDevice();
  const { model, meta } = typeof source === 'string'
    ? await requireNode('loadLearner(path)', 'pass the file\'s bytes').loadModel(source)
    : modelFromBytes(source, name);
  model.eval();
  return new InferenceLearner(model, meta);
}
