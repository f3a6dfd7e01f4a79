/**
 * fastai's lesson 1 in Tessera: classify paintings by style, fine-tuning an ImageNet model.
 *   pnpm --filter @tessera/examples lesson1 -- --path /path/to/paintings
 * (every setting below can be given as --name value; CI runs this file on a tiny folder.)
 */
import { mkdir } from 'node:fs/promises';
import { ClassificationInterpretation, ImageDataLoaders, augTransforms, errorRate, loadLearner, resize, visionLearner } from '@tessera/fastai/node';
import { settings } from './settings.js';

const { path, arch, size, bs, numIt, epochs, image, out } = settings({
  path: 'data/paintings', arch: 'resnet34', size: 224, bs: 32, numIt: 100, epochs: 4, image: 'data/samples/cat.jpg', out: 'lesson1',
});
await mkdir(out, { recursive: true });

const dls = await ImageDataLoaders.fromFolder(path, { validPct: 0.2, seed: 42, itemTfms: resize(size), batchTfms: augTransforms(), bs });
await dls.showBatch({ file: `${out}/batch.png` });
const learn = await visionLearner(dls, arch, { metrics: [errorRate] }); // pretrained when weights are found
const { valley } = await learn.lrFind({ numIt });
await learn.fineTune(epochs, valley);

const interp = await ClassificationInterpretation.fromLearner(learn);
await interp.plotConfusionMatrix({ file: `${out}/confusion.png` });
console.log('most confused:', interp.mostConfused(2));

await learn.export(`${out}/model.safetensors`);
const learn2 = await loadLearner(`${out}/model.safetensors`);
const { label, probs } = await learn2.predict(image);
console.log(`${image}: ${label} (${(Math.max(...probs) * 100).toFixed(1)}%)`);
await dls.close();
