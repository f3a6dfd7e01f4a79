/**
 * Start-up and epoch timing end to end: the first run of a model finds its kernels by tracing
 * its steps and compiles them ahead, then records the kernels it used (the warm-up plan); the
 * next compiles that plan ahead on worker threads before training; both print where the
 * start-up and each epoch's time went, and write it to metrics.json. A run with no warm-up
 * at all (TESSERA_NO_WARMUP=1) trains the same.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, tessera } from './support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'tessera-startup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Row {
  timing?: Record<string, number>;
  startup?: { phases: Record<string, number>; compile_ahead: { kernels: number; threads: number } | null; pipelines_created: number; first_step_at_s: number };
}

describe.skipIf(!existsSync(CLI))('train start-up', () => {
  it('traces and compiles ahead on a first run, records a warm-up plan, compiles it ahead next time, and reports start-up and epoch timing', () => {
    const env = { TESSERA_CACHE_DIR: join(work, 'cache') };
    const args = ['train', 'counting-1-2', '--arch', 'darknet-tiny', '--no-pretrained', '--size', '16', '--per-class', '24', '--epochs', '1', '--bs', '8'];
    const a = tessera([...args, '--out', join(work, 'a')], { env });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/start-up: device \d+\.\d s, data scan [\d.]+ s, model [\d.]+ s, .*; \d+ kernels \(warm-up plan: none recorded yet; found by tracing the steps in \d+\.\d s\) compiled ahead on \d+ threads? .*; \d+ pipelines created/);
    expect(a.stdout).toMatch(/epoch 0: [\d.]+ s = [\d.]+× steps × median step, [\d.]+× the steps. sum; \d+ steps/);
    expect(readdirSync(join(work, 'cache', 'warmup'))).toHaveLength(1);
    const b = tessera([...args, '--out', join(work, 'b')], { env });
    expect(b.code, b.stderr).toBe(0);
    const ahead = /(\d+) kernels compiled ahead on (\d+) threads?/.exec(b.stdout);
    expect(ahead, b.stdout).not.toBeNull();
    expect(Number(ahead![1])).toBeGreaterThan(20);
    const [row] = JSON.parse(readFileSync(join(work, 'b', 'metrics.json'), 'utf8')) as Row[];
    expect(Object.keys(row!.timing!).sort()).toEqual(['after_s', 'checkpoint_s', 'data_wait_s', 'first_step_s', 'seconds', 'step_median_s', 'step_s', 'steps', 'valid_data_wait_s', 'valid_s']);
    expect(row!.startup!.compile_ahead!.kernels).toBe(Number(ahead![1]));
    expect(row!.startup!.first_step_at_s).toBeGreaterThan(0);
    const c = tessera([...args, '--out', join(work, 'c')], { env: { ...env, TESSERA_NO_WARMUP: '1' } });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/; no kernels compiled ahead; \d+ pipelines created/);
    // All three trained the same: tracing and compiling ahead change no result.
    const loss = (d: string) => (JSON.parse(readFileSync(join(work, d, 'metrics.json'), 'utf8')) as { valid_loss: number }[])[0]!.valid_loss;
    expect(loss('b')).toBe(loss('a'));
    expect(loss('c')).toBe(loss('a'));
  });
});
