/**
 * fastai's ClassificationInterpretation with its pictures: @tessera/nn's (confusion matrix,
 * most confused, top losses over the validation set) plus plotConfusionMatrix and
 * plotTopLosses, which need the images and so the vision data.
 */
import { ClassificationInterpretation as Interpretation } from '@tessera/nn';
import { renderBatchGrid, renderConfusionMatrix, type ConfusionMatrixOptions, type VisionDataset } from '@tessera/vision';
import type { VisionLearner } from './vision-learner.js';
import { picture, type Picture, type PictureOptions } from './pictures.js';

export class ClassificationInterpretation extends Interpretation {
  /** The validation images that decoded (what the positions in topLosses index) and their size. */
  private images: { items: VisionDataset; size: number } | null = null;

  /** Runs the model over the validation set and keeps what the summaries and pictures need. */
  static override async fromLearner(learn: VisionLearner): Promise<ClassificationInterpretation> {
    const base = await Interpretation.fromLearner(learn);
    const interp = new ClassificationInterpretation(base.vocab, base.probs, base.targets, base.losses);
    // Interpretation's positions are over the validation images that decoded.
    interp.images = { items: learn.dls.validItems(), size: learn.dls.size };
    return interp;
  }

  /** fastai's plot_confusion_matrix (rows: actual, columns: predicted). */
  plotConfusionMatrix(opts: PictureOptions & ConfusionMatrixOptions = {}): Promise<Picture> {
    const { file, ...rest } = opts;
    const o = { title: 'Confusion matrix (rows: actual)', ...rest };
    const cm = this.confusionMatrix();
    return picture('plotConfusionMatrix', file, (p, f) => p.confusionMatrix(f, cm, this.vocab, o), () => renderConfusionMatrix(cm, this.vocab, o));
  }

  /** fastai's plot_top_losses: the k worst validation images, each labelled predicted/actual, loss, probability of the actual class. */
  async plotTopLosses(k = 9, opts: PictureOptions & { ncols?: number } = {}): Promise<Picture> {
    if (!this.images) throw new Error('plotTopLosses: this interpretation was not made by fromLearner, so it has no images');
    const { items, size } = this.images;
    const top = this.topLosses(Math.min(k, items.length));
    const data = new Float32Array(top.length * size * size * 3);
    for (let i = 0; i < top.length; i++) {
      const img = await items.load(top[i]!.index, size);
      for (let j = 0; j < img.data.length; j++) data[i * size * size * 3 + j] = img.data[j]! / 255;
    }
    const labels = top.map((t) => `${t.predicted}/${t.actual} ${t.loss.toFixed(2)} ${t.probActual.toFixed(2)}`);
    const host = { data, shape: [top.length, size, size, 3] as [number, number, number, number] };
    const grid = { mean: [0, 0, 0], std: [1, 1, 1], ncols: opts.ncols ?? 3 };
    return picture('plotTopLosses', opts.file, (p, f) => p.showBatch(host, labels, f, grid), () => renderBatchGrid(host, labels, grid));
  }
}
