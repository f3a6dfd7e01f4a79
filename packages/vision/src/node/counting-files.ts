/** The synthetic counting task written out as an image folder, for tools that want files. */

import { join } from 'node:path';
import { CountingDataset, type CountingOptions } from '../datasets/counting.js';
import { encodePng } from '../encode/png.js';
import { writeFileAtomic } from './atomic-write.js';

export interface WriteCountingOptions extends CountingOptions {
  /** Output folder; gets one sub-folder per class. */
  out: string;
  /** Files written concurrently. Default 8. */
  concurrency?: number;
}

export interface WrittenCountingDataset {
  out: string;
  classes: string[];
  files: number;
}

/**
 * Writes the dataset as `out/<class>/<item>.png` (each file atomically), ready for ImageFolder
 * with a random split. Deterministic: running it again rewrites identical files.
 */
export async function writeCountingDataset(options: WriteCountingOptions): Promise<WrittenCountingDataset> {
  const dataset = new CountingDataset(options);
  const { perClass } = dataset.options;
  const digits = String(perClass - 1).length;
  let next = 0;
  const writeNext = async (): Promise<void> => {
    while (next < dataset.length) {
      const index = next++;
      const name = `${String(index % perClass).padStart(digits, '0')}.png`;
      const path = join(options.out, dataset.classes[dataset.label(index)]!, name);
      await writeFileAtomic(path, encodePng(dataset.render(index)));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, writeNext));
  return { out: options.out, classes: [...dataset.classes], files: dataset.length };
}
