import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WeightFileError } from './errors.js';
import { depthwiseToOihw, hwioToOihw, inOutToOutIn, kerasToTorch } from './keras-layout.js';
import { readTfjsModel } from '../node/weight-files.js';
import { bundledWeights } from '../node/bundled-weights.js';
import { parseTfjsModel, tfjsShardPaths } from './tfjs.js';
import { toNumbers, type RawTensor } from './types.js';
import { kerasLayer, layersModelJson } from './testing/keras-model.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-tfjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (values: number[]) => Buffer.from(Float32Array.from(values).buffer);

// A Keras functional model: conv (bias) → batchnorm → dense, with one group split over two shards
// mid-tensor and a uint8-quantised and a float16-quantised weight in a second group.
function writeModel(folder: string, shards: Record<string, Uint8Array>): string {
  const model = layersModelJson([
    kerasLayer('input_1', 'InputLayer', { batch_input_shape: [null, 2, 2, 2] }),
    kerasLayer('conv', 'Conv2D', { filters: 3, kernel_size: [1, 2] }),
    kerasLayer('bn', 'BatchNormalization', { epsilon: 0.001 }),
    kerasLayer('fc', 'Dense', { units: 2 }),
  ], [
    { paths: ['g1-shard1of2', 'g1-shard2of2'], weights: [
      { name: 'conv/kernel', shape: [1, 2, 2, 3], dtype: 'float32' },
      { name: 'conv/bias', shape: [3], dtype: 'float32' },
    ] },
    { paths: ['g2-shard1of1'], weights: [
      { name: 'bn/gamma', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'bn/beta', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'bn/moving_mean', shape: [3], dtype: 'float32' },
      { name: 'bn/moving_variance', shape: [3], dtype: 'float32' },
      { name: 'fc/kernel', shape: [3, 2], dtype: 'float32' },
      { name: 'fc/bias', shape: [2], dtype: 'float32' },
    ] },
  ]);
  for (const [name, data] of Object.entries(shards)) writeFileSync(join(folder, name), data);
  const path = join(folder, 'model.json');
  writeFileSync(path, JSON.stringify(model));
  return path;
}

const KERNEL = Array.from({ length: 12 }, (_, i) => i); // HWIO [1,2,2,3]: value = ((h*2 + w)*2 + i)*3 + o
const group1 = Buffer.concat([f32(KERNEL), f32([0.1, 0.2, 0.3])]);
const group2 = Buffer.concat([
  Buffer.from([2, 4, 0, 0]), // uint8 gamma (3 bytes) + 1 byte: float16 beta starts unaligned
  Buffer.from(Uint16Array.from([0x3c00, 0xc000, 0x3800]).buffer),
  f32([0, 1, 2]), f32([1, 1, 1]), f32([1, 2, 3, 4, 5, 6]), f32([-1, 1]),
]);

function shardsFor(): Record<string, Uint8Array> {
  // group 2: gamma is 3 uint8 bytes, so beta follows at byte 3.
  const g2 = Buffer.concat([group2.subarray(0, 3), group2.subarray(4)]);
  return { 'g1-shard1of2': group1.subarray(0, 30), 'g1-shard2of2': group1.subarray(30), 'g2-shard1of1': g2 };
}

