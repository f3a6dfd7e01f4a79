/** `tessera lr-find <dataset> [train options] [--num-it N]`: fastai's learning-rate finder. */
import { join, resolve } from 'node:path';
import { minimum, slide, steep, valley } from '@tessera/nn';
import { lineChart } from '@tessera/vision/node';
import { makeFolder } from '@tessera/tensor/node';
import { acquireRunLock, type RunLock } from '../run-lock.js';
import { setupTraining, withBatchHint } from './train.js';
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
    let lock: RunLock | null = null;
    try {
      for (const line of info) console.log(line);
      const out = resolve(String(o.out ?? join('runs', `${s.data.name.replace(/[^\w.-]+/g, '_')}-${s.arch}`)));
      await makeFolder(out);
      lock = await acquireRunLock(out, 'lr-find');
      for (const note of lock.notes) console.log(note);
      // fastai runs the finder on the frozen model when it was pretrained.
      if (s.pretrained) s.learn.freeze();
      const numIt = Math.min((o['num-it'] as number | undefined) ?? 100, 100 * s.trainSrc.numBatches);
      const r = await s.learn.lrFind({ numIt, suggestFuncs: [valley, minimum, steep, slide] });
      const fmt = (v: number) => v.toExponential(2);
      console.log(`suggested learning rates: ${Object.entries(r.suggestions).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
      const [vx, vy] = r.points.valley ?? [NaN, NaN];
      const file = join(out, 'lr_find.png');
      await lineChart(file, [{ name: 'smoothed loss', x: r.lrs, y: r.losses }], {
        title: 'Learning rate finder',
        xLabel: 'learning rate (log scale)',
        yLabel: 'loss',
        logX: true,
        ...(Number.isFinite(vx) ? { mark: { x: vx, y: vy, label: `valley ${fmt(vx)}` } } : {}),
      });
      const skipped = s.skippedFiles();
      if (skipped) console.log(`skipped files: ${skipped} could not be decoded (named above)`);
      console.log(`wrote ${file}`);
      return 0;
    } catch (e) {
      throw withBatchHint(e, 'lr-find', s.bs, s.size);
    } finally {
      await lock?.release();
      await s.close();
    }
  },
};
