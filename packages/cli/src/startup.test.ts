/** The start-up report (phases, kernels compiled ahead, first step) and the warm-up plan the train command keeps. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initDevice, kernelSources, tensor, traceKernels } from '@tessera/tensor';
import { readWarmupPlan, warmupPlanPath } from '@tessera/tensor/node';
import type { EpochTiming } from '@tessera/nn';
import { Startup, startupLine } from './startup.js';
import { timingLine } from './run-log.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-startup-'));
const saved = process.env.TESSERA_CACHE_DIR;
beforeAll(async () => {
  process.env.TESSERA_CACHE_DIR = dir;
  await initDevice();
});
afterAll(() => {
  if (saved === undefined) delete process.env.TESSERA_CACHE_DIR;
  else process.env.TESSERA_CACHE_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe('Startup', () => {
  it('reports its phases, pipelines and first step, as one summary line', async () => {
    const s = new Startup(null);
    s.phase('device');
    s.phase('data scan');
    const r = s.report(12345);
    expect(Object.keys(r.phases)).toEqual(['device', 'data scan']);
    expect(r.compile_ahead).toBeNull();
    expect(r.first_step_at_s).toBe(12.3);
    expect(r.pipelines_created).toBeGreaterThanOrEqual(0);
    expect(startupLine(r)).toMatch(/^start-up: device \d+\.\d s, data scan \d+\.\d s; no kernels compiled ahead; \d+ pipelines created \(\d+\.\d s\); first training step done 12\.3 s after start$/);
  });

  it('records the kernels a run used as the next run\'s plan, rewrites it only when they change, and compiles it ahead', async () => {
    const key = 'train test-net 16px bs2 counting';
    await tensor([1, 2], [2]).add(1).toArray();
    const first = new Startup(key);
    await first.startCompileAhead();
    expect(first.note).toBe('none recorded yet');
    const path = await first.savePlan();
    expect(path).toBe(warmupPlanPath(key));
    expect((await readWarmupPlan(key)).kernels).toEqual(kernelSources());
    const second = new Startup(key);
    await second.startCompileAhead();
    expect(second.note).toBeNull();
    await second.ready();
    expect(second.report(null).compile_ahead!.kernels).toBe(kernelSources().length);
    expect(await second.savePlan()).toBeNull(); // the same kernels: nothing to write
  });

  it('with no plan, compiles the traced kernels ahead and says so; a failed trace only costs the warm-up', async () => {
    const key = 'train traced-net 16px bs2 counting';
    const traced = traceKernels(() => void tensor([1, 2, 3], [3]).neg().exp());
    expect(traced.map((k) => k.name)).toEqual(['neg', 'exp']);
    const s = new Startup(key);
    await s.startCompileAhead();
    s.traceAhead(() => traced);
    await s.ready();
    const r = s.report(null);
    expect(r.compile_ahead).toMatchObject({ kernels: 2, source: 'trace' });
    expect(startupLine(r)).toMatch(/; 2 kernels \(warm-up plan: none recorded yet; found by tracing the steps in \d+\.\d s\) compiled ahead on /);
    const compiled = new Set(kernelSources().map((k) => k.code));
    expect(traced.every((k) => compiled.has(k.code))).toBe(true);

    const failed = new Startup('train failing-trace 16px bs2 counting');
    await failed.startCompileAhead();
    failed.traceAhead(() => {
      throw new Error('no batch');
    });
    await failed.ready();
    expect(startupLine(failed.report(null))).toContain('no kernels compiled ahead (warm-up plan: none recorded yet; tracing the steps failed (no batch))');
  });

  it('a corrupt plan is a note, and a new plan replaces it', async () => {
    const key = 'train corrupt 16px bs2 counting';
    mkdirSync(dirname(warmupPlanPath(key)), { recursive: true });
    writeFileSync(warmupPlanPath(key), '{"version":');
    const s = new Startup(key);
    await s.startCompileAhead();
    expect(s.note).toContain('is unreadable');
    expect(startupLine(s.report(null))).toContain(`no kernels compiled ahead (warm-up plan: ${warmupPlanPath(key)} is unreadable`);
    expect(await s.savePlan()).toBe(warmupPlanPath(key));
    expect((await readWarmupPlan(key)).kernels).not.toBeNull();
  });
});

describe('timingLine', () => {
  it('compares the epoch with its steps and names every other part', () => {
    const t: EpochTiming = { seconds: 44, steps: 50, step_s: 40.5, step_median_s: 0.8, first_step_s: 1.2, data_wait_s: 0.5, valid_data_wait_s: 0.2, valid_s: 2.5, after_s: 0.4, checkpoint_s: 0.3 };
    expect(timingLine(3, t)).toBe(
      'epoch 3: 44.0 s = 1.10× steps × median step, 1.09× the steps\' sum; 50 steps 40.5 s (median 0.800 s, first 1.20 s), waiting for data 0.5 s (0.2 s of it in validation), validation 2.5 s, metrics and logs 0.10 s, checkpoint 0.30 s',
    );
  });
});
