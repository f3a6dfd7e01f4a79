// learn.exportOnnx(path) / exportOnnxBytes(): a learner trained through the API, exported, run
// in ONNX Runtime (onnxruntime-node, CPU provider): the same logits as the learner's model
// (max |Δlogit| ≤ 1e-4) and the same classes as learn.predict; the metadata carries the class
// names and the preprocessing. (InferenceLearner's export, the web app's path, is in test/web-app.test.ts.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { manualSeed, noGrad } from '@tessera/tensor';
import { decodeModel } from '@tessera/onnx';
import { ImageDataLoaders, prepareImage, toBatch, visionLearner } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-fastai-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('exports a trained learner to ONNX that ONNX Runtime runs with the learner’s logits and predictions', async () => {
  manualSeed(1);
  const dls = await ImageDataLoaders.counting({ range: [1, 3], perClass: 8, size: 32, bs: 4, seed: 1, workers: 0 });
  try {
    const learn = await visionLearner(dls, 'darknet-tiny', { pretrained: false, progress: false });
    await learn.fitOneCycle(1, 3e-3); // BatchNorm statistics and the head move away from their initial values
    const file = join(dir, 'model.onnx');
    await learn.exportOnnx(file);
    const bytes = readFileSync(file);
    // Buffer.equals, not toEqual: a deep equality walks 4 MB element by element for minutes.
    expect(bytes.equals(await learn.exportOnnxBytes())).toBe(true);
    await expect(learn.exportOnnx(join(dir, 'model.bin'))).rejects.toThrow(/exportOnnx: the path '.*model\.bin' must end in \.onnx/);

    const graph = decodeModel(bytes).graph!;
    const dims = graph.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || String(d.dimValue));
    expect(dims).toEqual(['batch', '3', '32', '32']);
    const props = Object.fromEntries(decodeModel(bytes).metadataProps!.map((e) => [e.key, e.value]));
    expect(JSON.parse(props['classes']!)).toEqual(['1', '2', '3']);
    expect(JSON.parse(props['tessera.preprocess']!)).toEqual(learn.preprocess);

    // One batch of the validation loader's size: a shape the fit's validation already compiled kernels for.
    const images = await Promise.all([0, 1, 2, 3].map((i) => dls.validDs.load(i, 32)));
    const p = learn.preprocess;
    const x = toBatch(images.map((img) => prepareImage(img, p)), p);
    learn.model.eval();
    const y = noGrad(() => learn.model.call(x));
    const ours = (await y.toArray()) as Float32Array;
    const nhwc = (await x.toArray()) as Float32Array;
    y.dispose();
    x.dispose();
    const n = images.length;
    const s = p.size;
    const nchw = new Float32Array(nhwc.length);
    for (let b = 0; b < n; b++) for (let i = 0; i < s * s; i++) for (let c = 0; c < 3; c++) nchw[((b * 3 + c) * s * s) + i] = nhwc[(b * s * s + i) * 3 + c]!;
    // One thread: ONNX Runtime's spinning workers would fight the GPU emulation for the cores.
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
    const theirs = (await session.run({ input: new ort.Tensor('float32', nchw, [n, 3, s, s]) }))['logits']!.data as Float32Array;
    await session.release();
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    console.log(`[fastai exportOnnx] ${bytes.length} bytes, max |Δlogit| ${maxDiff.toExponential(2)}`);
    expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(0.05); // not a constant output
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    for (const [b, img] of images.slice(0, 2).entries()) {
      const row = theirs.subarray(b * 3, b * 3 + 3);
      expect((await learn.predict(img)).index).toBe(row.indexOf(Math.max(...row)));
    }

  } finally {
    await dls.close();
  }
}, 300_000);
