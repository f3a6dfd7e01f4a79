// The browser entry of @tessera/fastai (no Node platform registered in this file): loaders from
// `File`-like objects, a vision learner, fit, the LR finder's suggestions, TTA's error rate,
// interpretation's pictures as SVG, export to bytes (Tessera's file and ONNX) and loadLearner from them.
import { describe, expect, it, vi } from 'vitest';
import { manualSeed } from '@tessera/tensor';
import { createImage, encodePng, type FileLike } from '@tessera/vision';
import { decodeModel } from '@tessera/onnx';
// Test-only broken files from @tessera/vision's sources (not part of its published entries).
import { shortPng } from '../../vision/src/testing/bad-files.js';
import {
  ClassificationInterpretation, ImageDataLoaders, TooFewImagesError, augTransforms, errorRate, loadLearner, resize, visionLearner,
} from './index.js';

/** Two classes a model tells apart at once: reddish and bluish 16-px pictures with noise. */
function colourFiles(perClass: number): FileLike[] {
  let seed = 3;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const files: FileLike[] = [];
  for (const [name, rgb] of [['red', [200, 60, 50]], ['blue', [50, 80, 200]]] as const) {
    for (let i = 0; i < perClass; i++) {
      const img = createImage(16, 16);
      for (let p = 0; p < 16 * 16; p++) for (let c = 0; c < 3; c++) img.data[p * 3 + c] = Math.max(0, Math.min(255, rgb[c]! + (rand() - 0.5) * 100));
      const bytes = encodePng(img);
      files.push({ name: `${i}.png`, webkitRelativePath: `colours/${name}/${i}.png`, arrayBuffer: async () => bytes.slice().buffer });
    }
  }
  return files;
}

describe('@tessera/fastai in a browser', () => {
  it('trains, interprets, exports and predicts from File-like objects', async () => {
    manualSeed(0);
    const dls = await ImageDataLoaders.fromFiles(colourFiles(12), { itemTfms: resize(16), batchTfms: augTransforms(), bs: 4 });
    try {
      expect(dls.classes).toEqual(['blue', 'red']);
      expect(dls.description).toMatch(/^colours: \d+ training and \d+ validation images in 2 classes \(random 20% validation split\)$/);
      // No weights lookup in a browser: left out, the body starts from scratch and the learner is not frozen.
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const learn = await visionLearner(dls, 'darknet-tiny', { metrics: [errorRate], progress: false });
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^visionLearner: no ImageNet weights for darknet-tiny: .*the body starts from scratch/));
      warn.mockRestore();
      expect(learn.pretrained).toBeNull();
      expect(learn.model.parameters().every((p) => p.requiresGrad)).toBe(true);
      expect(dls.normalize).toBe('none'); // Tiny Darknet's weights expect [0, 1] pixels
      expect(learn.preprocess).toEqual({ size: 16, normalize: 'none', resize: 'crop' });

      const shown = await dls.showBatch();
      expect(shown.width).toBeGreaterThan(16);
      expect(shown.svg).toMatch(/^<svg[^>]* width="\d+"/);
      const found = await learn.lrFind({ numIt: 40 });
      expect(found.valley).toBe(found.suggestions.valley);
      expect(found.valley).toBeGreaterThan(0);
      await learn.fitOneCycle(2, 3e-3);

      const { probs, targets, errorRate: ttaError } = await learn.tta({ n: 2 });
      expect(targets.length).toBe(dls.validDs.length);
      let wrong = 0;
      for (let i = 0; i < targets.length; i++) if ((probs[2 * i + 1]! > probs[2 * i]! ? 1 : 0) !== targets[i]) wrong++;
      expect(ttaError).toBeCloseTo(wrong / targets.length, 6);

      const interp = await ClassificationInterpretation.fromLearner(learn);
      expect(interp.confusionMatrix().flat().reduce((a, b) => a + b)).toBe(dls.validDs.length);
      const cm = await interp.plotConfusionMatrix();
      expect(cm.width).toBeGreaterThan(0);
      expect(cm.svg).toContain('</svg>');
      const top = await interp.plotTopLosses(3);
      expect(top.height).toBeGreaterThan(16);
      expect(top.svg).toContain('<image');

      // export → loadLearner gives the same prediction, with the metadata the file carries.
      const image = await dls.validDs.load(0, 16);
      const before = await learn.predict(image);
      const learn2 = await loadLearner(await learn.exportBytes());
      expect(learn2.meta).toEqual(learn.meta);
      const after = await learn2.predict(image);
      expect(after.label).toBe(before.label);
      for (let k = 0; k < 2; k++) expect(after.probs[k]).toBeCloseTo(before.probs[k]!, 5);

      // ONNX as bytes (a browser's download); a path needs Node and says what to use instead.
      const onnx = decodeModel(await learn.exportOnnxBytes());
      expect(JSON.parse(onnx.metadataProps!.find((e) => e.key === 'classes')!.value!)).toEqual(['blue', 'red']);
      await expect(learn.exportOnnx('model.onnx')).rejects.toThrow(/^exportOnnx\(path\) needs Node: .*use exportOnnxBytes\(\) and save the bytes$/);
    } finally {
      await dls.close();
    }
  });

  it('says what needs Node, and what a browser uses instead', async () => {
    await expect(ImageDataLoaders.fromFolder('paintings')).rejects.toThrow(/fromFolder needs Node: import from '@tessera\/fastai\/node' there; in a browser use ImageDataLoaders.fromFiles/);
    await expect(loadLearner('model.safetensors')).rejects.toThrow(/loadLearner\(path\) needs Node/);
  });

  it('names an undecodable image once, also after visionLearner remakes the batches for its normalisation', async () => {
    const skipped: string[] = [];
    const valid = (f: FileLike) => ({ ...f, webkitRelativePath: f.webkitRelativePath.replace('colours/', 'colours/valid/') });
    const train = (f: FileLike) => ({ ...f, webkitRelativePath: f.webkitRelativePath.replace('colours/', 'colours/train/') });
    const broken = shortPng(16, 16);
    const files = [
      ...colourFiles(4).map(train), ...colourFiles(2).map(valid),
      { name: 'broken.png', webkitRelativePath: 'colours/valid/red/broken.png', arrayBuffer: async () => broken.slice().buffer },
    ];
    const dls = await ImageDataLoaders.fromFiles(files, { itemTfms: resize(16), bs: 2, maxBadPct: 50, onSkip: (s) => skipped.push(s.file) });
    try {
      const drainValid = async () => {
        for await (const b of dls.valid.batches(0)) {
          b.x.dispose();
          b.y.dispose();
        }
      };
      await drainValid();
      expect(dls.normalize).toBe('imagenet');
      await visionLearner(dls, 'darknet-tiny', { progress: false }); // Tiny Darknet: batches remade without normalisation
      expect(dls.normalize).toBe('none');
      await drainValid();
      expect(skipped).toEqual([expect.stringContaining('broken.png')]);
      expect(dls.skippedFiles()).toBe(1);
    } finally {
      await dls.close();
    }
  });

  it('refuses too few images with the counts', async () => {
    await expect(ImageDataLoaders.fromFiles(colourFiles(1), { bs: 2 })).rejects.toThrow(TooFewImagesError);
  });

  it('pretrained: true without a way to look weights up is one line, not a silent start from scratch', async () => {
    const dls = await ImageDataLoaders.fromFiles(colourFiles(4), { itemTfms: resize(16), bs: 2 });
    await expect(visionLearner(dls, 'darknet-tiny', { pretrained: true })).rejects.toThrow(/no ImageNet weights for darknet-tiny: in a browser pass them as pretrained/);
  });
});
