/**
 * Finds and loads ImageNet weights for an architecture (the CLI's `train`/`predict <arch>` and
 * the TypeScript API's `visionLearner` share it). The first of these that exists wins:
 *   1. an explicit file (the CLI's --pretrained FILE, the API's `pretrained: 'file'`)
 *   2. $TESSERA_WEIGHTS/<arch>.safetensors (darknet-tiny: $TESSERA_WEIGHTS/darknet-tiny/model.json)
 *   3. ./weights/<same>
 *   4. the user cache that `tessera weights get` fills (weights-cache.ts)
 *   5. the weights bundled with @tessera/nn (Tiny Darknet only)
 * Missing weights are said plainly, with how to get them — never silently replaced by random ones.
 */
import { access, open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { TesseraError } from '@tessera/tensor';
import {
  type Arch, type ModelMeta, createNetwork, decodeMeta, defaultPreprocess, loadPretrained as loadPretrainedWeights, pretrainedKeys,
  visionBodyAsNetwork,
} from '../model-file.js';
import type { ResNet } from '../models/resnet.js';
import type { DarknetTiny } from '../models/darknet.js';
import type { Module } from '../module.js';
import { cliCommand } from './cli-command.js';
import { loadStateDict } from '../weights.js';
import * as io from '../io/node.js';
import { bundledWeights } from './bundled-weights.js';
import { loadModel } from './model-files.js';
import { cachedWeightsPath, TORCHVISION_FILES } from './weights-cache.js';

export type WeightsPlace = '$TESSERA_WEIGHTS' | './weights' | 'cache' | 'bundled';

function fileFor(arch: Arch): string {
  return arch === 'darknet-tiny' ? join('darknet-tiny', 'model.json') : `${arch}.safetensors`;
}

/** Every place looked in for `arch`'s weights when no file is given, in order. */
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

/** The weights file to use for `arch`: `explicit` (which must exist), else the first candidate that exists, else null. */
export async function findWeights(arch: Arch, explicit?: string): Promise<string | null> {
  if (explicit) {
    if (!(await exists(resolve(explicit)))) throw new TesseraError(`pretrained weights ${explicit} do not exist`);
    return resolve(explicit);
  }
  for (const { path } of weightsCandidates(arch)) if (await exists(path)) return path;
  return null;
}

/** How a run's model line names its weights. */
export function describeWeights(arch: Arch, path: string): string {
  if (path === bundledWeights(arch)) return `the bundled ImageNet weights (Tiny Darknet from ml5, MIT) in ${path}`;
  if (path === cachedWeightsPath(arch)) return `ImageNet weights from the cache, ${path}`;
  return `weights from ${path}`;
}

/** What to say when no weights are found; `forTraining` adds the ways to train without them. */
export function missingWeightsMessage(arch: Arch, forTraining = true): string {
  const looked = weightsCandidates(arch).map((c) => c.path).join(', ');
  const how = TORCHVISION_FILES[arch]
    ? `run '${cliCommand(`weights get ${arch}`)}' (downloads torchvision's file once and caches it)`
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
    if (e instanceof TesseraError) throw e;
    return null; // not safetensors: the weight readers say what it is
  }
  finally {
    await file.close();
  }
}

/**
 * Loads ImageNet weights (or the body of a Tessera model file, e.g. an earlier run's
 * model.safetensors) into a freshly built network; every body weight must fit.
 */
export async function loadPretrainedFile(net: ResNet | DarknetTiny, arch: Arch, path: string): Promise<void> {
  const meta = await modelFileMeta(path);
  const read = await io.readStateDict(path);
  const sd = meta?.kind === 'vision' ? visionBodyAsNetwork(net, read) : read;
  try {
    loadPretrainedWeights(net, arch, sd, path);
  } catch (e) {
    if (e instanceof TesseraError) throw new TesseraError(`${e.message}; pass the architecture the file was made for`);
    throw e;
  }
}

/**
 * An architecture's ImageNet classifier from the weights the lookup finds (`predict darknet-tiny cat.jpg`),
 * converted in memory when they are a TF.js model.json.
 */
export async function imagenetClassifier(arch: Arch): Promise<{ model: Module; meta: ModelMeta; path: string }> {
  const path = await findWeights(arch);
  if (!path) throw new TesseraError(missingWeightsMessage(arch, false));
  return { ...(path.endsWith('.json') ? await tfjsClassifier(path, arch) : await loadModel(path)), path };
}

/** A TF.js model.json (Tiny Darknet) as a classifier, without writing a model file; class names from a labels.txt beside it. */
export async function tfjsClassifier(modelJson: string, arch: Arch = 'darknet-tiny'): Promise<{ model: Module; meta: ModelMeta }> {
  const sd = pretrainedKeys(arch, await io.readStateDict(modelJson));
  const n = sd.get(arch === 'darknet-tiny' ? 'classifier.weight' : 'fc.weight')?.shape[0] ?? 1000;
  const labels = await readFile(join(dirname(modelJson), 'labels.txt'), 'utf8').then(
    (t) => t.split('\n').map((l) => l.trim()).filter(Boolean),
    () => [] as string[],
  );
  const classes = labels.length === n ? labels : Array.from({ length: n }, (_, i) => String(i));
  const model = createNetwork(arch, n);
  loadStateDict(model, sd, { source: modelJson });
  return { model, meta: { arch, kind: 'classifier', classes, preprocess: defaultPreprocess(arch) } };
}
