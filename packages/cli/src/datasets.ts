/**
 * Resolves the <dataset> argument: a folder, a name under $TESSERA_DATA, or a
 * synthetic counting task (generated in memory, nothing to download).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CountingDataset, splitDataset, type VisionDataset } from '@tessera/vision';
import { ImageFolder } from '@tessera/vision/node';
import { UsageError } from './args.js';
import { COUNTING_RECIPE } from './counting-recipe.js';

export interface ResolvedData {
  name: string;
  train: VisionDataset;
  valid: VisionDataset;
  classes: string[];
  /** Synthetic data: trained from scratch unless weights are given. */
  synthetic: boolean;
  skipped: number;
  describe: string;
  /** Synthetic counting: images per class. */
  perClass?: number;
}

const COUNTING = /^counting(?:-(\d+)-(\d+))?$/;

export function dataDir(): string {
  return resolve(process.env.TESSERA_DATA ?? './data');
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

export async function resolveDataset(
  arg: string,
  o: { validPct: number; seed: number; perClass?: number; countingSize: number; maxBadFraction?: number; verify?: boolean },
): Promise<ResolvedData> {
  const m = COUNTING.exec(arg);
  if (m && !(await isDir(arg))) {
    const range: [number, number] = m[1] ? [Number(m[1]), Number(m[2])] : [1, 5];
    const perClass = o.perClass ?? COUNTING_RECIPE.perClass;
    const ds = new CountingDataset({ range, perClass, size: o.countingSize, seed: o.seed });
    const { train, valid } = splitDataset(ds, { validPct: o.validPct, seed: o.seed });
    return {
      name: arg,
      train,
      valid,
      classes: [...ds.classes],
      synthetic: true,
      skipped: 0,
      perClass,
      describe: `synthetic counting ${range[0]}-${range[1]}: ${ds.length} images (${perClass} per class, ${o.countingSize} px, discs of radius ${ds.options.radius} px)`,
    };
  }
  let folder = resolve(arg);
  if (!(await isDir(folder))) {
    const named = join(dataDir(), arg);
    if (!(await isDir(named))) {
      throw new UsageError(
        `train: no dataset '${arg}': it is neither a folder nor a name under ${dataDir()} (set TESSERA_DATA), nor 'counting' / 'counting-LO-HI'`,
      );
    }
    folder = named;
  }
  const f = await ImageFolder.open(folder, { validPct: o.validPct, seed: o.seed, maxBadFraction: o.maxBadFraction, verify: o.verify ? 'decode' : 'header' });
  return {
    name: arg,
    train: f.train,
    valid: f.valid,
    classes: [...f.classes],
    synthetic: false,
    skipped: f.skipped.length,
    describe: `${folder}: ${f.train.length} training and ${f.valid.length} validation images in ${f.classes.length} classes (${f.split === 'folders' ? 'train/valid folders' : `random ${Math.round(o.validPct * 100)}% validation split`})${f.skipped.length ? `, ${f.skipped.length} unreadable files skipped` : ''}`,
  };
}
