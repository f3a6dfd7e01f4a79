/**
 * Model files: a safetensors file (PyTorch names and layouts) whose metadata says
 * how to rebuild and feed the model — architecture, whether it carries fastai's
 * head, class names, input size and preprocessing. `saveModel` writes atomically;
 * `loadModel` rebuilds the module and loads it strictly.
 */
import { TesseraError } from '@tessera/tensor';
import type { Module } from './module.js';
import { ResNet, type ResNetArch } from './models/resnet.js';
import { DarknetTiny } from './models/darknet.js';
import { createVisionModel } from './models/vision-model.js';
import { exportStateDict, loadStateDict } from './weights.js';
import { readSafetensors, writeSafetensors } from './io/index.js';

export type Arch = ResNetArch | 'darknet-tiny';
export const ARCHS: readonly Arch[] = ['resnet18', 'resnet34', 'resnet50', 'darknet-tiny'];

/** How images must be prepared for the model. */
export interface Preprocess {
  size: number;
  /** 'imagenet': subtract ImageNet mean / divide std; 'none': RGB in [0, 1]. */
  normalize: 'imagenet' | 'none';
  /** 'crop': resize the shorter side then centre-crop; 'align-corners': squash with align-corners bilinear. */
  resize: 'crop' | 'align-corners';
}

export interface ModelMeta {
  arch: Arch;
  /** 'classifier': the network as published (ImageNet head); 'vision': body + fastai's head. */
  kind: 'classifier' | 'vision';
  classes: string[];
  preprocess: Preprocess;
}

export function defaultPreprocess(arch: Arch): Preprocess {
  return arch === 'darknet-tiny'
    ? { size: 224, normalize: 'none', resize: 'align-corners' }
    : { size: 224, normalize: 'imagenet', resize: 'crop' };
}

export function checkArch(name: string): Arch {
  if (!(ARCHS as readonly string[]).includes(name)) {
    throw new TesseraError(`unknown architecture '${name}' (available: ${ARCHS.join(', ')})`);
  }
  return name as Arch;
}

/** The published network for an architecture, with `numClasses` outputs. */
export function createNetwork(arch: Arch, numClasses = 1000): ResNet | DarknetTiny {
  return arch === 'darknet-tiny' ? new DarknetTiny(numClasses) : new ResNet(arch, numClasses);
}

export function buildModel(meta: ModelMeta): Module {
  if (meta.kind === 'classifier') return createNetwork(meta.arch, meta.classes.length);
  return createVisionModel(createNetwork(meta.arch), meta.classes.length);
}

function encodeMeta(meta: ModelMeta): Record<string, string> {
  return {
    format: 'tessera-model-1',
    layout: 'pytorch',
    arch: meta.arch,
    kind: meta.kind,
    classes: JSON.stringify(meta.classes),
    preprocess: JSON.stringify(meta.preprocess),
  };
}

export function decodeMeta(md: Record<string, string>, file: string): ModelMeta {
  if (md.format !== 'tessera-model-1') {
    throw new TesseraError(
      `${file} is not a Tessera model file (no 'tessera-model-1' metadata); convert weights first with 'pnpm convert <in> <out.safetensors> --arch NAME'`,
    );
  }
  try {
    return {
      arch: checkArch(md.arch ?? ''),
      kind: md.kind === 'vision' ? 'vision' : 'classifier',
      classes: JSON.parse(md.classes ?? '[]') as string[],
      preprocess: JSON.parse(md.preprocess ?? '{}') as Preprocess,
    };
  } catch (e) {
    throw new TesseraError(`${file}: unreadable model metadata (${(e as Error).message})`);
  }
}

export async function saveModel(path: string, model: Module, meta: ModelMeta): Promise<void> {
  await writeSafetensors(path, await exportStateDict(model), encodeMeta(meta));
}

/** Writes a PyTorch-layout state dict (e.g. converted weights) as a model file. */
export async function saveStateDictAsModel(path: string, sd: Parameters<typeof writeSafetensors>[1], meta: ModelMeta): Promise<void> {
  await writeSafetensors(path, sd, encodeMeta(meta));
}

export async function loadModel(path: string): Promise<{ model: Module; meta: ModelMeta }> {
  const { tensors, metadata } = await readSafetensors(path);
  const meta = decodeMeta(metadata, path);
  const model = buildModel(meta);
  loadStateDict(model, tensors, { source: path });
  return { model, meta };
}
