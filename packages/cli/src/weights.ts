/**
 * Finds and loads ImageNet weights for an architecture: --pretrained FILE, else
 * $TESSERA_WEIGHTS/<arch>.safetensors (or darknet-tiny/model.json). Missing weights
 * are said plainly, with how to get them — never silently replaced by random ones.
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TesseraError } from '@tessera/tensor';
import { type Arch, type ResNet, type DarknetTiny, loadPretrained as loadPretrainedWeights } from '@tessera/nn';
import { io } from '@tessera/nn/node';
import { UsageError } from './args.js';

export function weightsDir(): string {
  return resolve(process.env.TESSERA_WEIGHTS ?? './weights');
}

export function defaultWeightsPath(arch: Arch): string {
  return arch === 'darknet-tiny' ? join(weightsDir(), 'darknet-tiny', 'model.json') : join(weightsDir(), `${arch}.safetensors`);
}

export async function findWeights(arch: Arch, explicit?: string): Promise<string | null> {
  const path = explicit ? resolve(explicit) : defaultWeightsPath(arch);
  const ok = await access(path).then(() => true, () => false);
  if (!ok && explicit) throw new UsageError(`train: --pretrained ${explicit} does not exist`);
  return ok ? path : null;
}

export function missingWeightsMessage(arch: Arch): string {
  const where = defaultWeightsPath(arch);
  const how =
    arch === 'darknet-tiny'
      ? `put the TF.js Tiny Darknet (model.json + shards) in ${join(weightsDir(), 'darknet-tiny')}`
      : `download torchvision's ImageNet ${arch} weights (e.g. ${arch}-*.pth from the PyTorch model zoo) and run ` +
        `'pnpm convert <file>.pth ${where} --arch ${arch}'`;
  return `no ImageNet weights for ${arch} at ${where}: ${how}, pass --pretrained FILE, or train from scratch with --no-pretrained`;
}

/** Loads ImageNet weights into a freshly built network; every body weight must fit. */
export async function loadPretrained(net: ResNet | DarknetTiny, arch: Arch, path: string): Promise<void> {
  const sd = await io.readStateDict(path);
  try {
    loadPretrainedWeights(net, arch, sd, path);
  } catch (e) {
    if (e instanceof TesseraError) throw new UsageError(`train: ${e.message}; pass --arch to match the file`);
    throw e;
  }
}