describe('TF.js layers model reader', () => {
  it('reads shards in order, dequantises, and parses the layer list', async () => {
    const folder = mkdtempSync(join(dir, 'ok-'));
    const model = await readTfjsModel(writeModel(folder, shardsFor()));
    expect(model.modelClass).toBe('Model');
    expect(model.kerasVersion).toBe('2.1.6');
    expect(model.layers.map((l) => [l.name, l.className])).toEqual([
      ['input_1', 'InputLayer'], ['conv', 'Conv2D'], ['bn', 'BatchNormalization'], ['fc', 'Dense'],
    ]);
    expect(model.layers[2]!.config['epsilon']).toBe(0.001);
    expect(toNumbers(model.weights.get('conv/kernel')!)).toEqual(KERNEL); // spans the shard boundary
    expect(model.weights.get('conv/bias')!.data).toEqual(Float32Array.from([0.1, 0.2, 0.3]));
    expect(toNumbers(model.weights.get('bn/gamma')!)).toEqual([0, 1, -1]); // q*0.5 - 1
    expect(toNumbers(model.weights.get('bn/beta')!)).toEqual([1, -2, 0.5]);
    expect(model.weights.get('fc/kernel')!.shape).toEqual([3, 2]);
  });

  it('parses the same model from bytes in memory (a browser\'s files), shards by manifest path', async () => {
    const folder = mkdtempSync(join(dir, 'bytes-'));
    const path = writeModel(folder, shardsFor());
    const text = readFileSync(path, 'utf8');
    expect(tfjsShardPaths(text)).toEqual([
      { group: 0, path: 'g1-shard1of2' }, { group: 0, path: 'g1-shard2of2' }, { group: 1, path: 'g2-shard1of1' },
    ]);
    const fromFile = await readTfjsModel(path);
    const shards = new Map(Object.entries(shardsFor()));
    const fromMap = parseTfjsModel(text, shards, 'upload/model.json');
    const fromFn = parseTfjsModel(JSON.parse(text) as object, (p) => shards.get(p));
    expect(fromMap.source).toBe('upload/model.json');
    expect([...fromMap.weights]).toEqual([...fromFile.weights]);
    expect([...fromFn.weights]).toEqual([...fromFile.weights]);
    expect(fromFn.layers).toEqual(fromFile.layers);
    shards.delete('g2-shard1of1');
    expect(() => parseTfjsModel(text, shards)).toThrow(/model\.json: weight shard 'g2-shard1of1' \(group 1\) is missing/);
  });

  it('names the missing shard file', async () => {
    const folder = mkdtempSync(join(dir, 'missing-'));
    const { 'g1-shard2of2': _dropped, ...rest } = shardsFor();
    const path = writeModel(folder, rest);
    await expect(readTfjsModel(path)).rejects.toThrow(WeightFileError);
    await expect(readTfjsModel(path)).rejects.toThrow(`${join(folder, 'g1-shard2of2')}: weight shard is missing (listed in group 0 of ${path})`);
  });

  it('rejects shards that disagree with the manifest, and paths leaving the folder', async () => {
    const folder = mkdtempSync(join(dir, 'short-'));
    const shards = shardsFor();
    const path = writeModel(folder, { ...shards, 'g2-shard1of1': shards['g2-shard1of1']!.subarray(0, 20) });
    await expect(readTfjsModel(path)).rejects.toThrow(/weight 'bn\/moving_mean' \(group 1\) needs bytes 9\.\.21 but the group's shards hold only 20/);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.weightsManifest[0].paths[0] = '../../etc/passwd';
    writeFileSync(path, JSON.stringify(json));
    await expect(readTfjsModel(path)).rejects.toThrow(/shard path '..\/..\/etc\/passwd' leaves the model folder/);
  });

  it('maps Keras layouts and names to PyTorch ones', async () => {
    const folder = mkdtempSync(join(dir, 'map-'));
    const sd = kerasToTorch(await readTfjsModel(writeModel(folder, shardsFor())));
    expect([...sd.keys()]).toEqual([
      'conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'fc.weight', 'fc.bias',
    ]);
    const w = sd.get('conv.weight')!;
    expect(w.shape).toEqual([3, 2, 1, 2]); // OIHW
    // OIHW[o][i][h][w] must equal HWIO[h][w][i][o] = ((h*2 + w)*2 + i)*3 + o.
    for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) for (let x = 0; x < 2; x++) {
      expect(w.data[(o * 2 + i) * 2 + x]).toBe((x * 2 + i) * 3 + o);
    }
    expect(sd.get('fc.weight')).toEqual({ dtype: 'f32', shape: [2, 3], data: Float32Array.from([1, 3, 5, 2, 4, 6]) });
  });

  it('converts depthwise kernels and checks ranks', () => {
    const k: RawTensor = { dtype: 'f32', shape: [1, 1, 2, 2], data: Float32Array.from([10, 11, 20, 21]) }; // [H,W,C,M]
    expect(depthwiseToOihw(k)).toEqual({ dtype: 'f32', shape: [4, 1, 1, 1], data: Float32Array.from([10, 11, 20, 21]) });
    expect(() => hwioToOihw({ dtype: 'f32', shape: [2, 2], data: new Float32Array(4) })).toThrow(/4 dimensions/);
    expect(() => inOutToOutIn({ dtype: 'f32', shape: [2], data: new Float32Array(2) })).toThrow(/2 dimensions/);
  });

  // Found by the fuzzer (tools/fuzz, target tfjs): a model.json whose Conv2D kernel has the
  // wrong rank (bytes still matching) made kerasToTorch throw a bare RangeError.
  it('names the model file when a weight has the wrong rank for its layer', () => {
    const model = layersModelJson([kerasLayer('conv', 'Conv2D')], [{ paths: ['g1'], weights: [{ name: 'conv/kernel', shape: [2, 3], dtype: 'float32' }] }]);
    const parsed = parseTfjsModel(JSON.stringify(model), new Map([['g1', new Uint8Array(24)]]), 'rank.json');
    expect(() => kerasToTorch(parsed)).toThrow(WeightFileError);
    expect(() => kerasToTorch(parsed)).toThrow(/^rank\.json: layer 'conv' \(Conv2D\) weight 'kernel': HWIO conv kernel must have 4 dimensions, got shape \[2,3\]/);
  });
});

