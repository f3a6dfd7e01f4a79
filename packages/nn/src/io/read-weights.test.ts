import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectWeightFormat, readStateDict, writeSafetensors } from '../node/weight-files.js';
import { torchStateDictPickle } from './testing/pickle-writer.js';
import { buildZip } from './testing/zip-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readStateDict', () => {
  it('dispatches on content, whatever the extension', async () => {
    const st = join(dir, 'a.bin');
    await writeSafetensors(st, new Map([['w', { dtype: 'f32', shape: [2], data: Float32Array.from([1, 2]) }]]));
    expect(await detectWeightFormat(st)).toBe('safetensors');
    expect((await readStateDict(st)).get('w')!.data).toEqual(Float32Array.from([1, 2]));

    const pt = join(dir, 'b.safetensors');
    const pkl = torchStateDictPickle([{ name: 'w', storage: 'FloatStorage', key: '0', numel: 1, offset: 0, shape: [1], stride: [1] }]);
    writeFileSync(pt, buildZip([{ name: 'b/data.pkl', data: pkl }, { name: 'b/data/0', data: new Uint8Array(Float32Array.from([5]).buffer) }]));
    expect(await detectWeightFormat(pt)).toBe('torch');
    expect((await readStateDict(pt)).get('w')!.data).toEqual(Float32Array.from([5]));
  });

  it('names unrecognised files', async () => {
    const junk = join(dir, 'junk');
    writeFileSync(junk, 'just some text');
    await expect(readStateDict(junk)).rejects.toThrow(`${junk}: unrecognised weight format`);
  });
});
