/**
 * Pretrained weights with nothing to download, and `weights get` against a local server:
 *  - `train --arch darknet-tiny` with TESSERA_WEIGHTS unset fine-tunes from the Tiny Darknet
 *    that ships in packages/nn/weights, and says so; `predict darknet-tiny` classifies with it;
 *  - a model file made by `train` seeds a new run through --pretrained (its metadata names
 *    the architecture), and a mismatched --arch is one line saying what to pass;
 *  - `weights get` downloads from a server this test runs on 127.0.0.1 (never anything else),
 *    serving a .pth written with the project's own torch.save writer: a good file is checked,
 *    converted and cached where `train` finds it; a wrong hash, a truncated body, a 404 and a
 *    stalled server each end in one line with nothing left in the cache.
 * The CLI parts run the built dist (`pnpm -s build` first) and skip, saying why, without it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '@tessera/tensor';
import { createNetwork, exportStateDict } from '@tessera/nn';
import { io } from '@tessera/nn/node';
import { torchSaveBytes } from '../packages/nn/src/io/testing/torch-writer.js';
import { fetchWeights } from '../packages/cli/src/fetch-weights.js';
import { cachedWeightsPath, hashPrefixOf, TORCHVISION_FILES, torchvisionSource } from '../packages/cli/src/weights-cache.js';
import { weightsCandidates } from '../packages/cli/src/weights.js';
import { CLI, ROOT, withoutDawnNoise } from './support/cli.js';

const noCli = existsSync(CLI) ? undefined : `${CLI} not built (run pnpm -s build)`;
if (noCli) console.log(`[weights-get] CLI tests skipped: ${noCli}`);
const CAT = join(resolve(process.env.TESSERA_DATA ?? './data'), 'samples', 'cat.jpg');

const work = mkdtempSync(join(tmpdir(), 'tessera-weights-get-'));
const cache = join(work, 'cache');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The CLI in a clean folder: no ./weights, no TESSERA_WEIGHTS, a cache of its own. Async, so our server keeps serving. */
function tessera(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Mesa keeps its compiled shaders under XDG_CACHE_HOME too: point it back at the usual
  // place, or every run here compiles every pipeline afresh (minutes on lavapipe).
  const mesa = process.env.MESA_SHADER_CACHE_DIR ?? (process.env.XDG_CACHE_HOME || join(homedir(), '.cache'));
  const base: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache, MESA_SHADER_CACHE_DIR: mesa };
  delete base.TESSERA_WEIGHTS;
  delete base.TESSERA_WEIGHTS_MIRROR;
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      done({ code, stdout, stderr: withoutDawnNoise(stderr) });
    });
  });
}

