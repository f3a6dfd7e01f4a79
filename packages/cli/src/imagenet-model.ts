/**
 * `predict`'s model when it is given an architecture name (`predict darknet-tiny cat.jpg`)
 * or a TF.js model.json: the ImageNet classifier, converted on the fly from the weights
 * `train` would use (weights.ts's lookup: the bundled Tiny Darknet, the cache that
 * `weights get` fills, …). Class names come from a labels.txt beside a model.json.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Arch, type Module, type ModelMeta, createNetwork, defaultPreprocess, loadStateDict, pretrainedKeys } from '@tessera/nn';
import { io, loadModel } from '@tessera/nn/node';
import { UsageError } from './args.js';
import { findWeights, missingWeightsMessage } from './weights.js';

export async function imagenetClassifier(arch: Arch): Promise<{ model: Module; meta: ModelMeta; path: string }> {
  const path = await findWeights(arch);
  if (!path) throw new UsageError(`predict: ${missingWeightsMessage(arch, false)}`);
  return { ...(path.endsWith('.json') ? await tfjsClassifier(path, arch) : await loadModel(path)), path };
}

/** A TF.js model.json (Tiny Darknet) as a classifier, without writing a model file. */
export async function tfjsClassifier(modelJson: string, arch: Arch = 'darknet-tiny'): Promise<{ model: Module; meta: ModelMeta }> {
  const sd = pretrainedKeys(arch, await io.readStateDict(modelJson));
  const n = sd.get(arch === 'darknet-tiny' ? 'classifier.weight' : 'fc.weight')?.shape[0] ?? 1000;
  const labels = await readFile(join(dirname(modelJson), 'labels.txt'), 'utf8').then(
    (t) => t.split('\n').map((l) => l.trim()).filter(Boolean),
    () => [] as string[],
  );
  const classes = labels.length === n ? labels : Array.from({ length: n }, (_, i) => String(i));
  const model = createNetwork(arch, n);
  loadStateDict(model, sd, { source: modelJson });
  return { model, meta: { arch, kind: 'classifier', classes, preprocess: defaultPreprocess(arch) } };
}
