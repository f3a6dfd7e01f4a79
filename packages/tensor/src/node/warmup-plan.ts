/**
 * Warm-up plans on disk (Node only): the kernels one run of a model needed, so that the
 * next run of the same model, image size and batch on the same adapter and driver can
 * compile them ahead (compile-ahead.ts) while it loads its data. One JSON file per key
 * under <cache>/warmup/, written atomically; a missing, corrupt or foreign file is no
 * plan (the run records a new one), never an error.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adapterKey } from '../kernels/gemm-tuner.js';
import type { KernelSource } from '../runtime/kernel.js';
import { writeAtomic } from './atomic-write.js';
import { tesseraCacheDir } from './cache-dir.js';

interface PlanFile {
  version: 1;
  /** What the plan is for, e.g. "train darknet-tiny 64px bs32 5 classes". */
  key: string;
  adapter: string;
  kernels: KernelSource[];
}

/** The plan file of `key` on this adapter and driver. */
export function warmupPlanPath(key: string, dir = tesseraCacheDir()): string {
  const id = createHash('sha256').update(`${adapterKey()}\n${key}`).digest('hex').slice(0, 16);
  return join(dir, 'warmup', `${id}.json`);
}

export type WarmupPlanRead = { kernels: KernelSource[] } | { kernels: null; reason: string };

const isSource = (k: unknown): k is KernelSource =>
  typeof k === 'object' && k !== null && typeof (k as KernelSource).name === 'string' && typeof (k as KernelSource).code === 'string' && typeof (k as KernelSource).hasUniforms === 'boolean';

/** Reads the plan for `key`; `reason` says why there is none (absent, corrupt, another adapter or key). */
export async function readWarmupPlan(key: string, path = warmupPlanPath(key)): Promise<WarmupPlanRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return { kernels: null, reason: 'none recorded yet' };
  }
  try {
    const data = JSON.parse(text) as PlanFile;
    if (data?.version !== 1 || !Array.isArray(data.kernels) || !data.kernels.every(isSource)) throw new Error('not a warm-up plan');
    if (data.adapter !== adapterKey() || data.key !== key) return { kernels: null, reason: `${path} is for another adapter or run` };
    return { kernels: data.kernels };
  } catch (e) {
    return { kernels: null, reason: `${path} is unreadable (${(e as Error).message}); a new one is recorded` };
  }
}

/** Writes the plan for `key` (atomically: a reader sees the old file or the new one). */
export async function writeWarmupPlan(key: string, kernels: readonly KernelSource[], path = warmupPlanPath(key)): Promise<string> {
  const data: PlanFile = { version: 1, key, adapter: adapterKey(), kernels: [...kernels] };
  await writeAtomic(path, JSON.stringify(data), { mkdir: true });
  return path;
}
