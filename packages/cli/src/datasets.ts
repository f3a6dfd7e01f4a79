/**
 * Resolves the <dataset> argument to ImageDataLoaders (@tessera/fastai): a folder, a name
 * under $TESSERA_DATA, or a synthetic counting task (generated in memory, nothing to download).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ImageDataLoaders, TooFewImagesError, augTransforms, resize, type ImageDataLoadersOptions } from '@tessera/fastai/node';
import { UsageError } from './args.js';
import { COUNTING_RECIPE } from './counting-recipe.js';

export interface DatasetArg {
  name: string;
  /** counting-LO-HI: its range; a folder: null. */
  counting: [number, number] | null;
  folder: string | null;
}

const COUNTING = /^counting(?:-(\d+)-(\d+))?$/;

export function dataDir(): string {
  return resolve(process.env.TESSERA_DATA ?? './data');
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

/** What the argument names, or one line saying it names nothing. */
export async function resolveDatasetArg(arg: string): Promise<DatasetArg> {
  const m = COUNTING.exec(arg);
  if (m && !(await isDir(arg))) return { name: arg, counting: m[1] ? [Number(m[1]), Number(m[2])] : [1, 5], folder: null };
  for (const folder of [resolve(arg), join(dataDir(), arg)]) if (await isDir(folder)) return { name: arg, counting: null, folder };
  throw new UsageError(
    `train: no dataset '${arg}': it is neither a folder nor a name under ${dataDir()} (set TESSERA_DATA), nor 'counting' / 'counting-LO-HI'`,
  );
}

/** The loaders: fastai's lesson transforms for a folder (Resize crop + aug_transforms), the counting task's own for drawn data. */
export async function openDataset(
  command: string,
  d: DatasetArg,
  o: ImageDataLoadersOptions & { size: number; perClass?: number },
): Promise<{ dls: ImageDataLoaders; perClass?: number }> {
  try {
    if (d.counting) {
      const perClass = o.perClass ?? COUNTING_RECIPE.perClass;
      return { dls: await ImageDataLoaders.counting({ ...o, range: d.counting, perClass }), perClass };
    }
    return { dls: await ImageDataLoaders.fromFolder(d.folder!, { ...o, itemTfms: resize(o.size), batchTfms: augTransforms() }) };
  } catch (e) {
    if (e instanceof TooFewImagesError) {
      throw new UsageError(
        `${command}: too few images: ${e.train} for training and ${e.valid} for validation; ` +
          'at least 2 and 1 are needed (give more images, e.g. a larger --per-class, or change --valid-pct)',
      );
    }
    throw e;
  }
}
