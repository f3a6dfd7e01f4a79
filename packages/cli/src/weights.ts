/**
 * Finds and loads ImageNet weights for an architecture. The first of these that exists wins:
 *   1. --pretrained FILE (must exist; a Tessera model file also names its architecture)
 *   2. $TESSERA_WEIGHTS/<arch>.safetensors (darknet-tiny: $TESSERA_WEIGHTS/darknet-tiny/model.json)
 *   3. ./weights/<same>
 *   4. the user cache that `tessera weights get` fills (weights-cache.ts)
 *   5. the weights bundled with @tessera/nn (Tiny Darknet only)
 * Missing weights are said plainly, with how to get them — never silently replaced by random ones.
 */
import { access, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TesseraError } from '@tessera/tensor';
import {
  type Arch, type ResNet, type DarknetTiny, type ModelMeta, checkArch, decodeMeta, loadPretrained as loadPretrainedWeights,
  visionBodyAsNetwork,
} from '@tessera/nn';
import { bundledWeights, io } from '@tessera/nn/node';
import { UsageError } from './args.js';
import { cachedWeightsPath, TORCHVISION_FILES } from './weights-cache.js';

export type WeightsPlace = '$TESSERA_WEIGHTS' | './weights' | 'cache' | 'bundled';

function fileFor(arch: Arch): string {
  return arch === 'darknet-tiny' ? join('darknet-tiny', 'model.json') : `${arch}.safetensors`;
}

/** Every place looked in for `arch`'s weights when no --pretrained FILE is given, in order. */
export function weightsCandidates(arch: Arch): { place: WeightsPlace; path: string }[] {
  const out: { place: WeightsPlace; path: string }[] = [];
  if (process.env.TESSERA_WEIGHTS) out.push({ place: '$TESSERA_WEIGHTS', path: join(resolve(process.env.TESSERA_WEIGHTS), fileFor(arch)) });
  out.push({ place: './weights', path: resolve('weights', fileFor(arch)) });
  if (TORCHVISION_FILES[arch]) out.push({ place: 'cache', path: cachedWeightsPath(arch) });
  const bundled = bundledWeights(arch);
  if (bundled) out.push({ place: 'bundled', path: bundled });
  return out;
}

const exists = (path: string) => access(path).then(() => true, () => false);

export async function findWeights(arch: Arch, explicit?: string): Promise<string | null> {
  if (explicit) {
    if (!(await exists(resolve(explicit)))) throw new UsageError(`train: --pretrained ${explicit} does not exist`);
    return resolve(explicit);
  }
  for (const { path } of weightsCandidates(arch)) if (await exists(path)) return path;
  return null;
}

/** How the model line of a run names its weights. */
export function describeWeights(arch: Arch, path: string): string {
  if (path === bundledWeights(arch)) return `the bundled ImageNet weights (Tiny Darknet from ml5, MIT) in ${path}`;
  if (path === cachedWeightsPath(arch)) return `ImageNet weights from the cache, ${path}`;
  return `weights from ${path}`;
}

export function missingWeightsMessage(arch: Arch, forTraining = true): string {
  const looked = weightsCandidates(arch).map((c) => c.path).join(', ');
  const how = TORCHVISION_FILES[arch]
    ? `run 'pnpm weights get ${arch}' (downloads torchvision's file once and caches it)`
    : `put the TF.js Tiny Darknet (model.json + shards) in ${resolve('weights', 'darknet-tiny')}`;
  const or = forTraining ? ', pass --pretrained FILE, or train from scratch with --no-pretrained' : '';
  return `no ImageNet weights for ${arch} (looked in ${looked}): ${how}${or}`;
}

/** A Tessera model file's metadata, read from the safetensors header alone; null for any other file. */
export async function modelFileMeta(path: string): Promise<ModelMeta | null> {
  const file = await open(path, 'r').catch(() => null);
  if (!file) return null;
  try {
    const head = Buffer.alloc(8);
    if ((await file.read(head, 0, 8, 0)).bytesRead < 8) return null;
    const n = Number(head.readBigUInt64LE(0));
    if (n < 2 || n > 100_000_000) return null;
    const json = Buffer.alloc(n);
    await file.read(json, 0, n, 8);
    if (json[0] !== 0x7b) return null;
    const md = (JSON.parse(json.toString('utf8')) as { __metadata__?: Record<string, string> }).__metadata__;
    return md?.format === 'tessera-model-1' ? decodeMeta(md, path) : null;
  } catch (e) {
    if (e instanceof TesseraError) throw new UsageError(e.message);
    return null; // not safetensors: the weight readers say what it is
  } finally {
    await file.close();
  }
}

/**
 * The architecture to train: --arch, else the one a --pretrained model file names, else
 * resnet34. A model file of another architecture than --arch is refused, saying which to pass.
 */
export async function chooseArch(command: string, archOption: unknown, pretrained: unknown): Promise<Arch> {
  const asked = archOption === undefined ? undefined : checkArch(String(archOption));
  const meta = typeof pretrained === 'string' ? await modelFileMeta(resolve(pretrained)) : null;
  // An imported network (arch 'graph') is train's own case (graph-pretrained.ts).
  if (!meta || meta.arch === 'graph') return asked ?? 'resnet34';
  if (asked && asked !== meta.arch) {
    throw new UsageError(`${command}: ${pretrained} is a ${meta.arch} model file (its metadata says so), not ${asked}: pass --arch ${meta.arch} or leave --arch out`);
  }
  return meta.arch;
}

/**
 * Loads ImageNet weights (or the body of a Tessera model file, e.g. an earlier run's
 * model.safetensors) into a freshly built network; every body weight must fit.
 */
export async function loadPretrained(net: ResNet | DarknetTiny, arch: Arch, path: string): Promise<void> {
  const meta = await modelFileMeta(path);
  const read = await io.readStateDict(path);
  const sd = meta?.kind === 'vision' ? visionBodyAsNetwork(net, read) : read;
  try {
    loadPretrainedWeights(net, arch, sd, path);
  } catch (e) {
    if (e instanceof TesseraError) throw new UsageError(`train: ${e.message}; pass the --arch the file was made for`);
    throw e;
  }
}
