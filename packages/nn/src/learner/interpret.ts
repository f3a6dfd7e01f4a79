/**
 * Looking at what the model gets wrong (fastai's ClassificationInterpretation):
 * predictions over the validation set with per-sample losses, the confusion matrix,
 * the most confused pairs, the top losses; and test-time augmentation (fastai's
 * Learner.tta): the mean of n augmented passes, lerped with the plain prediction.
 */
import { type Tensor, TesseraError, noGrad, softmax, tensor, tidy } from '@tessera/tensor';
import type { Module } from '../module.js';
import { type BatchSource, disposeBatch } from './data.js';
import type { Learner } from './learner.js';
import type { LossFunc } from './options.js';
import { inEvalMode } from './predict.js';
import { concatArrays } from '../io/bytes.js';

export interface Preds {
  /** Class probabilities, row-major [n, nClasses]. */
  probs: Float32Array;
  targets: Int32Array;
  /** Per-sample losses (with getLosses). */
  losses?: Float32Array;
  nClasses: number;
}

/**
 * Per-sample losses: the loss function with reduction 'none' when it honours it
 * (returns one value per sample), else -log p(target) from the probabilities.
 */
function sampleLosses(lossFunc: LossFunc, logits: Tensor, probs: Tensor, y: Tensor): Tensor {
  const n = logits.shape[0]!;
  const l = lossFunc(logits, y, { reduction: 'none' });
  if (l.rank === 1 && l.shape[0] === n) return l;
  l.dispose();
  return tidy(() => {
    const classes = probs.shape[probs.rank - 1]!;
    const onehot = y.cast('i32').unsqueeze(1).eq(arangeI32(classes)).cast('f32');
    return probs.mul(onehot).sum(1).log().neg();
  });
}

/** 0…n-1 as i32 (a tiny upload: the tensor package's arange computes in f32). */
function arangeI32(n: number): Tensor {
  return tensor(Int32Array.from({ length: n }, (_, i) => i), [n], 'i32');
}

/** Probabilities (softmax of the model output), targets and optionally losses over a source. */
export async function getPreds(
  model: Module,
  source: BatchSource,
  opts: { lossFunc?: LossFunc; epoch?: number } = {},
): Promise<Preds> {
  return inEvalMode(model, async () => {
    const probs: Float32Array[] = [];
    const targets: Int32Array[] = [];
    const losses: Float32Array[] = [];
    let nClasses = 0;
    for await (const b of source.batches(opts.epoch ?? 0)) {
      try {
        const out = noGrad(() =>
          tidy(() => {
            const logits = model.call(b.x);
            const p = softmax(logits, -1);
            const l = opts.lossFunc ? sampleLosses(opts.lossFunc, logits, p, b.y) : null;
            return l ? [p, l] : [p];
          }),
        );
        try {
          nClasses = out[0]!.shape[out[0]!.rank - 1]!;
          probs.push((await out[0]!.toArray()) as Float32Array);
          if (out[1]) losses.push((await out[1].toArray()) as Float32Array);
          targets.push(Int32Array.from(await b.y.toArray()));
        } finally {
          out.forEach((t) => t.dispose());
        }
      } finally {
        disposeBatch(b);
      }
    }
    return {
      probs: concatF32(probs),
      targets: concatI32(targets),
      losses: opts.lossFunc ? concatF32(losses) : undefined,
      nClasses,
    };
  });
}

function concatF32(parts: Float32Array[]): Float32Array {
  return concatArrays(parts, (n) => new Float32Array(n));
}

function concatI32(parts: Int32Array[]): Int32Array {
  return concatArrays(parts, (n) => new Int32Array(n));
}

function argmaxRows(probs: Float32Array, c: number): Int32Array {
  const n = probs.length / c;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (probs[i * c + k]! > probs[i * c + best]!) best = k;
    out[i] = best;
  }
  return out;
}

export interface TopLoss {
  /** Position in the validation set. */
  index: number;
  predicted: string;
  actual: string;
  predictedIndex: number;
  actualIndex: number;
  loss: number;
  /** Probability the model gave the actual class (fastai's plot_top_losses shows it). */
  probActual: number;
  probPredicted: number;
}

export class ClassificationInterpretation {
  /** Predicted class per sample (arg-max of probs). */
  readonly decoded: Int32Array;

  constructor(
    readonly vocab: readonly string[],
    readonly probs: Float32Array,
    readonly targets: Int32Array,
    readonly losses: Float32Array,
  ) {
    const c = vocab.length;
    if (probs.length !== targets.length * c) {
      throw new TesseraError(`interpretation: ${probs.length} probabilities for ${targets.length} samples of ${c} classes`);
    }
    this.decoded = argmaxRows(probs, c);
  }

