/**
 * `pnpm bench --model` end to end on a tiny configuration (the built dist; `pnpm test`
 * builds first): the JSON records have the documented fields with sane values, the
 * GEMM share comes from the profiled step, fusion is compared in eval, and the
 * PyTorch reference is in the same run when Debian's torch is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelRecord } from '../bench/src/model/run.js';
import { findPython } from '@tessera/tensor/testing/node';

const ROOT = resolve(import.meta.dirname, '..');
const BENCH = join(ROOT, 'bench/dist/main.js');
const work = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const torch = findPython(['torch', 'torchvision']);
const torchMissing = torch.ok ? null : torch.reason;
if (torchMissing) console.log(`[bench --model] PyTorch reference not checked: ${torchMissing}`);

/** The records `--json` writes. */
type Rec = ModelRecord;

describe.skipIf(!existsSync(BENCH))('pnpm bench --model', () => {
  it('darknet-tiny at 32², batch 2: train and eval records', () => {
    const json = join(work, 'model.json');
    const args = [BENCH, '--model', 'darknet-tiny', '--sizes', '32', '--batch', '2', '--steps', '1', '--json', json, ...(torchMissing ? ['--no-torch'] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 600_000, env: { ...process.env, TESSERA_CACHE_DIR: work } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/case\s+img\/s\s+ms\/step\s+GEMM ms/);
    const recs = JSON.parse(readFileSync(json, 'utf8')) as Rec[];
    expect(recs.map((x) => x.name)).toEqual(['darknet-tiny-train-32', 'darknet-tiny-eval-32']);
    for (const x of recs) {
      expect(x.imgs_per_s).toBeGreaterThan(0);
      expect(x.step_ms).toBeCloseTo((2 * 1000) / x.imgs_per_s, 3);
      expect(x.gemm_ms).toBeGreaterThan(0);
      expect(x.kernels_ms).toBeGreaterThanOrEqual(x.gemm_ms);
      // Tiny Darknet's 3×3 convolutions from 16 channels on take Winograd: its transforms are timed apart.
      expect(x.winograd_ms).toBeGreaterThan(0);
      expect(x.kernels_ms).toBeGreaterThanOrEqual(x.gemm_ms + x.winograd_ms - 1e-6);
      expect(x.dispatches).toBeGreaterThan(10);
      expect(x.submits).toBeGreaterThanOrEqual(1);
      expect(x.peak_bytes).toBeGreaterThan(4 * 1_000_000); // at least the weights (~1M parameters)
      if (!torchMissing) {
        expect(x.refs[0]?.name).toBe('pytorch-cpu');
        expect(x.refs[0]!.imgs_per_s).toBeGreaterThan(0);
      }
    }
    expect(recs[1]!.unfused_imgs_per_s).toBeGreaterThan(0);
    // The TF.js row is off by default on a software adapter (a TF.js ResNet step takes minutes
    // there; --tfjs runs it), and says so in every record.
    const adapter = /^adapter: (.*)$/m.exec(r.stdout)?.[1] ?? '';
    const software = /llvmpipe|lavapipe|swiftshader|software/i.test(adapter);
    for (const x of recs) {
      expect(x.tfjs).toEqual({ skipped: software ? expect.stringMatching(/^off on a software adapter .*--tfjs runs it$/) : 'no tfjs-layers version of darknet-tiny in the bench' });
    }
    // Eval fuses conv → BatchNorm → LeakyReLU: far fewer dispatches than training's forward alone.
    expect(recs[1]!.dispatches).toBeLessThan(recs[0]!.dispatches / 3);
  });

  it('rejects an unknown convolution algorithm by name', () => {
    const r = spawnSync(process.execPath, [BENCH, '--model', 'resnet18', '--conv-algorithm', 'fft'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--conv-algorithm: unknown algorithm fft/);
  });

  it('rejects an unknown model by name', () => {
    const r = spawnSync(process.execPath, [BENCH, '--model', 'vgg16'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--model: unknown model vgg16; choose from resnet18, resnet34, resnet50, darknet-tiny/);
  });
});
