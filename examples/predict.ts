/**
 * Prediction with a saved model: a file written by `learn.export()` (or `tessera train`'s
 * model.safetensors) classifies images, as fastai's `load_learner(path).predict(img)`.
 *   pnpm --filter @tessera/examples predict -- --model runs/paintings-resnet34/model.safetensors --image cat.jpg
 */
import { loadLearner } from '@tessera/fastai/node';
import { settings } from './settings.js';

const { model, image } = settings({ model: 'lesson1/model.safetensors', image: 'data/samples/cat.jpg' });

const learn = await loadLearner(model);
const { label, probs } = await learn.predict(image);
const top = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, 3);
console.log(`${image}: ${label}`);
for (const i of top) console.log(`  ${(probs[i]! * 100).toFixed(2).padStart(6)}%  ${learn.classes[i]}`);
