// The ONNX import through the command line: torchvision's SqueezeNet 1.1 exported by
// torch.onnx (random weights, 64 px) is converted to a model file that `predict` reads with
// PyTorch's top-5; `train --pretrained model.onnx` fine-tunes its body with fastai's head on a
// small folder, and the run's model predicts and exports back to ONNX for onnxruntime-node.
// An unsupported graph is refused in one message that lists its operators, writing nothing.
// Needs Debian's PyTorch and the built CLI; skips, saying why, without them.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { runPython, scratchDir, torchOrSkip } from '@tessera/tensor/testing/node';
import { chainModel, preparedImage, testImages, topK } from '../packages/onnx/src/testing/models.js';
import { CLI, tessera } from './support/cli.js';

const FIXTURES = resolve(import.meta.dirname, '../packages/onnx/src/testing/torch_onnx_fixtures.py');
const images = testImages(1);
const torch = torchOrSkip('onnx-import cli', ['torch', 'torchvision', 'onnx']);
const why = !torch.ok ? torch.reason : 'missing' in images ? images.missing : !existsSync(CLI) ? `${CLI} not built (pnpm -s build)` : null;
if (torch.ok && why) console.log(`[onnx-import cli] skipped: ${why}`);

describe.skipIf(why !== null)('tessera convert / train --pretrained with an ONNX model', () => {
  const scratch = scratchDir('onnx-cli');
  let dir = '';
  let onnx = '';
  const cat = 'files' in images ? images.files[0]! : '';
  afterAll(() => scratch.remove());

  beforeAll(async () => {
    dir = scratch.dir;
    onnx = join(dir, 'squeezenet1_1.onnx');
    const x = await preparedImage(cat, { size: 64, normalize: 'imagenet', resize: 'crop' });
    await runPython(FIXTURES, { args: [dir, 64, scratch.write('input.bin', x.nchw), 'squeezenet1_1'] });
  }, 300_000);

  it('convert model.onnx → a model file that predicts PyTorch’s top-5', () => {
    const model = join(dir, 'squeezenet.safetensors');
    const c = tessera(['convert', onnx, model]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    const p = tessera(['predict', model, cat, '--json']);
    expect(p.code).toBe(0);
    const ours = (JSON.parse(p.stdout) as { top: { index: number }[] }[])[0]!.top.map((t) => t.index);
    const theirs = scratch.f64('squeezenet1_1.probs.bin');
    expect(ours).toEqual(topK(theirs, 5));
  });

  it('train --pretrained model.onnx fine-tunes; the run predicts and exports to ONNX', async () => {
    // A small folder: four ants and four bees to train on, two of each to validate.
    const root = resolve(process.env['TESSERA_DATA'] ?? './data', 'hymenoptera');
    const data = join(dir, 'data');
    for (const [split, n] of [['train', 4], ['val', 2]] as const) {
      for (const cls of ['ants', 'bees']) {
        mkdirSync(join(data, split, cls), { recursive: true });
        for (const f of readdirSync(join(root, split, cls)).filter((f) => f.endsWith('.jpg')).sort().slice(0, n)) copyFileSync(join(root, split, cls, f), join(data, split, cls, f));
      }
    }
    const run = join(dir, 'run');
    const t = tessera(['train', data, '--pretrained', onnx, '--size', '64', '--epochs', '1', '--freeze-epochs', '1', '--bs', '4', '--out', run]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/ONNX network from .*squeezenet1_1\.onnx/);
    const p = tessera(['predict', run, cat, '--json']);
    expect(p.code).toBe(0);
    const top = (JSON.parse(p.stdout) as { top: { label: string; prob: number }[] }[])[0]!.top;
    expect(top.map((x) => x.label).sort()).toEqual(['ants', 'bees']);
    const exported = join(dir, 'run.onnx');
    expect(tessera(['export', run, exported]).code).toBe(0);
    const session = await ort.InferenceSession.create(readFileSync(exported));
    const x = (await preparedImage(cat, { size: 64, normalize: 'imagenet', resize: 'crop' })).nchw;
    const logits = (await session.run({ input: new ort.Tensor('float32', x, [1, 3, 64, 64]) }))['logits']!.data as Float32Array;
    const e = [Math.exp(logits[0]!), Math.exp(logits[1]!)];
    const probs = { ants: e[0]! / (e[0]! + e[1]!), bees: e[1]! / (e[0]! + e[1]!) };
    for (const { label, prob } of top) expect(Math.abs(probs[label as 'ants' | 'bees'] - prob)).toBeLessThan(1e-4);
    await session.release();
  });

  it('an unsupported graph is refused with every problem named, and nothing is written', () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, chainModel([
      { opType: 'Resize', name: 'up', input: ['x'], output: ['a'] },
      { opType: 'HardSwish', name: 'act', input: ['a'], output: ['y'] },
    ]));
    const out = join(dir, 'bad.safetensors');
    const r = tessera(['convert', bad, out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Resize: the operator is not supported/);
    expect(r.stderr).toMatch(/HardSwish: the operator is not supported/);
    expect(existsSync(out)).toBe(false);
  });
});
