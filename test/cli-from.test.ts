/**
 * `train --from RUN`: continuing a finished run with a new one-cycle schedule (the blog's
 * `learn.fit_one_cycle(15, 1e-4)` after the first stage), end to end on the built dist.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, tessera } from './support/cli.js';
import { afterAll, describe, expect, it } from 'vitest';
import { io } from '@tessera/nn/node';

const work = mkdtempSync(join(tmpdir(), 'tessera-from-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


interface Row {
  epoch: number;
  valid_loss: number;
  error_rate: number;
}
const rows = (dir: string) => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Row[];

describe.skipIf(!existsSync(CLI))('train --from', () => {
  const first = join(work, 'first');
  const data = ['counting-1-2', '--size', '32', '--per-class', '48', '--bs', '16'];

  it('continues a finished run: its weights, its data, its table', async () => {
    const a = tessera(['train', ...data, '--arch', 'darknet-tiny', '--no-pretrained', '--epochs', '2', '--lr', '3e-3', '--out', first]);
    expect(a.code, a.stderr).toBe(0);
    const before = rows(first);
    expect(before).toHaveLength(2);
    const runJson = readFileSync(join(first, 'run.json'), 'utf8');
    expect(JSON.parse(runJson)).toMatchObject({ dataset: 'counting-1-2', arch: 'darknet-tiny', size: 32, perClass: 48, seed: 42, validPct: 0.2 });

    // One epoch at a vanishing learning rate: every weight comes out as it went in (to float
    // rounding), so everything was loaded — body and head (a fresh head would differ by far
    // more). BatchNorm's running statistics move with the epoch's batches, so they are left out.
    // (--epochs 0 is refused: a run that trains nothing is a mistake.) Arch, size and per-class
    // come from run.json.
    const second = join(work, 'second');
    const b = tessera(['train', 'counting-1-2', '--bs', '16', '--from', first, '--epochs', '1', '--lr', '1e-12', '--out', second]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain(`continued from ${join(first, 'model.safetensors')}`);
    expect(b.stdout).toMatch(/synthetic counting 1-2: 96 images \(48 per class, 32 px/);
    const [w1, w2] = await Promise.all([io.readSafetensors(join(first, 'model.safetensors')), io.readSafetensors(join(second, 'model.safetensors'))]);
    expect([...w2.tensors.keys()].sort()).toEqual([...w1.tensors.keys()].sort());
    let compared = 0;
    for (const [name, t1] of w1.tensors) {
      if (/running_|num_batches/.test(name)) continue;
      const a1 = t1.data as Float32Array;
      const a2 = w2.tensors.get(name)!.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < a1.length; i++) worst = Math.max(worst, Math.abs(a1[i]! - a2[i]!));
      expect(worst, name).toBeLessThan(1e-5);
      compared++;
    }
    expect(compared).toBeGreaterThan(40);
    expect(rows(second).slice(0, 2)).toEqual(before);
    expect(rows(second)).toHaveLength(3);

    // Into its own folder (the default), appending to the table, with a schedule that trains.
    const c = tessera(['train', 'counting-1-2', '--bs', '16', '--from', second, '--epochs', '2', '--lr', '1e-4']);
    expect(c.code, c.stderr).toBe(0);
    const after = rows(second);
    expect(after).toHaveLength(5);
    expect(after.slice(0, 2)).toEqual(before);
    expect(after.map((r) => r.epoch)).toEqual([0, 1, 2, 3, 4]);
    for (const r of after) expect(Number.isFinite(r.valid_loss)).toBe(true);
    expect(readFileSync(join(second, 'metrics.csv'), 'utf8').trim().split('\n')).toHaveLength(6);
    expect(readFileSync(join(second, 'model.safetensors')).equals(readFileSync(join(first, 'model.safetensors')))).toBe(false);
    // The finished run it started from is untouched.
    expect(rows(first)).toEqual(before);
    expect(readFileSync(join(first, 'run.json'), 'utf8')).toBe(runJson);
  }, 900_000); // three short trainings, on a software adapter that may be shared

  const refusals: [string, string[], RegExp][] = [
    ['another dataset', ['counting-1-3'], /was trained on 'counting-1-2', not 'counting-1-3'/],
    ['another image size', ['counting-1-2', '--size', '64'], /--size 64 differs from the run .* \(32\)/],
    ['another split', ['counting-1-2', '--seed', '7'], /--seed 7 differs/],
    ['--resume beside it', ['counting-1-2', '--resume', 'x'], /use one of them/],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what} in one line`, () => {
      if (!existsSync(join(first, 'run.json'))) return; // needs the run above
      const r = tessera(['train', ...args, '--from', first]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n')).toHaveLength(1);
    });
  }

  it('refuses a folder that holds no finished run', () => {
    const r = tessera(['train', 'counting-1-2', '--from', join(work, 'nothing')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no model.safetensors there; --from continues a finished run/);
  });
});
