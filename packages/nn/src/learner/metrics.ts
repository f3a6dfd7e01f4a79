/**
 * Validation metrics. Each batch's contribution is added on the GPU (no readback per
 * batch); at the end of validation the recorder reads every metric's pending values
 * in a single transfer and lets each metric finish its number on the CPU.
 * fastai semantics: AvgMetric weights each batch's mean by the batch size, so the
 * result is the mean over all validation samples.
 */
import { type Tensor, concat, noGrad, tidy } from '@tessera/tensor';

/** A metric over a whole validation pass. */
export interface Metric {
  /** Column name in the epoch table (fastai's snake_case, e.g. error_rate). */
  readonly name: string;
  reset(): void;
  /** Adds one batch. pred: model output [N, C]; targ: i32 labels [N]; bs = N. Runs under noGrad. */
  accumulate(pred: Tensor, targ: Tensor, bs: number): void;
  /** Scalar GPU tensors to read back at the end of validation (owned by the metric). */
  pending(): Tensor[];
  /** The value, given what pending() held, in the same order. */
  finish(values: readonly number[]): number;
}

/** A function of (pred, targ) giving the batch mean as a scalar tensor, like fastai's metric functions. */
export type MetricFunc = ((pred: Tensor, targ: Tensor) => Tensor) & { metricName?: string };

/** camelCase → snake_case, so `errorRate` shows as fastai's `error_rate`. */
export function metricNameOf(f: MetricFunc): string {
  return f.metricName ?? f.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** fastai's AvgMetric: Σ func(batch)·bs / Σ bs, summed on the GPU. */
export class AvgMetric implements Metric {
  private total: Tensor | null = null;
  private count = 0;
  readonly name: string;

  constructor(
    readonly func: MetricFunc,
    name?: string,
  ) {
    this.name = name ?? metricNameOf(func);
  }

  reset(): void {
    this.total?.dispose();
    this.total = null;
    this.count = 0;
  }

  accumulate(pred: Tensor, targ: Tensor, bs: number): void {
    const prev = this.total;
    this.total = noGrad(() => tidy(() => {
      const v = this.func(pred, targ).mul(bs);
      return prev ? prev.add(v) : v;
    })).keep();
    prev?.dispose();
    this.count += bs;
  }

  pending(): Tensor[] {
    return this.total ? [this.total] : [];
  }

  finish(values: readonly number[]): number {
    return this.count === 0 || values.length === 0 ? NaN : values[0]! / this.count;
  }
}

/** Integer labels as i32 (comparisons need matching dtypes). */
function asI32(t: Tensor): Tensor {
  return t.dtype === 'i32' ? t : t.cast('i32');
}

/** fastai's accuracy: share of samples whose arg-max class is the target. */
export const accuracy: MetricFunc = function accuracy(pred: Tensor, targ: Tensor): Tensor {
  return tidy(() => pred.argmax(-1).eq(asI32(targ)).cast('f32').mean());
};

/** fastai's error_rate: 1 - accuracy. */
export const errorRate: MetricFunc = function errorRate(pred: Tensor, targ: Tensor): Tensor {
  return tidy(() => pred.argmax(-1).ne(asI32(targ)).cast('f32').mean());
};

// Named explicitly: a minifier (a bundled web page) renames functions, and the column names
// of the epoch table must not change with it.
accuracy.metricName = 'accuracy';
errorRate.metricName = 'error_rate';

/** Wraps metric functions into AvgMetrics; passes Metric objects through. */
export function toMetric(m: Metric | MetricFunc): Metric {
  return typeof m === 'function' ? new AvgMetric(m) : m;
}

/** Reads several scalar tensors with one GPU→CPU transfer. */
export async function readScalars(ts: readonly Tensor[]): Promise<number[]> {
  if (ts.length === 0) return [];
  const flat = noGrad(() => tidy(() => concat(ts.map((t) => t.reshape([1])))));
  try {
    return Array.from(await flat.toArray());
  } finally {
    flat.dispose();
  }
}
