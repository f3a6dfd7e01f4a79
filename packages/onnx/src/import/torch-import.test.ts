// ONNX files written by PyTorch's torch.onnx.export import as Tessera modules that predict as
// PyTorch does, then fine-tune: torchvision's ResNet-18, MobileNetV2 (depthwise convolutions,
// ReLU6 as Clip) and SqueezeNet 1.1 (Concat, ceil-mode max pools, a convolutional classifier),
// with fixed random weights and BatchNorm statistics moved away from (0, 1) (torch folds them
// into the convolutions when it exports in eval mode), on the sample cat at 64 px.
// Needs Debian's PyTorch (scripts/setup.sh --with-torch); skips, saying why, without it.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adam } from '@tessera/nn';
import { initDevice, manualSeed, noGrad, softmax, softmaxCrossEntropy, tidy } from '@tessera/tensor';
import { runPython, scratchDir, torchOrSkip } from '@tessera/tensor/testing/node';
import { OnnxGraphModule, UnsupportedOnnxError, onnxVisionModel, parseOnnx } from '../index.js';
import { readOnnxFile } from '../node/index.js';
import { chainModel, nhwcBatch, preparedImage, testImages, topK } from '../testing/models.js';

const SIZE = 64;
const torch = torchOrSkip('onnx import', ['torch', 'torchvision', 'onnx']);
const images = testImages(9);
const why = !torch.ok ? torch.reason : 'missing' in images ? images.missing : null;
if (torch.ok && why) console.log(`[onnx import] skipped: ${why}`);

const MODELS = ['resnet18', 'mobilenet_v2', 'squeezenet1_1'] as const;
const PREPROCESS = { size: SIZE, normalize: 'imagenet', resize: 'crop' } as const;

