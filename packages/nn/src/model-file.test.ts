// saveModel / loadModel: a safetensors file with PyTorch names and layouts plus the metadata
// that rebuilds the model; written atomically (temporary file, then rename).

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice, memoryStats, noGrad, randn } from '@tessera/tensor';
import type { RawTensor, StateDict } from './io/index.js';
import { type ModelMeta, buildModel, createNetwork, defaultPreprocess, loadPretrained, modelFromBytes, modelToBytes } from './model-file.js';
import { loadModel, saveModel, saveStateDictAsModel } from './node/model-files.js';
import { readSafetensors, writeSafetensors } from './node/weight-files.js';
import { serializeSafetensors } from './io/index.js';
import { resnet18 } from './models/resnet.js';
import { createVisionModel } from './models/vision-model.js';
import { exportStateDict } from './weights.js';

let dir = '';
beforeAll(async () => {
  await initDevice();
  dir = mkdtempSync(join(tmpdir(), 'tessera-model-file-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const meta: ModelMeta = { arch: 'resnet18', kind: 'vision', classes: ['ants', 'bees', 'wasps'], preprocess: defaultPreprocess('resnet18') };

describe('saveModel / loadModel', () => {
  it('round-trips a vision model: metadata, every tensor (BatchNorm statistics included) and the outputs', async () => {
    const vm = createVisionModel(resnet18(), 3);
    // A training-mode pass gives every BatchNorm non-trivial statistics and a batch count.
    const warm = randn([2, 32, 32, 3]);
    noGrad(() => vm.call(warm)).dispose();
    vm.eval();
    const file = join(dir, 'model.safetensors');
    await saveModel(file, vm, meta);
    expect(readdirSync(dir)).toEqual(['model.safetensors']); // no temporary file left

    const { metadata } = await readSafetensors(file);
    expect(metadata).toMatchObject({ format: 'tessera-model-1', layout: 'pytorch', arch: 'resnet18', kind: 'vision' });
    const { model, meta: got } = await loadModel(file);
    expect(got).toEqual(meta);
    const a = await exportStateDict(vm);
    const b = await exportStateDict(model);
    expect([...b.keys()]).toEqual([...a.keys()]);
    expect(a.get('0.0.weight')!.shape).toEqual([64, 3, 7, 7]); // PyTorch layout in the file
    expect(Number((b.get('0.1.num_batches_tracked')!.data as BigInt64Array)[0])).toBe(1);
    // Byte comparison: vitest's deep equality takes ~1 s per million elements.
    const bytes = (t: RawTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const differ = [...a].filter(([k, t]) => !bytes(t).equals(bytes(b.get(k)!))).map(([k]) => k);
    expect(differ).toEqual([]);

    model.eval();
    const x = randn([2, 32, 32, 3]);
    const ya = noGrad(() => vm.call(x));
    const yb = noGrad(() => model.call(x));
    expect(await yb.toArray()).toEqual(await ya.toArray());
    for (const t of [warm, x, ya, yb]) t.dispose();
    vm.dispose();
    model.dispose();
  });

  it('replaces an existing file, and a failed write leaves the old file intact and no temporary file', async () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const file = join(sub, 'm.safetensors');
    const net = resnet18(2);
    const sd = await exportStateDict(net);
    net.dispose();
    const classifier: ModelMeta = { arch: 'resnet18', kind: 'classifier', classes: ['a', 'b'], preprocess: defaultPreprocess('resnet18') };
    writeFileSync(file, 'old contents');
    await saveStateDictAsModel(file, sd, classifier);
    expect(readdirSync(sub)).toEqual(['m.safetensors']);
    const good = readFileSync(file);
    expect(good.length).toBeGreaterThan(11_000_000 * 4);

    // A state dict that fails half-way through writing the tensor data.
    class Failing extends Map<string, RawTensor> {
      override values(): MapIterator<RawTensor> {
        const it = super.values();
        let n = 0;
        return Object.assign(Object.create(it) as MapIterator<RawTensor>, {
          next: () => {
            if (++n > 3) throw new Error('disk full (simulated)');
            return it.next();
          },
          [Symbol.iterator]() {
            return this;
          },
        });
      }
    }
    const failing: StateDict = new Failing(sd);
    await expect(saveStateDictAsModel(file, failing, classifier)).rejects.toThrow('disk full (simulated)');
    expect(readdirSync(sub)).toEqual(['m.safetensors']);
    expect(readFileSync(file).equals(good)).toBe(true);
    expect((await loadModel(file)).meta).toEqual(classifier);
  });

  it('refuses a safetensors file without Tessera metadata, and checks the weights strictly', async () => {
    const plain = join(dir, 'plain.safetensors');
    await writeSafetensors(plain, new Map([['w', { dtype: 'f32', shape: [1], data: Float32Array.from([1]) }]]));
    await expect(loadModel(plain)).rejects.toThrow(/not a Tessera model file.*convert/);
    const wrong = join(dir, 'wrong.safetensors');
    await saveStateDictAsModel(wrong, new Map([['w', { dtype: 'f32', shape: [1], data: Float32Array.from([1]) }]]), meta);
    await expect(loadModel(wrong)).rejects.toThrow(/do not fit the model.*unexpected: w/);
  });
});

describe('modelToBytes / modelFromBytes', () => {
  // Found by the fuzzer (tools/fuzz, target model-file): every file whose weights did not fit
  // left the network it had built on the GPU (4 MB for Tiny Darknet), until the run was killed.
  it('frees the network it built when the weights do not fit', () => {
    const md = { format: 'tessera-model-1', layout: 'pytorch', arch: 'darknet-tiny', kind: 'classifier', classes: '["a","b"]', preprocess: JSON.stringify(defaultPreprocess('darknet-tiny')) };
    const bytes = serializeSafetensors(new Map([['w', { dtype: 'f32', shape: [1], data: Float32Array.from([1]) }]]), md);
    const before = memoryStats().bytesLive;
    expect(() => modelFromBytes(bytes, 'misfit.safetensors')).toThrow(/misfit\.safetensors/);
    expect(memoryStats().bytesLive).toBe(before);
  });

  // Found by the fuzzer (tools/fuzz, target model-file): metadata values are JSON the file
  // may fill with anything, and they were used unchecked (a TypeError for "null" classes, a
  // model with no classes, preprocessing with no size).
  it('refuses metadata whose classes or preprocessing are not what a model needs, naming the file', () => {
    const good = { format: 'tessera-model-1', layout: 'pytorch', arch: 'darknet-tiny', kind: 'classifier' };
    const pre = JSON.stringify(defaultPreprocess('darknet-tiny'));
    const cases: [string, string][] = [
      ['null', pre], ['[]', pre], ['[1,2]', pre],
      ['["a","b"]', 'null'], ['["a","b"]', '{"size":0.5,"normalize":"none","resize":"align-corners"}'],
      ['["a","b"]', '{"siz%":224,"normalize":"none","resize":"align-corners"}'],
      ['["a","b"]', '{"size":224,"normalize":"x","resize":"crop"}'],
    ];
    for (const [classes, preprocess] of cases) {
      const bytes = serializeSafetensors(new Map(), { ...good, classes, preprocess });
      expect(() => modelFromBytes(bytes, 'meta.safetensors'), `${classes} ${preprocess}`).toThrow(/^meta\.safetensors: unreadable model metadata/);
    }
  });

  it('are the bytes of a model file: a file saveModel wrote loads from its bytes, and the bytes load from a file', async () => {
    const classifier: ModelMeta = { arch: 'darknet-tiny', kind: 'classifier', classes: ['x', 'y'], preprocess: defaultPreprocess('darknet-tiny') };
    const { model: net } = modelFromBytes(await modelToBytes(createNetworkFor(classifier), classifier), 'net');
    const bytes = await modelToBytes(net, classifier);
    const file = join(dir, 'bytes.safetensors');
    await saveModel(file, net, classifier);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(bytes))).toBe(true);
    const back = modelFromBytes(bytes, 'upload.safetensors');
    expect(back.meta).toEqual(classifier);
    expect((await loadModel(file)).meta).toEqual(classifier);
    const a = await exportStateDict(net);
    const b = await exportStateDict(back.model);
    expect([...b.keys()]).toEqual([...a.keys()]);
    expect(() => modelFromBytes(new Uint8Array(4), 'junk.bin')).toThrow(/junk\.bin/);
    for (const m of [net, back.model]) m.dispose();
  });

  it('loadPretrained loads every body weight, leaves the classifier out, and says what does not fit', async () => {
    const imagenet = createNetwork('darknet-tiny', 1000);
    const sd = await exportStateDict(imagenet);
    imagenet.dispose();
    const net = createNetwork('darknet-tiny', 7);
    loadPretrained(net, 'darknet-tiny', sd, 'imagenet.safetensors');
    const got = await exportStateDict(net);
    expect(got.get('features.0.weight')!.data).toEqual(sd.get('features.0.weight')!.data);
    expect(got.get('classifier.weight')!.shape[0]).toBe(7);
    sd.delete('features.0.weight');
    expect(() => loadPretrained(net, 'darknet-tiny', sd, 'cut.safetensors')).toThrow(/cut\.safetensors does not hold darknet-tiny weights \(1 missing, 0 unexpected/);
    net.dispose();
  });
});

function createNetworkFor(meta: ModelMeta) {
  return buildModel(meta);
}

describe('model files a user should not feed predict', () => {
  const small: ModelMeta = { arch: 'darknet-tiny', kind: 'classifier', classes: ['a', 'b'], preprocess: defaultPreprocess('darknet-tiny') };
  async function smallModelFile(name: string, change: (sd: StateDict, m: ModelMeta) => ModelMeta = (_, m) => m): Promise<string> {
    const net = createNetwork('darknet-tiny', 2);
    const sd = await exportStateDict(net);
    net.dispose();
    const file = join(dir, name);
    await saveStateDictAsModel(file, sd, change(sd, { ...small, preprocess: { ...small.preprocess } }));
    return file;
  }

  it('names a PyTorch checkpoint or a TF.js model.json and says to convert it', async () => {
    const pth = join(dir, 'resnet34.pth');
    writeFileSync(pth, Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0]));
    await expect(loadModel(pth)).rejects.toThrow(`${pth} is a PyTorch checkpoint (torch.save), not a Tessera model file: convert it first with 'pnpm convert ${pth} model.safetensors`);
    const json = join(dir, 'model.json');
    writeFileSync(json, '{"modelTopology": {}, "weightsManifest": []}');
    await expect(loadModel(json)).rejects.toThrow(`${json} is a TF.js model (model.json), not a Tessera model file`);
  });

  it('refuses an input size outside 1..4096 in the metadata, naming the file', async () => {
    for (const size of [100000, 0, 1.5]) {
      const file = await smallModelFile(`size-${size}.safetensors`, (_, m) => ({ ...m, preprocess: { ...m.preprocess, size } }));
      await expect(loadModel(file)).rejects.toThrow(`${file}: unreadable model metadata: preprocess.size is ${size}; it must be a whole number of pixels from 1 to 4096`);
    }
    const noClasses = await smallModelFile('no-classes.safetensors', (_, m) => ({ ...m, classes: [] }));
    await expect(loadModel(noClasses)).rejects.toThrow('classes must be a non-empty list of names');
  });

  it('refuses weights that hold NaN (a diverged run) instead of predicting "NaN%"', async () => {
    const file = await smallModelFile('nan.safetensors', (sd, m) => {
      const t = sd.get('classifier.weight')!;
      (t.data as Float32Array)[3] = NaN;
      return m;
    });
    await expect(loadModel(file)).rejects.toThrow(/1 of \d+ weights are NaN or infinite \(first in 'classifier.weight'\).*lower --lr/);
    await expect(loadModel(await smallModelFile('fine.safetensors'))).resolves.toMatchObject({ meta: { classes: ['a', 'b'] } });
  });

  it('refuses /dev/zero and folders by name without reading them', async () => {
    await expect(loadModel('/dev/zero')).rejects.toThrow('/dev/zero: is not a regular file (a device, pipe or socket); give a model file on disk');
    await expect(loadModel(dir)).rejects.toThrow(`${dir}: is a folder, not a model file`);
  });
});
