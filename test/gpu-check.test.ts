/**
 * `scripts/gpu-check.sh --quick`, the one-call measurement kept ready for a GPU machine, run
 * here on whatever adapter the test machine has (lavapipe in CI): it must pass every step and
 * leave the two JSON files a GPU session would bring back, with sane records in them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

const out = mkdtempSync(join(tmpdir(), 'tessera-gpu-check-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const built = existsSync(join(ROOT, 'bench/dist/main.js')) && existsSync(join(ROOT, 'packages/cli/dist/main.js'));
if (!built) console.log('[gpu-check] not run: build first (pnpm test builds)');

describe.skipIf(!built)('scripts/gpu-check.sh --quick', () => {
  it('passes every step and writes bench.json and bench-model.json', () => {
    const r = spawnSync('bash', [join(ROOT, 'scripts/gpu-check.sh'), '--quick', '--out', out], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, OUT: '' },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[gpu-check\] adapter: \S/);
    expect(r.stdout).toContain('[gpu-check] all steps passed');
    const bench = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as { name: string; shape: string }[];
    expect(bench.length).toBeGreaterThan(0);
    expect(bench.map((x) => `${x.name} ${x.shape}`)).toContain('matmul 1024x1024x1024');
    const model = JSON.parse(readFileSync(join(out, 'bench-model.json'), 'utf8')) as { name: string; imgs_per_s: number }[];
    expect(model.map((x) => x.name)).toEqual(['darknet-tiny-train-64']);
    expect(model[0]!.imgs_per_s).toBeGreaterThan(0);
  });

  it('refuses an unknown option with one line naming it', () => {
    const r = spawnSync('bash', [join(ROOT, 'scripts/gpu-check.sh'), '--fast'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("[gpu-check] error: unknown option '--fast' (see --help)");
  });
});
