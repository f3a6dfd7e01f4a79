/**
 * Counting discs: Tessera's synthetic task (no download). Images of 1–5 discs are drawn on the
 * fly; the class is the count. Tiny Darknet starts from its bundled ImageNet weights.
 *   pnpm --filter @tessera/examples counting
 */
import { ImageDataLoaders, errorRate, visionLearner } from '@tessera/fastai/node';
import { settings } from './settings.js';

const { lo, hi, perClass, size, bs, epochs, lr } = settings({ lo: 1, hi: 5, perClass: 400, size: 64, bs: 32, epochs: 5, lr: 2e-3 });

const dls = await ImageDataLoaders.counting({ range: [lo, hi], perClass, size, bs, seed: 42 });
console.log(dls.description);
const learn = await visionLearner(dls, 'darknet-tiny', { metrics: [errorRate] });
await learn.fineTune(epochs, lr);

const [, error] = await learn.validate();
const { errorRate: ttaError } = await learn.tta();
console.log(`error_rate ${error!.toFixed(4)}, with test-time augmentation ${ttaError.toFixed(4)} (chance: ${(1 - 1 / dls.classes.length).toFixed(4)})`);
await dls.close();
