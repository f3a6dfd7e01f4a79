// The CLI's options over the weights lookup (the lookup itself: @tessera/nn/node's pretrained-weights.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseArch, findWeights } from './weights.js';
import { UsageError } from './args.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-lookup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--pretrained and --arch', () => {
  it('says a missing --pretrained file as a usage error naming the option', async () => {
    await expect(findWeights('darknet-tiny', join(dir, 'nope.pth'))).rejects.toThrow(UsageError);
    await expect(findWeights('darknet-tiny', join(dir, 'nope.pth'))).rejects.toThrow(`--pretrained ${join(dir, 'nope.pth')} does not exist`);
  });

  it('reads the architecture from a model file only: other files, and no file, leave --arch to decide', async () => {
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not a weight file at all');
    expect(await chooseArch('train', undefined, junk)).toBe('resnet34');
    expect(await chooseArch('train', 'resnet18', undefined)).toBe('resnet18');
    // A safetensors header with Tessera metadata, no tensors: enough to name the architecture.
    const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'tessera-model-1', arch: 'resnet50', kind: 'vision', classes: '["a"]', preprocess: '{"size":64,"normalize":"imagenet","resize":"crop"}' } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const model = join(dir, 'model.safetensors');
    writeFileSync(model, Buffer.concat([len, header]));
    expect(await chooseArch('train', undefined, model)).toBe('resnet50');
    expect(await chooseArch('train', 'resnet50', model)).toBe('resnet50');
    await expect(chooseArch('train', 'darknet-tiny', model)).rejects.toThrow(UsageError);
    await expect(chooseArch('train', 'darknet-tiny', model)).rejects.toThrow(`train: ${model} is a resnet50 model file (its metadata says so), not darknet-tiny: pass --arch resnet50 or leave --arch out`);
  });
});
