// The weights lookup order (the CLI's train and predict, the API's visionLearner): an explicit file, $TESSERA_WEIGHTS, ./weights, the cache, the bundled copy.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bundledWeights } from './bundled-weights.js';
import { findWeights, missingWeightsMessage, modelFileMeta, weightsCandidates } from './pretrained-weights.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-lookup-'));
const saved = { TESSERA_WEIGHTS: process.env.TESSERA_WEIGHTS, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('weights lookup', () => {
  it('looks in $TESSERA_WEIGHTS, ./weights, the cache, then the bundled weights', () => {
    process.env.TESSERA_WEIGHTS = join(dir, 'env');
    process.env.XDG_CACHE_HOME = join(dir, 'xdg');
    expect(weightsCandidates('resnet34')).toEqual([
      { place: '$TESSERA_WEIGHTS', path: join(dir, 'env', 'resnet34.safetensors') },
      { place: './weights', path: resolve('weights', 'resnet34.safetensors') },
      { place: 'cache', path: join(dir, 'xdg', 'tessera', 'weights', 'resnet34.safetensors') },
    ]);
    expect(weightsCandidates('darknet-tiny')).toEqual([
      { place: '$TESSERA_WEIGHTS', path: join(dir, 'env', 'darknet-tiny', 'model.json') },
      { place: './weights', path: resolve('weights', 'darknet-tiny', 'model.json') },
      { place: 'bundled', path: bundledWeights('darknet-tiny') },
    ]);
    delete process.env.TESSERA_WEIGHTS;
    expect(weightsCandidates('darknet-tiny').map((c) => c.place)).toEqual(['./weights', 'bundled']);
  });

  it('takes the first that exists: $TESSERA_WEIGHTS over the bundled copy, which is there when it is unset', async () => {
    process.env.TESSERA_WEIGHTS = join(dir, 'env');
    expect(await findWeights('darknet-tiny')).toBe(bundledWeights('darknet-tiny'));
    mkdirSync(join(dir, 'env', 'darknet-tiny'), { recursive: true });
    writeFileSync(join(dir, 'env', 'darknet-tiny', 'model.json'), '{}');
    expect(await findWeights('darknet-tiny')).toBe(join(dir, 'env', 'darknet-tiny', 'model.json'));
    // An explicit file wins, and must exist.
    expect(await findWeights('darknet-tiny', join(dir, 'env', 'darknet-tiny', 'model.json'))).toBe(join(dir, 'env', 'darknet-tiny', 'model.json'));
    await expect(findWeights('darknet-tiny', join(dir, 'nope.pth'))).rejects.toThrow(`pretrained weights ${join(dir, 'nope.pth')} do not exist`);
  });

  it('names the download command when a ResNet has no weights anywhere', async () => {
    process.env.XDG_CACHE_HOME = join(dir, 'empty-cache');
    expect(missingWeightsMessage('resnet50')).toContain(`run 'pnpm weights get resnet50'`);
    expect(missingWeightsMessage('resnet50')).toContain(join(dir, 'empty-cache', 'tessera', 'weights', 'resnet50.safetensors'));
  });

  it('reads the metadata of a Tessera model file only: other files, and no file, give null', async () => {
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a weight file at all');
    expect(await modelFileMeta(junk)).toBeNull();
    expect(await modelFileMeta(join(dir, 'missing'))).toBeNull();
    expect(await modelFileMeta(bundledWeights('darknet-tiny')!)).toBeNull();
    // A safetensors header with Tessera metadata, no tensors: enough to name the architecture.
    const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'tessera-model-1', arch: 'resnet50', kind: 'vision', classes: '["a"]', preprocess: '{"size":64,"normalize":"imagenet","resize":"crop"}' } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const model = join(dir, 'model.safetensors');
    writeFileSync(model, Buffer.concat([len, header]));
    expect((await modelFileMeta(model))?.arch).toBe('resnet50');
  });
});
