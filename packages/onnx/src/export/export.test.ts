// Exported models run in ONNX Runtime (onnxruntime-node, CPU provider) and give Tessera's
// logits on real photos: ResNet-18 with fastai's head (random weights, random BatchNorm
// statistics, 64 px) and Tiny Darknet with its bundled ImageNet weights (224 px).
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { initDevice, manualSeed, noGrad } from '@tessera/tensor';
import {
  createNetwork, createVisionModel, darknetKeysFromKeras, defaultPreprocess, loadStateDict, type Module, type ModelMeta,
} from '@tessera/nn';
import { bundledWeights, io } from '@tessera/nn/node';
import { exportOnnx } from '../index.js';
import { decodeModel } from '../proto/onnx.js';
import { nhwcBatch, perturbBatchNorm, preparedImage, testImages, topK } from '../testing/models.js';

const images = testImages(4);
if ('missing' in images) console.log(`[onnx export] skipped: ${images.missing}`);

async function compareWithOrt(model: Module, meta: ModelMeta, files: string[]) {
  model.eval();
  const bytes = await exportOnnx(model, meta);
  const prepared = await Promise.all(files.map((f) => preparedImage(f, meta.preprocess)));
  const s = meta.preprocess.size;
  const x = nhwcBatch(prepared, s);
  const ours = noGrad(() => model.call(x));
  const expected = (await ours.toArray()) as Float32Array;
  ours.dispose();
  x.dispose();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  const nchw = new Float32Array(files.length * 3 * s * s);
  prepared.forEach((p, i) => nchw.set(p.nchw, i * p.nchw.length));
  const out = await session.run({ input: new ort.Tensor('float32', nchw, [files.length, 3, s, s]) });
  const got = out['logits']!.data as Float32Array;
  await session.release();
  const n = meta.classes.length;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - got[i]!));
  const tops = files.map((_, b) => [topK(expected.subarray(b * n, (b + 1) * n), 5), topK(got.subarray(b * n, (b + 1) * n), 5)]);
  return { bytes, maxDiff, tops, expected };
}

describe.skipIf('missing' in images)('ONNX export runs in onnxruntime-node with Tessera’s outputs', () => {
  const files = 'files' in images ? images.files : [];
  beforeAll(async () => {
    await initDevice();
  });

  it('ResNet-18 + fastai head (AdaptiveConcatPool, BatchNorm1d, Dropout), perturbed BatchNorm: same top-5, |Δlogit| ≤ 1e-4', async () => {
    manualSeed(7);
    const model = createVisionModel(createNetwork('resnet18'), 10);
    perturbBatchNorm(model);
    const meta: ModelMeta = { arch: 'resnet18', kind: 'vision', classes: [...'abcdefghij'], preprocess: { ...defaultPreprocess('resnet18'), size: 64 } };
    const { bytes, maxDiff, tops, expected } = await compareWithOrt(model, meta, files);
    model.dispose();
    console.log(`[onnx export] resnet18 vision: ${bytes.length} bytes, max |Δlogit| ${maxDiff.toExponential(2)}`);
    // The logits must be spread (a model that outputs constants would pass trivially).
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.5);
    for (const [ours, theirs] of tops) expect(theirs).toEqual(ours);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    const props = Object.fromEntries(decodeModel(bytes).metadataProps!.map((e) => [e.key, e.value]));
    expect(JSON.parse(props['classes']!)).toEqual(meta.classes);
    expect(props['size']).toBe('64');
    expect(JSON.parse(props['mean']!)).toEqual([0.485, 0.456, 0.406]);
    expect(JSON.parse(props['std']!)).toEqual([0.229, 0.224, 0.225]);
    expect(props['resize']).toMatch(/shorter side/);
  });

  const darknet = bundledWeights('darknet-tiny');
  it.skipIf(!darknet || !existsSync(darknet))('Tiny Darknet with its bundled ImageNet weights: same top-5, |Δlogit| ≤ 1e-4', async () => {
    const sd = darknetKeysFromKeras(io.kerasToTorch(await io.readTfjsModel(darknet!)));
    const net = createNetwork('darknet-tiny');
    loadStateDict(net, sd, { source: darknet! });
    const meta: ModelMeta = { arch: 'darknet-tiny', kind: 'classifier', classes: Array.from({ length: 1000 }, (_, i) => `c${i}`), preprocess: defaultPreprocess('darknet-tiny') };
    const { maxDiff, tops } = await compareWithOrt(net, meta, files.slice(0, 2));
    net.dispose();
    console.log(`[onnx export] darknet-tiny: max |Δlogit| ${maxDiff.toExponential(2)}`);
    for (const [ours, theirs] of tops) expect(theirs).toEqual(ours);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });
});
