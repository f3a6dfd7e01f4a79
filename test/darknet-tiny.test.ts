// Tiny Darknet end to end, across packages: the shared TF.js weights
// ($TESSERA_WEIGHTS/darknet-tiny) go through nn's readers and key mapping into DarknetTiny,
// vision decodes and resizes $TESSERA_DATA/samples/cat.jpg, and the network must see a cat.
// Then the same through the CLI: `convert` to a model file and `predict --json`.
// Lives in test/ rather than packages/nn because it needs @tessera/vision (nn must not).
// Skips, saying why, when the shared files (or, for the CLI part, the built CLI) are missing.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice, noGrad, softmax, tensor } from '@tessera/tensor';
import { darknetKeysFromKeras, darknetTiny, darknetTinyFromTfjs, io as bytesIo, loadStateDict } from '@tessera/nn';
import { bundledWeights, io } from '@tessera/nn/node';
import { resize } from '@tessera/vision';
import { decodeImageFile } from '@tessera/vision/node';
import { readFile } from 'node:fs/promises';

// $TESSERA_WEIGHTS when set, else the copy that ships in packages/nn/weights.
const weightsDir = process.env['TESSERA_WEIGHTS'] ? join(resolve(process.env['TESSERA_WEIGHTS']), 'darknet-tiny') : dirname(bundledWeights('darknet-tiny')!);
const modelJson = join(weightsDir, 'model.json');
const labelsFile = join(weightsDir, 'labels.txt');
const cat = join(resolve(process.env['TESSERA_DATA'] ?? './data'), 'samples', 'cat.jpg');
const missing = [modelJson, labelsFile, cat].filter((p) => !existsSync(p));
const noFiles = missing.length
  ? `${missing.join(', ')} not found (set TESSERA_WEIGHTS / TESSERA_DATA to the shared folders)`
  : undefined;
if (noFiles) console.log(`[darknet-tiny] skipped: ${noFiles}`);

const CATS = ['tabby', 'tiger cat', 'Egyptian cat'];

describe.skipIf(noFiles !== undefined)('darknet-tiny classifies the sample cat', () => {
  let labels: string[] = [];

  beforeAll(async () => {
    await initDevice();
    labels = (await readFile(labelsFile, 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
  });

  it('TF.js weights → DarknetTiny; cat.jpg (RGB/255, align-corners 224²) → a cat first, all three cats in the top 4', async () => {
    const sd = darknetKeysFromKeras(io.kerasToTorch(await io.readTfjsModel(modelJson)));
    // A browser's path: the same files as bytes in memory give the same weights.
    const text = await readFile(modelJson, 'utf8');
    const shards = new Map<string, Uint8Array>();
    for (const { path } of bytesIo.tfjsShardPaths(text)) shards.set(path, await readFile(join(weightsDir, path)));
    const fromBytes = darknetTinyFromTfjs(text, shards);
    expect([...fromBytes.keys()]).toEqual([...sd.keys()]);
    const raw = (t: io.RawTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    expect([...sd].filter(([k, t]) => !raw(t).equals(raw(fromBytes.get(k)!)))).toEqual([]);
    const net = darknetTiny(labels.length);
    const report = loadStateDict(net, sd, { source: modelJson });
    expect(report.loaded.length).toBe(sd.size);
    net.eval();

    const img = resize(await decodeImageFile(cat), 224, 224, { mode: 'align-corners' });
    const x = tensor(Float32Array.from(img.data, (v) => v / 255), [1, 224, 224, 3]);
    const probs = noGrad(() => {
      const logits = net.call(x);
      const p = softmax(logits, -1);
      logits.dispose();
      return p;
    });
    const p = (await probs.toArray()) as Float32Array;
    probs.dispose();
    x.dispose();
    net.dispose();

    const top = [...p.keys()].sort((a, b) => p[b]! - p[a]!).slice(0, 5);
    console.log(`[darknet-tiny] top 5: ${top.map((i) => `${labels[i]} ${(p[i]! * 100).toFixed(1)}%`).join(', ')}`);
    expect(CATS).toContain(labels[top[0]!]);
    expect(top.slice(0, 4).map((i) => labels[i])).toEqual(expect.arrayContaining(CATS));
  });
});

const cli = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const noCli = noFiles ?? (existsSync(cli) ? undefined : `${cli} not built (run 'pnpm build'; 'pnpm test' builds first)`);
if (noCli && !noFiles) console.log(`[darknet-tiny CLI] skipped: ${noCli}`);

describe.skipIf(noCli !== undefined)('darknet-tiny through the CLI', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-darknet-cli-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const node = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 90_000 });
    if (r.status !== 0) throw new Error(`tessera ${args[0]} exited ${r.status}: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };

  it('convert model.json → model file, then predict --json puts a cat first', () => {
    const out = join(dir, 'darknet.safetensors');
    expect(node('convert', modelJson, out, '--labels', labelsFile)).toMatch(/wrote .*darknet-tiny, 77 tensors, 1000 classes/);
    const json = JSON.parse(node('predict', out, cat, '--json', '--topk', '4')) as {
      file: string;
      top: { label: string; index: number; prob: number }[];
    }[];
    expect(json).toHaveLength(1);
    const labels = json[0]!.top.map((t) => t.label);
    console.log(`[darknet-tiny CLI] predict --json top 4: ${labels.join(', ')}`);
    expect(CATS).toContain(labels[0]);
    expect(labels).toEqual(expect.arrayContaining(CATS));
  });
});
