/** `tessera predict <model.safetensors | run-folder | model.json | arch> <image…> [--topk K] [--json]`: a shell over @tessera/fastai's loadLearner and predict. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { initDevice } from '@tessera/tensor';
import { ARCHS, type Arch } from '@tessera/nn';
import { imagenetClassifier } from '@tessera/nn/node';
import { ImageDecodeError } from '@tessera/vision';
import { InferenceLearner, loadLearner } from '@tessera/fastai/node';
import { UsageError, parseArgs, type OptionTable } from '../args.js';
import { largestBatch, largestSize } from '../limits.js';
import { findWeights, missingWeightsMessage } from '../weights.js';
import type { Command } from './index.js';

export const PREDICT_OPTIONS = {
  topk: { kind: 'int', default: 5, metavar: 'K', help: 'classes to print per image, most likely first' },
  json: { kind: 'flag', help: 'print the results as JSON' },
} as const satisfies OptionTable;

export const predictCommand: Command = {
  summary: 'classify images with a trained or converted model (predict <model> <image…>)',
  async run(argv) {
    const { positional, options } = parseArgs('predict', argv, PREDICT_OPTIONS);
    const [modelPath, ...images] = positional;
    if (!modelPath || images.length === 0) throw new UsageError('predict: usage: predict <model.safetensors | run-folder | model.json | arch> <image…> [--topk K] [--json]');
    if (options.topk !== undefined && (options.topk as number) < 1) throw new UsageError(`predict: --topk must be at least 1, got ${options.topk}`);
    let file = modelPath;
    const st = await stat(modelPath).catch(() => null);
    const arch = (ARCHS as readonly string[]).includes(modelPath) ? (modelPath as Arch) : undefined;
    if (!st && !arch) throw new UsageError(`predict: ${modelPath} does not exist (give a model file, a run folder, a model.json, or an architecture: ${ARCHS.join(', ')})`);
    if (st?.isDirectory()) file = join(modelPath, 'model.safetensors');
    if (!st && !(await findWeights(arch!))) throw new UsageError(`predict: ${missingWeightsMessage(arch!, false)}`);
    const { limits } = await initDevice();
    // An architecture name is its ImageNet classifier (the weights lookup); a file is loadLearner's (a model.json converts on the fly).
    const learn = !st ? await imagenetClassifier(arch!).then(({ model, meta }) => new InferenceLearner(model, meta)) : await loadLearner(file);
    const meta = learn.meta;
    if (largestBatch(meta.preprocess.size, limits) < 1) {
      throw new UsageError(`predict: ${file} asks for ${meta.preprocess.size}px images; this adapter holds at most ${largestSize(1, limits)}px`);
    }
    const k = Math.min((options.topk as number | undefined) ?? 5, meta.classes.length);
    // One bad file does not cost the others their predictions: it is named (stderr), the rest are
    // classified, and the exit status says something went wrong.
    const results: ({ file: string; top: { label: string; index: number; prob: number }[] } | { file: string; error: string })[] = [];
    let failed = 0;
    for (const path of images) {
      let p: Float32Array;
      try {
        p = (await learn.predict(path)).probs;
      } catch (err) {
        if (!(err instanceof ImageDecodeError)) throw err;
        failed++;
        console.error(`predict: skipping ${path}: ${err.reason}`);
        results.push({ file: path, error: err.reason });
        continue;
      }
      const order = [...p.keys()].sort((a, b) => p[b]! - p[a]!).slice(0, k);
      results.push({ file: path, top: order.map((i) => ({ label: meta.classes[i]!, index: i, prob: p[i]! })) });
    }
    if (options.json) console.log(JSON.stringify(results, null, 2));
    else {
      for (const r of results) {
        if (!('top' in r)) continue;
        console.log(r.file);
        for (const t of r.top) console.log(`  ${(t.prob * 100).toFixed(2).padStart(6)}%  ${t.label} (${t.index})`);
      }
    }
    if (failed) console.error(`predict: ${failed} of ${images.length} images could not be decoded`);
    return failed ? 1 : 0;
  },
};
