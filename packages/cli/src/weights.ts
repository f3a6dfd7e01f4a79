/**
 * Finds and loads ImageNet weights for an architecture: --pretrained FILE, else
 * $TESSERA_WEIGHTS/<arch>.safetensors (or darknet-tiny/model.json). Missing weights
 * are said plainly, with how to get them — never silently replaced by random ones.
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Arch, type ResNet, type DarknetTiny, darknetKeysFromKeras, io, loadStateDict } from '@tessera/nn';
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
  let sd = await io.readStateDict(path);
  if (arch === 'darknet-tiny' && sd.has('conv2d_1.weight')) sd = darknetKeysFromKeras(sd);
  // The classifier is replaced by fastai's head, so its shape may differ (another class count).
  const head = arch === 'darknet-tiny' ? 'classifier.' : 'fc.';
  for (const k of [...sd.keys()]) if (k.startsWith(head)) sd.delete(k);
  const report = loadStateDict(net, sd, { strict: false, source: path });
  const missing = report.missing.filter((k) => !k.startsWith(head));
  if (missing.length || report.unexpected.length || report.wrongShape.length) {
    throw new UsageError(
      `train: ${path} does not hold ${arch} weights (${missing.length} missing, ${report.unexpected.length} unexpected, ` +
        `${report.wrongShape.length} of the wrong shape, e.g. ${[...missing, ...report.unexpected, ...report.wrongShape.map((w) => w.key)].slice(0, 3).join(', ')}); ` +
        `pass --arch to match the file`,
    );
  }
}