describe.skipIf(why !== null)('torchvision models exported by torch.onnx import into Tessera', () => {
  const scratch = scratchDir('onnx-torch');
  const files = 'files' in images ? images.files : [];
  afterAll(() => scratch.remove());

  beforeAll(async () => {
    await initDevice();
    const cat = await preparedImage(files[0]!, PREPROCESS);
    const input = scratch.write('input.bin', cat.nchw);
    await runPython(join(import.meta.dirname, '../testing/torch_onnx_fixtures.py'), { args: [scratch.dir, SIZE, input] });
  }, 300_000);

  for (const name of MODELS) {
    it(`${name}: same top-5 as PyTorch, |Δp| ≤ 1e-5`, async () => {
      const g = await readOnnxFile(scratch.path(`${name}.onnx`));
      const model = new OnnxGraphModule(g, { source: name }).eval();
      const x = nhwcBatch([await preparedImage(files[0]!, PREPROCESS)], SIZE);
      const p = noGrad(() => tidy(() => softmax(model.call(x), -1)));
      const ours = (await p.toArray()) as Float32Array;
      p.dispose();
      x.dispose();
      model.dispose();
      const theirs = scratch.f64(`${name}.probs.bin`);
      let maxDiff = 0;
      for (let i = 0; i < theirs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
      console.log(`[onnx import] ${name}: max |Δp| ${maxDiff.toExponential(2)}, top-5 ${topK(theirs, 5)}`);
      expect(topK(ours, 5)).toEqual(topK(theirs, 5));
      expect(maxDiff).toBeLessThanOrEqual(1e-5);
    });
  }

  it('a model saved with external data (weights in a file beside it) loads and predicts the same', async () => {
    await runPython({
      code: [
        'import onnx, sys',
        `m = onnx.load(${JSON.stringify(scratch.path('squeezenet1_1.onnx'))})`,
        `onnx.save_model(m, ${JSON.stringify(scratch.path('ext.onnx'))}, save_as_external_data=True, all_tensors_to_one_file=True, location='ext.weights', size_threshold=0)`,
      ].join('\n'),
    });
    expect(statSync(scratch.path('ext.onnx')).size).toBeLessThan(100_000);
    const x = nhwcBatch([await preparedImage(files[0]!, PREPROCESS)], SIZE);
    const run = async (file: string) => {
      const m = new OnnxGraphModule(await readOnnxFile(file), { source: file }).eval();
      const y = noGrad(() => m.call(x));
      const v = (await y.toArray()) as Float32Array;
      y.dispose();
      m.dispose();
      return v;
    };
    expect(await run(scratch.path('ext.onnx'))).toEqual(await run(scratch.path('squeezenet1_1.onnx')));
    x.dispose();
    // Without the data file: one line saying where the weights should be.
    rmSync(scratch.path('ext.weights'));
    await expect(readOnnxFile(scratch.path('ext.onnx'))).rejects.toThrow(/ext\.weights' beside it, which cannot be read/);
  });

  for (const name of MODELS) {
    it(`${name}: body + fastai head, one fine-tuning epoch lowers the training loss`, async () => {
      manualSeed(1);
      const g = await readOnnxFile(scratch.path(`${name}.onnx`));
      // No dropout in the head, so that the loss before and after is measured without noise.
      const model = onnxVisionModel(g, 2, { source: name, psLast: 0 });
      model.freezeBody();
      // Eight real photos in two made-up classes: the loss can only fall by learning them.
      const prepared = await Promise.all(files.slice(1, 9).map((f) => preparedImage(f, PREPROCESS)));
      const labels = prepared.map((_, i) => i % 2);
      // One epoch: the eight photos once, in batches of four.
      const batches = [[0, 1, 2, 3], [4, 5, 6, 7]];
      // The training loss: the training-mode forward (batch statistics, as the steps see it) on all eight.
      const lossOf = async () => {
        model.train();
        const x = nhwcBatch(prepared, SIZE);
        const l = noGrad(() => softmaxCrossEntropy(model.call(x), labels));
        x.dispose();
        const v = ((await l.toArray()) as Float32Array)[0]!;
        l.dispose();
        return v;
      };
      const before = await lossOf();
      const opt = new Adam(model.paramGroups(), { lr: 5e-3 });
      model.train();
      for (const b of batches) {
        tidy(() => {
          const x = nhwcBatch(b.map((i) => prepared[i]!), SIZE);
          const loss = softmaxCrossEntropy(model.call(x), b.map((i) => labels[i]!));
          loss.backward();
          opt.step();
          opt.zeroGrad();
        });
      }
      const after = await lossOf();
      model.dispose();
      console.log(`[onnx import] ${name} fine-tuning: training loss ${before.toFixed(4)} → ${after.toFixed(4)}`);
      expect(after).toBeLessThan(before);
    });
  }
});

describe('unsupported graphs', () => {
  it('lists every unsupported operator and attribute at once, before loading anything', async () => {
    await initDevice();
    const bytes = chainModel([
      { opType: 'Resize', name: 'up', input: ['x'], output: ['a'] },
      { opType: 'MaxPool', name: 'pool', input: ['a'], output: ['b'], attribute: [{ name: 'kernel_shape', type: 7, ints: [3, 3] }, { name: 'dilations', type: 7, ints: [2, 2] }] },
      { opType: 'Conv', name: 'conv', input: ['b', 'w'], output: ['c'], attribute: [{ name: 'pads', type: 7, ints: [0, 0, 1, 1] }] },
      { opType: 'Gelu', name: 'act', input: ['c'], output: ['y'] },
    ]);
    const g = parseOnnx(bytes, 'bad.onnx');
    let err: unknown;
    try {
      new OnnxGraphModule(g, { source: 'bad.onnx' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOnnxError);
    const problems = (err as UnsupportedOnnxError).problems;
    expect(problems).toEqual([
      "Resize: the operator is not supported (1 node: 'up')",
      "Gelu: the operator is not supported (1 node: 'act')",
      "MaxPool 'pool': dilations=[2,2] (dilated pooling) is not supported",
      "Conv 'conv': asymmetric pads=[0,0,1,1] are not supported",
      "Conv 'conv': the weight (input 1) must be a constant (an initializer), not computed",
    ]);
    expect(() => parseOnnx(new Uint8Array([0xff, 0xff, 0xff]), 'junk.onnx')).toThrow(/junk.onnx is not an ONNX model/);
  });
});
