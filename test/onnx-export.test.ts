// `tessera export` end to end: Tiny Darknet (the bundled ImageNet weights, converted to a model
// file) exported to ONNX; onnxruntime-node, fed as the file's own metadata says, gives the
// same top-5 as `tessera predict --json` on real photos. Bad input: one line, nothing lost.
// Runs the built CLI (`pnpm -s build` first); skips, saying why, without the shared photos.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { bundledWeights } from '@tessera/nn/node';
import type { Preprocess } from '@tessera/nn';
import { decodeModel } from '@tessera/onnx';
import { preparedImage, testImages, topK } from '../packages/onnx/src/testing/models.js';
import { CLI, tessera } from './support/cli.js';

const images = testImages(3);
const modelJson = bundledWeights('darknet-tiny');
const why = 'missing' in images ? images.missing : !existsSync(CLI) ? `${CLI} not built (pnpm -s build)` : !modelJson ? 'no bundled Tiny Darknet' : null;
if (why) console.log(`[onnx-export cli] skipped: ${why}`);

describe.skipIf(why !== null)('tessera export', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = 'files' in images ? images.files : [];

  it('exports a model file; onnxruntime-node predicts the same top-5 as tessera predict', async () => {
    const model = join(dir, 'darknet.safetensors');
    const onnx = join(dir, 'darknet.onnx');
    const labels = join(dirname(modelJson!), 'labels.txt');
    expect(tessera(['convert', modelJson!, model, '--labels', labels]).code).toBe(0);
    const ex = tessera(['export', model, onnx]);
    expect(ex.stderr).toBe('');
    expect(ex.code).toBe(0);
    const pred = tessera(['predict', model, ...files, '--json']);
    expect(pred.code).toBe(0);
    const expected = JSON.parse(pred.stdout) as { top: { index: number; prob: number }[] }[];

    // A consumer's path: everything from the ONNX file itself.
    const bytes = readFileSync(onnx);
    const props = Object.fromEntries(decodeModel(bytes).metadataProps!.map((e) => [e.key!, e.value!]));
    const preprocess = JSON.parse(props['tessera.preprocess']!) as Preprocess;
    const classes = JSON.parse(props['classes']!) as string[];
    expect(classes.length).toBe(1000);
    const session = await ort.InferenceSession.create(bytes);
    for (const [i, file] of files.entries()) {
      const x = (await preparedImage(file, preprocess)).nchw;
      const s = preprocess.size;
      const logits = (await session.run({ input: new ort.Tensor('float32', x, [1, 3, s, s]) }))['logits']!.data as Float32Array;
      expect(topK(logits, 5)).toEqual(expected[i]!.top.map((t) => t.index));
    }
    await session.release();
  });

  it('refuses bad input in one line and keeps an existing output', () => {
    const out = join(dir, 'keep.onnx');
    writeFileSync(out, 'old');
    const notModel = join(dir, 'notes.safetensors');
    writeFileSync(notModel, 'not a model');
    for (const args of [['export', join(dir, 'nope'), out], ['export', notModel, out], ['export', notModel, join(dir, 'x.txt')]]) {
      const r = tessera(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readFileSync(out, 'utf8')).toBe('old');
  });
});
