/**
 * `run.json` in a run folder: what the run was trained with that a resume must keep (the image
 * size and the architecture). `--resume` reads it: a different --size is refused, and a
 * resume without --size takes the run's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@tessera/vision/node';

export const RUN_CONFIG_FILE = 'run.json';

export interface RunConfig {
  arch: string;
  size: number;
  bs: number;
  dataset: string;
}

export async function writeRunConfig(dir: string, config: RunConfig): Promise<void> {
  await writeFileAtomic(join(dir, RUN_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/** The run's config, or null when the folder has none (a run from before run.json) or it is unreadable. */
export async function readRunConfig(dir: string): Promise<RunConfig | null> {
  try {
    const v = JSON.parse(await readFile(join(dir, RUN_CONFIG_FILE), 'utf8')) as Partial<RunConfig>;
    return typeof v.size === 'number' && typeof v.arch === 'string' ? (v as RunConfig) : null;
  } catch {
    return null;
  }
}
