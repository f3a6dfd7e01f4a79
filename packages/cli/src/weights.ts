/**
 * The CLI's side of the weights lookup, which lives in @tessera/nn/node (pretrained-weights.ts):
 * --pretrained and --arch as options, and their mistakes as one-line usage errors.
 */
import { resolve } from 'node:path';
import { TesseraError } from '@tessera/tensor';
import { type Arch, checkArch } from '@tessera/nn';
import { findWeights as findWeightsIn, modelFileMeta as modelFileMetaIn } from '@tessera/nn/node';
import { UsageError } from './args.js';

export { describeWeights, missingWeightsMessage, weightsCandidates, type WeightsPlace } from '@tessera/nn/node';

/** As @tessera/nn/node's findWeights, with --pretrained's absence said as a usage error. */
export async function findWeights(arch: Arch, explicit?: string): Promise<string | null> {
  try {
    return await findWeightsIn(arch, explicit);
  } catch (e) {
    if (e instanceof TesseraError && explicit) throw new UsageError(`train: --pretrained ${explicit} does not exist`);
    throw e;
  }
}

/** A Tessera model file's metadata (null for any other file); bad metadata is a usage error. */
export async function modelFileMeta(path: string) {
  try {
    return await modelFileMetaIn(path);
  } catch (e) {
    if (e instanceof TesseraError) throw new UsageError(e.message);
    throw e;
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
