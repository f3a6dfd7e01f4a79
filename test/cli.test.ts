/**
 * The command line end to end, as a user runs it (the built dist; `pnpm test` builds
 * first): a tiny network trained on a tiny generated counting set must end well
 * below chance, and every mistake a user can make is one clear line and a non-zero
 * exit, no stack trace.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, tessera } from './support/cli.js';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


describe.skipIf(!existsSync(CLI))('tessera CLI', () => {
  it('trains a tiny network on generated counting images to well below chance', () => {
    const out = join(work, 'run');
    const r = tessera(['train', 'counting-1-3', '--arch', 'darknet-tiny', '--no-pretrained', '--size', '32', '--per-class', '100', '--epochs', '8', '--bs', '16', '--lr', '3e-3', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/epoch\s+train_loss\s+valid_loss\s+error_rate\s+time/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { epoch: number; error_rate: number; train_loss: number; valid_loss: number; seconds: number }[];
    expect(metrics).toHaveLength(8);
    for (const m of metrics) for (const k of ['train_loss', 'valid_loss', 'error_rate'] as const) expect(Number.isFinite(m[k])).toBe(true);
    // Three classes: chance is 2/3 error. The run above reaches ~0.15; 0.4 leaves room for noise.
    expect(metrics.at(-1)!.error_rate).toBeLessThan(0.4);
    for (const f of ['model.safetensors', 'metrics.csv', 'show_batch.png', 'losses.png', 'confusion.png', 'top_losses.png', 'report.html']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,train_loss,valid_loss,error_rate,seconds');
    expect(csv).toHaveLength(9);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<table id="metrics">');
    // The trained model predicts from its run folder.
    const p = tessera(['predict', out, join(out, 'show_batch.png'), '--json']);
    expect(p.code).toBe(0);
    const preds = JSON.parse(p.stdout) as { top: { label: string; prob: number }[] }[];
    expect(['1', '2', '3']).toContain(preds[0]!.top[0]!.label);
  });

  it('resumes an interrupted run to the same result as an uninterrupted one', async () => {
    const args = ['train', 'counting-1-2', '--arch', 'darknet-tiny', '--no-pretrained', '--size', '16', '--per-class', '48', '--epochs', '4', '--bs', '8'];
    const whole = join(work, 'whole');
    expect(tessera([...args, '--out', whole]).code).toBe(0);
    // Interrupt a second run as soon as its first checkpoint is on disk, then resume it.
    const cut = join(work, 'cut');
    const child = spawn(process.execPath, [CLI, ...args, '--out', cut], { stdio: 'ignore' });
    const exited = new Promise((done) => child.on('exit', done));
    while (!existsSync(join(cut, 'checkpoint.safetensors')) && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    const before = JSON.parse(readFileSync(join(cut, 'metrics.json'), 'utf8')) as unknown[];
    expect(before.length).toBeLessThan(4); // really interrupted
    const r = tessera([...args, '--resume', cut]);
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(readFileSync(join(whole, 'metrics.json'), 'utf8')) as { valid_loss: number; error_rate: number; train_loss: number }[];
    const b = JSON.parse(readFileSync(join(cut, 'metrics.json'), 'utf8')) as typeof a;
    expect(b).toHaveLength(4);
    b.forEach((row, i) => {
      expect(row.valid_loss).toBeCloseTo(a[i]!.valid_loss, 5);
      expect(row.error_rate).toBeCloseTo(a[i]!.error_rate, 6);
      expect(row.train_loss).toBeCloseTo(a[i]!.train_loss, 5);
    });
  });

  it('finds a learning rate and charts it', () => {
    const out = join(work, 'lrf');
    const r = tessera(['lr-find', 'counting-1-2', '--arch', 'darknet-tiny', '--no-pretrained', '--size', '16', '--per-class', '48', '--bs', '8', '--num-it', '30', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const m = /valley (\S+), minimum (\S+), steep (\S+), slide (\S+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    for (const v of m!.slice(1)) expect(Number(v) > 1e-8 && Number(v) < 10).toBe(true);
    expect(existsSync(join(out, 'lr_find.png'))).toBe(true);
  });

  it('reports a test-time-augmentation error rate with --tta', () => {
    const r = tessera(['train', 'counting-1-2', '--arch', 'darknet-tiny', '--no-pretrained', '--size', '16', '--per-class', '24', '--epochs', '1', '--bs', '8', '--tta', '--out', join(work, 'tta')]);
    expect(r.code, r.stderr).toBe(0);
    const m = /TTA error_rate: (\S+)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(0);
    expect(Number(m![1])).toBeLessThanOrEqual(1);
  });

  it('writes a counting dataset as an image folder', () => {
    const r = tessera(['data', 'counting', '--range', '1-2', '--per-class', '3', '--size', '16', '--out', join(work, 'folder')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote 6 images in 2 classes \(1, 2\)/);
    expect(existsSync(join(work, 'folder', '2'))).toBe(true);
  });

  const userErrors: [string, string[], RegExp][] = [
    ['an unknown command', ['fly'], /unknown command 'fly'/],
    ['an unknown dataset', ['train', 'no-such-dataset'], /no dataset 'no-such-dataset'/],
    ['an unknown option', ['train', 'counting', '--epoch', '2'], /unknown option '--epoch'/],
    ['a bad number', ['train', 'counting', '--epochs', 'two'], /--epochs expects an integer, got 'two'/],
    ['an unknown architecture', ['train', 'counting', '--arch', 'vgg16'], /unknown architecture 'vgg16'/],
    ['missing ImageNet weights', ['train', join(work, 'folder'), '--arch', 'resnet34'], /no ImageNet weights for resnet34 .* --no-pretrained/],
    ['a missing model file', ['predict', join(work, 'nothing.safetensors'), 'x.jpg'], /does not exist/],
    ['convert without an output', ['convert', 'in.pth'], /usage: convert/],
  ];
  for (const [what, args, message] of userErrors) {
    it(`reports ${what} in one line`, () => {
      const r = tessera(args, { env: { TESSERA_WEIGHTS: join(work, 'no-weights'), XDG_CACHE_HOME: join(work, 'no-cache') } });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
