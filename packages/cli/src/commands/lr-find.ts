/** `tessera lr-find <dataset> [train options] [--num-it N]`: fastai's learning-rate finder. */
import { join } from 'node:path';
import { minimum, slide, steep, valley } from '@tessera/fastai/node';
import { makeFolder } from '@tessera/tensor/node';
import { acquireRunLock, type RunLock } from '../run-lock.js';
import { runFolder, setupTraining, withBatchHint } from './train.js';
import type { Command } from './index.js';
import type { OptionTable } from '../args.js';

/** `lr-find` takes `train`'s options and these. */
export const LR_FIND_OPTIONS = {
  'num-it': { kind: 'int', default: 100, help: 'mini-batches to try learning rates on (at most 100 epochs of them)' },
} as const satisfies OptionTable;

export const lrFindCommand: Command = {
  summary: 'suggest a learning rate (lr-find <dataset> [--arch …] [--num-it 100]); writes lr_find.png',
  async run(argv) {
    const { o, setup: s, info } = await setupTraining('lr-find', argv, LR_FIND_OPTIONS);
    const { learn, dls } = s;
    let lock: RunLock | null = null;
    try {
      for (const line of info) console.log(line);
      const out = runFolder(o, s, false);
      await makeFolder(out);
      lock = await acquireRunLock(out, 'lr-find');
      for (const note of lock.notes) console.log(note);
      // The learner is frozen when pretrained (fastai's vision_learner), so the finder runs on the head, as fastai's.
      const numIt = Math.min((o['num-it'] as number | undefined) ?? 100, 100 * dls.train.numBatches);
      const file = join(out, 'lr_find.png');
      const r = await learn.lrFind({ numIt, suggestFuncs: [valley, minimum, steep, slide], file });
      console.log(`suggested learning rates: ${Object.entries(r.suggestions).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
      const skipped = dls.skippedFiles();
      if (skipped) console.log(`skipped files: ${skipped} could not be decoded (named above)`);
      console.log(`wrote ${file}`);
      return 0;
    } catch (e) {
      throw withBatchHint(e, 'lr-find', dls.bs, dls.size);
    } finally {
      await lock?.release();
      await dls.close();
    }
  },
};
