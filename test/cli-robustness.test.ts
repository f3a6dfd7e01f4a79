/**
 * Nothing a user feeds the command line breaks a run (issue 14): hostile sizes, devices instead
 * of files, files of the wrong kind, two runs in one folder, leftovers of killed runs. Each case
 * is one clear line naming the argument or file and a non-zero exit, and nearly all are refused
 * before any training (the built dist runs, as a user runs it; `pnpm -s build` first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, tessera } from './support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice } from '@tessera/tensor';
import { createNetwork, defaultPreprocess, exportStateDict, type ModelMeta } from '@tessera/nn';
import { io, saveStateDictAsModel } from '@tessera/nn/node';

const ROOT = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tessera-cli-robust-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


/** One line on stderr matching `message`, no stack trace, a non-zero exit. */
function expectOneLine(r: ReturnType<typeof tessera>, message: RegExp | string, code = 1): void {
  expect(r.stderr).toMatch(typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : message);
  expect(r.stderr.split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at |Invalid typed array/);
  expect(r.code).toBe(code);
}

const TINY = ['--arch', 'darknet-tiny', '--no-pretrained', '--size', '32', '--per-class', '20', '--epochs', '1', '--bs', '8'];

describe.skipIf(!existsSync(CLI))('tessera CLI with bad input', () => {
  // A small model file (random weights) and variants of it, made here rather than trained.
  const meta: ModelMeta = { arch: 'darknet-tiny', kind: 'classifier', classes: ['cat', 'dog'], preprocess: defaultPreprocess('darknet-tiny') };
  const good = join(work, 'good.safetensors');
  const nan = join(work, 'nan.safetensors');
  const huge = join(work, 'size-100000.safetensors');
  beforeAll(async () => {
    await initDevice();
    const net = createNetwork('darknet-tiny', 2);
    const sd = await exportStateDict(net);
    net.dispose();
    await saveStateDictAsModel(good, sd, meta);
    await saveStateDictAsModel(huge, sd, { ...meta, preprocess: { ...meta.preprocess, size: 100000 } });
    (sd.get('classifier.weight')!.data as Float32Array).fill(NaN);
    await saveStateDictAsModel(nan, sd, meta);
  });

  describe('sizes and counts are checked up front, saying what fits', () => {
    it('--size 100000 names the largest size that fits', () => {
      expectOneLine(tessera(['train', 'counting-1-3', ...TINY, '--size', '100000']), /--bs 8 at --size 100000 needs .* at --bs 8, sizes up to --size \d+ fit/, 2);
    });
    it('a batch too large for the adapter names a batch size that fits', () => {
      const r = tessera(['lr-find', 'counting-1-3', ...TINY, '--bs', '512', '--size', '224']);
      expectOneLine(r, /--bs 512 at --size 224 needs .*batches up to --bs (\d+) fit/, 2);
    });
    it('data counting --size 100000', () => {
      expectOneLine(tessera(['data', 'counting', '--size', '100000', '--out', join(work, 'x')]), 'data: --size must be from 4 to 4096 pixels, got 100000', 2);
    });
    it('--bs 1 (BatchNorm needs two images)', () => {
      expectOneLine(tessera(['train', 'counting-1-3', ...TINY, '--bs', '1']), 'train: --bs must be at least 2 (BatchNorm needs more than one image per batch in training), got 1', 2);
    });
    it('--epochs 0, --freeze-epochs -1, lr-find --num-it 0 / -5', () => {
      expectOneLine(tessera(['train', 'counting-1-3', ...TINY, '--epochs', '0']), 'train: --epochs must be at least 1, got 0', 2);
      expectOneLine(tessera(['train', 'counting-1-3', ...TINY, '--freeze-epochs', '-1']), 'train: --freeze-epochs must be at least 1, got -1', 2);
      for (const n of ['0', '-5']) expectOneLine(tessera(['lr-find', 'counting-1-3', ...TINY, '--num-it', n]), `lr-find: --num-it must be at least 2, got ${n}`, 2);
    });
    it('too few images to train on', () => {
      expectOneLine(tessera(['train', 'counting-1-2', ...TINY, '--per-class', '1']), /train: too few images: \d for training and \d for validation; at least 2 and 1 are needed/, 2);
    });
  });

  describe('predict', () => {
    it('--topk 0 / -3', () => {
      for (const k of ['0', '-3']) expectOneLine(tessera(['predict', good, 'x.jpg', '--topk', k]), `predict: --topk must be at least 1, got ${k}`, 2);
    });
    it('/dev/zero as the model or as an image is refused without reading it', () => {
      expectOneLine(tessera(['predict', '/dev/zero', 'x.jpg'], { timeout: 60_000 }), '/dev/zero: is not a regular file (a device, pipe or socket); give a model file on disk');
      const r = tessera(['predict', good, '/dev/zero'], { timeout: 60_000 });
      expect(r.signal).toBeNull();
      expect(r.stderr).toContain('/dev/zero: is not a regular file');
    });
    it('NaN weights are refused instead of printing NaN%', () => {
      const r = tessera(['predict', nan, good]);
      expectOneLine(r, /nan\.safetensors: \d+ of \d+ weights are NaN or infinite .*lower --lr/);
      expect(r.stdout).not.toContain('NaN%');
    });
    it('a hostile input size in the metadata', () => {
      expectOneLine(tessera(['predict', huge, good]), `${huge}: unreadable model metadata: preprocess.size is 100000; it must be a whole number of pixels from 1 to 4096`);
    });
    it('a PyTorch .pth says to convert it first; a broken TF.js model.json is named', () => {
      const pth = join(work, 'resnet34.pth');
      writeFileSync(pth, Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...new Array(60).fill(0)]));
      expectOneLine(tessera(['predict', pth, good]), `${pth} is a PyTorch checkpoint (torch.save), not a Tessera model file: convert it first with 'pnpm convert`);
      const json = join(work, 'model.json');
      writeFileSync(json, '{"modelTopology": {}, "weightsManifest": []}');
      // predict converts a TF.js classifier on the fly; a broken one is named with what is wrong.
      expectOneLine(tessera(['predict', json, good]), `${json}: modelTopology has no class_name`);
    });
    it('a file over 2 GiB is named', () => {
      const big = join(work, 'big.safetensors');
      writeFileSync(big, Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d])); // a safetensors header…
      truncateSync(big, 2.5 * 2 ** 30); // …and a sparse 2.5 GiB
      expectOneLine(tessera(['predict', big, good]), `${big}: is 2.5 GiB; a model file can be at most 2.0 GiB`);
      expectOneLine(tessera(['convert', big, join(work, 'o.safetensors')]), `${big}: is 2.5 GiB; a weight file can be at most 2.0 GiB`);
      rmSync(big);
    });
  });

  describe('convert', () => {
    it('names a folder given as the input', () => {
      expectOneLine(tessera(['convert', work, join(work, 'o.safetensors')]), `${work}: is a folder, not a weight file`);
    });
    it('keeps the class names when re-converting a model file', async () => {
      const out = join(work, 'again.safetensors');
      const r = tessera(['convert', good, out]);
      expect(r.code, r.stderr).toBe(0);
      const { metadata } = await io.readSafetensors(out);
      expect(JSON.parse(metadata.classes!)).toEqual(['cat', 'dog']);
    });
  });

  describe('run folders', () => {
    it('a second run in a folder another run holds refuses, naming the holder', () => {
      const out = join(work, 'held');
      mkdirSync(out);
      // This test process is alive on this host: its lock is not stale.
      writeFileSync(join(out, '.tessera-run.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'train' }));
      const r = tessera(['train', 'counting-1-3', ...TINY, '--out', out]);
      expectOneLine(r, `${out} is in use by another run (pid ${process.pid} on ${hostname()}, train started 2026-01-01T00:00:00.000Z); wait for it to finish or choose another --out`);
      expect(readdirSync(out)).toEqual(['.tessera-run.lock']);
    });

    it('--resume with a different --size is refused', () => {
      const out = join(work, 'sized');
      mkdirSync(out);
      writeFileSync(join(out, 'run.json'), JSON.stringify({ arch: 'darknet-tiny', size: 16, bs: 8, dataset: 'counting-1-3' }));
      expectOneLine(tessera(['train', 'counting-1-3', ...TINY, '--resume', out]), `train: the run in ${out} was trained with --size 16; resume it with --size 16 (or start a new run with another --out)`, 2);
    });

    it('a read-only --out is called read-only, naming it', (ctx) => {
      const ro = join(work, 'ro');
      mkdirSync(ro);
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', ro]);
      if (m.status !== 0) {
        console.log(`skipped: cannot mount a read-only tmpfs here (${m.stderr?.toString().trim() || m.error?.message})`);
        return ctx.skip();
      }
      try {
        expectOneLine(tessera(['train', 'counting-1-3', ...TINY, '--out', join(ro, 'run')]), `cannot write ${join(ro, 'run')}: the file system is read-only; choose a folder you can write to (--out)`);
      } finally {
        spawnSync('umount', [ro]);
      }
    });

    it('a full disk names the file that did not fit', (ctx) => {
      const full = join(work, 'full');
      mkdirSync(full);
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full]);
      if (m.status !== 0) {
        console.log(`skipped: cannot mount a small tmpfs here (${m.stderr?.toString().trim() || m.error?.message})`);
        return ctx.skip();
      }
      try {
        // The pictures fit in 256 KiB; the first checkpoint (Tiny Darknet, ~4 MB) does not.
        const r = tessera(['train', 'counting-1-3', ...TINY, '--out', full]);
        expectOneLine(r, `cannot write ${join(full, 'checkpoint.safetensors')}: no space left on the device; free some space or write elsewhere (--out)`);
        expect(readdirSync(full).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      } finally {
        spawnSync('umount', [full]);
      }
    });

    it('a killed run\'s lock and temporary files are cleared by the next run; a garbled metrics.json does not stop --resume', () => {
      const out = join(work, 'leftovers');
      mkdirSync(out);
      // What a SIGKILLed run leaves: its lock (pid no longer running) and half-written temporaries.
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
      writeFileSync(join(out, '.tessera-run.lock'), JSON.stringify({ pid: Number(dead), host: hostname(), started: 'earlier', command: 'train' }));
      const temps = [`.checkpoint.safetensors.${dead}.0a1b2c3d.tmp`, `metrics.json.${dead}-0-0a1b2c3d.tmp`, `.model.safetensors.${dead}-0-0a1b2c3d.tmp`];
      for (const t of temps) writeFileSync(join(out, t), 'partial');
      const r = tessera(['train', 'counting-1-3', ...TINY, '--workers', '1000', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`note: took over the lock of an earlier run in ${out} (pid ${dead}, started earlier), which is no longer running`);
      expect(r.stdout).toContain(`note: removed 3 temporary files left by an interrupted write in ${out}`);
      expect(r.stdout).toMatch(/note: --workers 1000 is more than the \d+ CPU cores; using \d+/);
      const left = readdirSync(out);
      expect(left.filter((f) => f.endsWith('.tmp') || f === '.tessera-run.lock')).toEqual([]);
      expect(left).toContain('run.json');
      // Every file the run wrote is a finished one; nothing hidden is left behind.
      expect(left.filter((f) => f.startsWith('.'))).toEqual([]);

      writeFileSync(join(out, 'metrics.json'), '[{"epoch": 0, "train_lo');
      const resumed = tessera(['train', 'counting-1-3', ...TINY, '--resume', out]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain(`note: ${join(out, 'metrics.json')} is unreadable`);
      expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))).toEqual([]);
    });
  });

  it('a loss that explodes without becoming NaN is a loud warning, in metrics.json too', () => {
    const out = join(work, 'lr1000');
    const r = tessera(['train', 'counting-1-3', ...TINY, '--lr', '1000', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: epoch 0: the loss exploded: valid_loss \S+ is \S+ times a uniform guess's \(1\.099\).*Run 'tessera lr-find'/);
    const rows = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { warning?: string }[];
    expect(rows[0]!.warning).toMatch(/^the loss exploded/);
    // The epoch table keeps its columns apart however large the numbers.
    const row = r.stdout.split('\n').find((l) => l.startsWith('0 '))!;
    expect(row.trim().split(/\s+/)).toHaveLength(5);
  });

  it('a command whose work never finishes still says so in one line (not a silent exit 13)', () => {
    const guard = join(ROOT, 'packages/cli/dist/exit-guard.js');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { runToCompletion } from ${JSON.stringify(guard)}; runToCompletion(new Promise(() => {}), 'train');`], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^tessera train: stopped before finishing: an operation never completed/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