/** Every file in the cache, hidden temporary files included. */
function cacheFiles(): string[] {
  const dir = join(cache, 'tessera', 'weights');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe.skipIf(noCli)('bundled Tiny Darknet weights', () => {
  const run = join(work, 'run');

  it('train --arch darknet-tiny fine-tunes from the weights in the repository, nothing set, nothing downloaded', async () => {
    const r = await tessera(['train', 'counting-1-3', '--arch', 'darknet-tiny', '--size', '32', '--per-class', '16', '--epochs', '1', '--bs', '16', '--out', run]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`model: darknet-tiny with fastai's head, the bundled ImageNet weights (Tiny Darknet from ml5, MIT) in ${join(ROOT, 'packages/nn/weights/darknet-tiny/model.json')}`);
    // fine_tune: a frozen epoch's table, then the unfrozen one's.
    expect(r.stdout.match(/epoch\s+train_loss/g)).toHaveLength(2);
    expect(cacheFiles()).toEqual([]);
  }, 900_000);

  it('--pretrained with a model file made by train fine-tunes from it, taking the architecture from its metadata', async () => {
    const model = join(run, 'model.safetensors');
    const r = await tessera(['train', 'counting-1-3', '--pretrained', model, '--size', '32', '--per-class', '16', '--epochs', '1', '--bs', '16', '--out', join(work, 'again')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`model: darknet-tiny with fastai's head, weights from ${model}`);
    const wrong = await tessera(['train', 'counting-1-3', '--arch', 'resnet34', '--pretrained', model, '--size', '32']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(`tessera train: ${model} is a darknet-tiny model file (its metadata says so), not resnet34: pass --arch darknet-tiny or leave --arch out`);
  }, 900_000);

  it.skipIf(!existsSync(CAT))('predict darknet-tiny classifies with the bundled ImageNet classifier, converted on the fly', async () => {
    const r = await tessera(['predict', 'darknet-tiny', CAT, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [pred] = JSON.parse(r.stdout) as { top: { label: string }[] }[];
    expect(pred!.top[0]!.label).toBe('tabby');
  }, 300_000);
});
if (!existsSync(CAT)) console.log(`[weights-get] predict check skipped: ${CAT} not found (set TESSERA_DATA)`);

describe('weights get', () => {
  let server: Server;
  let base = '';
  let good: Uint8Array;
  let sha256 = '';
  let source: io.StateDict;

  beforeAll(async () => {
    await initDevice();
    // A resnet18 state dict as torchvision's file holds it (no num_batches_tracked), random weights.
    const net = createNetwork('resnet18');
    source = new Map([...(await exportStateDict(net))].filter(([k]) => !k.endsWith('num_batches_tracked')));
    net.dispose();
    good = torchSaveBytes(source, 'resnet18');
    sha256 = createHash('sha256').update(good).digest('hex');
    server = createServer((req, res) => {
      const [, mode] = (req.url ?? '').split('/');
      if (mode === 'good') {
        res.writeHead(200, { 'content-length': good.length });
        res.end(good);
      } else if (mode === 'truncated') {
        res.writeHead(200, { 'content-length': good.length });
        res.write(good.subarray(0, good.length >> 1), () => res.destroy());
      } else if (mode === 'stall') {
        res.writeHead(200, { 'content-length': good.length });
        res.write(good.subarray(0, 1000)); // then nothing, connection left open
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 120_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  it('knows torchvision\'s published files and the SHA-256 prefix each name carries', () => {
    expect(torchvisionSource('resnet34', undefined)).toEqual({ url: 'https://download.pytorch.org/models/resnet34-b627a593.pth', sha256Prefix: 'b627a593' });
    expect(torchvisionSource('resnet50', 'http://127.0.0.1:1/m//')!.url).toBe('http://127.0.0.1:1/m/resnet50-0676ba61.pth');
    expect(hashPrefixOf(TORCHVISION_FILES.resnet18!)).toBe('f37072fd');
    expect(torchvisionSource('darknet-tiny')).toBeNull();
  });

  it('downloads, checks, converts and caches a good file where train looks for it', async () => {
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const lines: string[] = [];
      const out = await fetchWeights('resnet18', { url: `${base}/good/resnet18-${sha256.slice(0, 8)}.pth`, sha256Prefix: sha256.slice(0, 8) }, { log: (l) => lines.push(l) });
      expect(out).toBe(join(cache, 'tessera', 'weights', 'resnet18.safetensors'));
      expect(out).toBe(cachedWeightsPath('resnet18'));
      expect(lines.at(-1)).toBe(`cached resnet18 ImageNet weights: ${out}`);
      expect(cacheFiles()).toEqual(['resnet18.safetensors']); // the download itself is gone
      const { tensors, metadata } = await io.readSafetensors(out);
      expect(metadata).toMatchObject({ format: 'tessera-model-1', arch: 'resnet18', kind: 'classifier' });
      expect(JSON.parse(metadata.classes!)).toHaveLength(1000);
      const bytes = (t: io.RawTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      expect([...tensors.keys()]).toEqual([...source.keys()]);
      expect([...source].filter(([k, t]) => !bytes(t).equals(bytes(tensors.get(k)!)))).toEqual([]);
      // train's lookup: after $TESSERA_WEIGHTS (when set, as in CI) and ./weights, the cache.
      const places = weightsCandidates('resnet18');
      const first = process.env.TESSERA_WEIGHTS ? ['$TESSERA_WEIGHTS'] : [];
      expect(places.map((c) => c.place)).toEqual([...first, './weights', 'cache']);
      expect(places.at(-1)!.path).toBe(out);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  }, 120_000);

  it.skipIf(noCli)('weights list shows the cached file, and train names the command when weights are missing', async () => {
    const l = await tessera(['weights', 'list']);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(new RegExp(`resnet18\\s+cache\\s+${join(cache, 'tessera', 'weights', 'resnet18.safetensors')} \\(46\\.8 MB\\)\\s+← used`));
    expect(l.stdout).toMatch(/darknet-tiny\s+bundled\s+\S+packages\/nn\/weights\/darknet-tiny\/model\.json \(4\.\d MB\)/);
    expect(l.stdout).toMatch(/resnet34\s+\(none\)\s+run 'pnpm weights get resnet34'/);
    const d = await tessera(['data', 'counting', '--range', '1-2', '--per-class', '5', '--size', '16', '--out', join(work, 'photos')]);
    expect(d.code).toBe(0);
    const r = await tessera(['train', join(work, 'photos'), '--arch', 'resnet34']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tessera train: no ImageNet weights for resnet34 \(looked in .*\): run 'pnpm weights get resnet34' .* --no-pretrained$/);
  }, 300_000);

  const failures: [string, string[], Record<string, string>, RegExp][] = [
    ['a wrong hash', ['--mirror', 'good'], {}, /good\/resnet18-f37072fd\.pth: SHA-256 [0-9a-f]{16}… does not start with f37072fd .* nothing was cached$/],
    ['a truncated body', ['--mirror', 'truncated'], {}, /truncated\/resnet18-f37072fd\.pth: the connection ended after \d+ of \d+ bytes \(a truncated download\); retry$/],
    ['a 404 (mirror from $TESSERA_WEIGHTS_MIRROR)', [], { TESSERA_WEIGHTS_MIRROR: 'missing' }, /missing\/resnet18-f37072fd\.pth: HTTP 404 Not Found$/],
    ['a stalled server', ['--mirror', 'stall', '--timeout', '0.5'], {}, /stall\/resnet18-f37072fd\.pth: no data for 0\.5 s after 0\.0 MB; the server stalled \(retry, or raise --timeout\)$/],
  ];
  for (const [what, args, env, message] of failures) {
    it.skipIf(noCli)(`ends ${what} in one line, with nothing left in the cache`, async () => {
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(join(cache, 'tessera', 'weights'), { recursive: true });
      // What a killed download leaves (its process is gone): removed by the next `get`.
      writeFileSync(join(cache, 'tessera', 'weights', '.resnet18-f37072fd.pth.2147483646.0a1b.tmp'), 'partial');
      writeFileSync(join(cache, 'tessera', 'weights', '.resnet18.safetensors.2147483646.0a1b.tmp'), 'partial');
      const withBase = args.map((a, i) => (args[i - 1] === '--mirror' ? `${base}/${a}` : a));
      const envBase = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, `${base}/${v}`]));
      const t0 = performance.now();
      const r = await tessera(['weights', 'get', 'resnet18', ...withBase], envBase);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^tessera weights: ${base}/`));
      expect(r.stderr).toMatch(message);
      expect(cacheFiles()).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(60_000);
    }, 120_000);
  }
});