// $TESSERA_WEIGHTS when set, else the copy that ships in packages/nn/weights.
const darknet = process.env['TESSERA_WEIGHTS'] ? join(resolve(process.env['TESSERA_WEIGHTS']), 'darknet-tiny', 'model.json') : bundledWeights('darknet-tiny')!;
const noDarknet = existsSync(darknet) ? undefined : `${darknet} not found (set TESSERA_WEIGHTS to the shared weights folder)`;
if (noDarknet) console.warn(`[tfjs] darknet-tiny checks skipped: ${noDarknet}`);

describe.skipIf(noDarknet !== undefined)('darknet-tiny (shared TF.js weights)', () => {
  it('loads all 77 weights from 31 shards with the Keras topology', async () => {
    const model = await readTfjsModel(darknet);
    expect(model.weights.size).toBe(77);
    expect(model.layers.filter((l) => l.className === 'Conv2D')).toHaveLength(16);
    const bns = model.layers.filter((l) => l.className === 'BatchNormalization');
    expect(bns).toHaveLength(15);
    expect(bns.every((l) => l.config['epsilon'] === 0.001)).toBe(true);
    expect(model.weights.get('conv2d_1/kernel')!.shape).toEqual([3, 3, 3, 16]);
    expect(model.weights.get('conv2d_16/bias')!.shape).toEqual([1000]);
    // Spot-check values against the raw shard bytes (group 1 = batch_normalization_1, gamma first).
    const raw = readFileSync(join(darknet, '..', 'group1-shard1of1'));
    const gamma = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 64));
    expect(model.weights.get('batch_normalization_1/gamma')!.data).toEqual(gamma);
    for (const t of model.weights.values()) expect((t.data as Float32Array).every(Number.isFinite)).toBe(true);

    const sd = kerasToTorch(model);
    expect(sd.get('conv2d_1.weight')!.shape).toEqual([16, 3, 3, 3]);
    expect(sd.get('conv2d_16.weight')!.shape).toEqual([1000, 128, 1, 1]);
    expect(sd.get('batch_normalization_15.running_var')!.shape).toEqual([128]);
  });
});
