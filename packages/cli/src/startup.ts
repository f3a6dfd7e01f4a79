/**
 * Where a run's start-up goes, and the warm-up that shortens it.
 *
 * `Startup` stamps the phases before training (device, data scan, model and weights) and
 * starts compiling the kernels the previous run of the same model, size and batch on this
 * adapter needed (its warm-up plan, @tessera/tensor/node) on worker threads while the data
 * is scanned; training waits for that before its first step. With no plan yet (a model's
 * first run on this machine), the kernels are found by tracing the learner's steps
 * (@tessera/nn's traceStepKernels: no command runs) once the model is built, and compiled
 * the same way. After the run the plan is recorded anew when the kernels changed. The report
 * goes to the run summary and to metrics.json (the `startup` of the run's first epoch row).
 */
import { kernelSources, pipelineStats, warmKernels, type KernelSource } from '@tessera/tensor';
import { Callback } from '@tessera/nn';
import { compileAhead, readWarmupPlan, writeWarmupPlan, type CompileAheadResult } from '@tessera/tensor/node';

export interface StartupReport {
  /** Seconds of each phase before training, in order (device, data, model…). */
  phases: Record<string, number>;
  /** Compiling the warm-up plan (or the traced kernels) ahead (null: nothing compiled ahead). */
  compile_ahead: (CompileAheadResult & { waited_s: number; source: 'plan' | 'trace'; trace_s?: number }) | null;
  /** Why nothing was compiled ahead (no plan yet, or an unreadable one), when nothing was. */
  no_plan?: string;
  /** Pipelines the run created on demand, and the seconds those calls blocked. */
  pipelines_created: number;
  pipeline_create_s: number;
  /** From the process's start to the end of the first training step. */
  first_step_at_s: number | null;
}

const r1 = (s: number) => Math.round(s * 10) / 10;

export class Startup {
  private readonly phases: Record<string, number> = {};
  private last = performance.now();
  private plan: KernelSource[] | null = null;
  private ahead: Promise<CompileAheadResult> | null = null;
  private result: StartupReport['compile_ahead'] = null;
  private source: 'plan' | 'trace' = 'plan';
  private traceSeconds = 0;
  /** Why there was no plan to compile ahead, when there was none. */
  note: string | null = null;

  constructor(readonly planKey: string | null) {}

  /** Ends the current phase under `name`. */
  phase(name: string): void {
    const t = performance.now();
    this.phases[name] = (t - this.last) / 1000;
    this.last = t;
  }

  /** Reads the plan and starts compiling it on worker threads (not awaited). Needs the device. */
  async startCompileAhead(): Promise<void> {
    if (!this.planKey || process.env.TESSERA_NO_WARMUP === '1') return;
    const read = await readWarmupPlan(this.planKey);
    if (!read.kernels) {
      this.note = read.reason;
      return;
    }
    this.plan = read.kernels;
    this.ahead = compileAhead(read.kernels);
  }

  /**
   * With no plan compiling (none recorded yet), traces the steps with `trace` (the learner's
   * traceStepKernels) and compiles what it found ahead. A trace that fails costs nothing but
   * the warm-up: the kernels then compile at first use, as without a plan.
   */
  traceAhead(trace: () => KernelSource[]): void {
    if (this.ahead || !this.planKey || process.env.TESSERA_NO_WARMUP === '1') return;
    const t0 = performance.now();
    let kernels: KernelSource[];
    try {
      kernels = trace();
    } catch (e) {
      this.note = `${this.note ?? 'none'}; tracing the steps failed (${(e as Error).message})`;
      return;
    }
    this.traceSeconds = (performance.now() - t0) / 1000;
    this.source = 'trace';
    this.plan = kernels;
    this.ahead = compileAhead(kernels);
  }

  /** Waits for the compilation started ahead, then creates this device's pipelines of the plan (call before the first training step). */
  async ready(): Promise<void> {
    if (!this.ahead) return;
    const t = performance.now();
    const r = await this.ahead;
    this.ahead = null;
    // Then this device's own pipelines, from the driver's cache the workers filled: not in the first epoch.
    if (r.threads > 0) await warmKernels(this.plan!);
    this.result = { ...r, waited_s: (performance.now() - t) / 1000, source: this.source, ...(this.source === 'trace' ? { trace_s: this.traceSeconds } : {}) };
  }

  /** Records this run's kernels as the plan for the next run, when they differ from the one read. Returns the file, or null. */
  async savePlan(): Promise<string | null> {
    if (!this.planKey) return null;
    const used = kernelSources();
    const had = new Set((this.plan ?? []).map((k) => k.code));
    if (used.length === had.size && used.every((k) => had.has(k.code))) return null;
    this.plan = used;
    return writeWarmupPlan(this.planKey, used).catch(() => null); // only a cache: a failed write costs the next run time, nothing else
  }

  /** A callback that records the plan after every epoch, so that an interrupted run leaves one too. */
  planSaver(): Callback {
    const startup = this;
    return new (class extends Callback {
      override async afterEpoch(): Promise<void> {
        if (!this.learn.lrFinding) await startup.savePlan();
      }
    })();
  }

  report(firstStepAtMs: number | null): StartupReport {
    const p = pipelineStats();
    return {
      phases: Object.fromEntries(Object.entries(this.phases).map(([k, v]) => [k, r1(v)])),
      compile_ahead: this.result && {
        ...this.result,
        seconds: r1(this.result.seconds),
        waited_s: r1(this.result.waited_s),
        ...(this.result.trace_s !== undefined ? { trace_s: r1(this.result.trace_s) } : {}),
      },
      ...(this.note ? { no_plan: this.note } : {}),
      pipelines_created: p.compiled,
      pipeline_create_s: r1(p.compileMs / 1000),
      first_step_at_s: firstStepAtMs === null ? null : r1(firstStepAtMs / 1000),
    };
  }
}

/** The report as one line of the run summary. */
export function startupLine(r: StartupReport): string {
  const phases = Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  const found = r.compile_ahead?.source === 'trace' ? ` (warm-up plan: ${r.no_plan ?? 'none'}; found by tracing the steps in ${r.compile_ahead.trace_s?.toFixed(1)} s)` : '';
  const ahead = r.compile_ahead
    ? `${r.compile_ahead.kernels} kernels${found} compiled ahead on ${r.compile_ahead.threads || 1} thread${r.compile_ahead.threads > 1 ? 's' : ''} in ${r.compile_ahead.seconds.toFixed(1)} s (training waited ${r.compile_ahead.waited_s.toFixed(1)} s for it)`
    : `no kernels compiled ahead${r.no_plan ? ` (warm-up plan: ${r.no_plan})` : ''}`;
  const first = r.first_step_at_s === null ? '' : `; first training step done ${r.first_step_at_s.toFixed(1)} s after start`;
  return `start-up: ${phases.join(', ')}; ${ahead}; ${r.pipelines_created} pipelines created (${r.pipeline_create_s.toFixed(1)} s)${first}`;
}
