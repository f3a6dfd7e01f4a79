/**
 * The user's weight cache and what can be downloaded into it: torchvision's ImageNet
 * ResNets, from the URLs torchvision itself uses (its IMAGENET1K_V1 weights, the ones
 * fastai's lesson fine-tunes). Each file name ends in the first hex digits of the file's
 * SHA-256, which is what torchvision checks on download and what we check too.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Arch } from '../model-file.js';

export const TORCHVISION_BASE_URL = 'https://download.pytorch.org/models/';

/** The published file for each downloadable architecture. */
export const TORCHVISION_FILES: Partial<Record<Arch, string>> = {
  resnet18: 'resnet18-f37072fd.pth',
  resnet34: 'resnet34-b627a593.pth',
  resnet50: 'resnet50-0676ba61.pth',
};

export interface WeightsSource {
  url: string;
  /** Hex digits the file's SHA-256 must start with. */
  sha256Prefix: string;
}

/** The SHA-256 prefix a torchvision-style name carries (`resnet34-b627a593.pth` → b627a593). */
export function hashPrefixOf(fileName: string): string {
  const m = /-([0-9a-f]{6,64})\.pth$/.exec(fileName);
  if (!m) throw new Error(`${fileName} carries no SHA-256 prefix`);
  return m[1]!;
}

/**
 * Where `arch`'s official file is fetched from: torchvision's server, or the same file name
 * under a mirror (--mirror, else $TESSERA_WEIGHTS_MIRROR). Null when nothing is published.
 */
export function torchvisionSource(arch: Arch, mirror = process.env.TESSERA_WEIGHTS_MIRROR): WeightsSource | null {
  const file = TORCHVISION_FILES[arch];
  if (!file) return null;
  const base = mirror ? mirror.replace(/\/*$/, '/') : TORCHVISION_BASE_URL;
  return { url: base + file, sha256Prefix: hashPrefixOf(file) };
}

/** $XDG_CACHE_HOME/tessera/weights (~/.cache/tessera/weights when unset), as torch uses ~/.cache/torch. */
export function weightsCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tessera', 'weights');
}

/** The cached model file for `arch` (converted, with its metadata). */
export function cachedWeightsPath(arch: Arch): string {
  return join(weightsCacheDir(), `${arch}.safetensors`);
}