  /** Runs the model over the validation set (or `source`) and keeps everything needed. */
  static async fromLearner(learn: Learner, source: BatchSource = learn.dls.valid): Promise<ClassificationInterpretation> {
    const p = await getPreds(learn.model, source, { lossFunc: learn.lossFunc });
    if (p.nClasses !== learn.dls.classes.length) {
      throw new TesseraError(`interpretation: the model gives ${p.nClasses} outputs but the data has ${learn.dls.classes.length} classes`);
    }
    return new ClassificationInterpretation(learn.dls.classes, p.probs, p.targets, p.losses!);
  }

  get nClasses(): number {
    return this.vocab.length;
  }

  /** cm[actual][predicted] = count (fastai's layout: rows actual, columns predicted). */
  confusionMatrix(): number[][] {
    const c = this.nClasses;
    const cm = Array.from({ length: c }, () => Array<number>(c).fill(0));
    this.targets.forEach((t, i) => cm[t]![this.decoded[i]!]!++);
    return cm;
  }

  /**
   * Off-diagonal cells with at least minVal samples as [actual, predicted, count],
   * largest first; equal counts keep row-major order (np.where + stable sort, as fastai).
   */
  mostConfused(minVal = 1): [string, string, number][] {
    const cm = this.confusionMatrix();
    const res: [string, string, number][] = [];
    cm.forEach((row, i) => row.forEach((n, j) => {
      if (i !== j && n >= minVal) res.push([this.vocab[i]!, this.vocab[j]!, n]);
    }));
    return res.map((r, k) => [r, k] as const).sort((a, b) => b[0][2] - a[0][2] || a[1] - b[1]).map(([r]) => r);
  }

  /** The k samples with the largest losses (all when k is omitted), largest first. */
  topLosses(k = this.losses.length, largest = true): TopLoss[] {
    const idx = Array.from(this.losses.keys());
    idx.sort((a, b) => (largest ? this.losses[b]! - this.losses[a]! : this.losses[a]! - this.losses[b]!) || a - b);
    const c = this.nClasses;
    return idx.slice(0, k).map((i) => {
      const t = this.targets[i]!;
      const d = this.decoded[i]!;
      return {
        index: i,
        predicted: this.vocab[d]!,
        actual: this.vocab[t]!,
        predictedIndex: d,
        actualIndex: t,
        loss: this.losses[i]!,
        probActual: this.probs[i * c + t]!,
        probPredicted: this.probs[i * c + d]!,
      };
    });
  }
}

export interface TtaOptions {
  /** Batches with training-time augmentation for pass i (fastai uses the train transforms). */
  augmented: (pass: number) => BatchSource;
  /** Plain batches (default: the learner's validation set). */
  source?: BatchSource;
  /** Augmented passes (fastai: 4). */
  n?: number;
  /** Weight of the plain prediction (fastai: 0.25). */
  beta?: number;
  /** Take the element-wise max of the augmented and plain predictions instead. */
  useMax?: boolean;
}

/**
 * fastai's Learner.tta: mean (or max) of n augmented passes, then
 * torch.lerp(augMean, plain, beta) = (1 - beta)·augMean + beta·plain.
 */
export async function tta(learn: Learner, opts: TtaOptions): Promise<{ probs: Float32Array; targets: Int32Array }> {
  const n = opts.n ?? 4;
  const beta = opts.beta ?? 0.25;
  const source = opts.source ?? learn.dls.valid;
  if (!(n >= 1)) throw new TesseraError(`tta: n must be at least 1, got ${n}`);
  let agg: Float32Array | null = null;
  for (let i = 0; i < n; i++) {
    const p = await getPreds(learn.model, opts.augmented(i), { epoch: i });
    if (!agg) agg = opts.useMax ? p.probs.slice() : new Float32Array(p.probs.length);
    if (p.probs.length !== agg.length) throw new TesseraError(`tta: augmented pass ${i} gave ${p.probs.length} values, pass 0 ${agg.length}`);
    for (let k = 0; k < agg.length; k++) agg[k] = opts.useMax ? Math.max(agg[k]!, p.probs[k]!) : agg[k]! + p.probs[k]!;
  }
  if (!opts.useMax) for (let k = 0; k < agg!.length; k++) agg![k] = agg![k]! / n;
  const plain = await getPreds(learn.model, source);
  if (plain.probs.length !== agg!.length) throw new TesseraError(`tta: the plain pass gave ${plain.probs.length} values, the augmented ${agg!.length}`);
  const out = new Float32Array(agg!.length);
  for (let k = 0; k < out.length; k++) {
    out[k] = opts.useMax ? Math.max(plain.probs[k]!, agg![k]!) : agg![k]! + beta * (plain.probs[k]! - agg![k]!);
  }
  return { probs: out, targets: plain.targets };
}
