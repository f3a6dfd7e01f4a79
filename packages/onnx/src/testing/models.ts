/**
 * Test helpers: models whose BatchNorm statistics are not the identity (so an exporter or
 * importer that drops or misplaces BatchNorm fails), and images prepared as the exported
 * metadata says (a consumer's path, written with @tessera/vision's resizers).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Tensor, rand, randn, tensor } from '@tessera/tensor';
import type { Module, Preprocess } from '@tessera/nn';
import { IMAGENET_STATS, centreCrop, resize, resizeShorterSide } from '@tessera/vision';
import { decodeImageFile } from '@tessera/vision/node';
import { encodeModel } from '../proto/onnx.js';

/** Random running means and variances (and affine weights) in every BatchNorm of `model`. */
export function perturbBatchNorm(model: Module): void {
  for (const [, m] of model.namedModules()) {
    const bn = m as Partial<{ isBatchNorm: boolean; runningMean: Tensor; runningVar: Tensor; weight: Tensor; bias: Tensor }>;
    if (!bn.isBatchNorm) continue;
    const n = bn.runningMean!.shape[0]!;
    for (const [t, make] of [
      [bn.runningMean!, () => randn([n], 0, 0.2)],
      [bn.runningVar!, () => rand([n], 0.5, 1.5)],
      [bn.weight!, () => rand([n], 0.7, 1.3)],
      [bn.bias!, () => randn([n], 0, 0.1)],
    ] as const) {
      const v = make();
      t.copyFrom(v);
      v.dispose();
    }
  }
}

/** Real photos for the tests: the sample cat and a few of hymenoptera's, or null with the reason. */
export function testImages(count = 4): { files: string[] } | { missing: string } {
  const root = resolve(process.env['TESSERA_DATA'] ?? './data');
  const cat = join(root, 'samples', 'cat.jpg');
  const ants = join(root, 'hymenoptera', 'val', 'ants');
  if (!existsSync(cat) || !existsSync(ants)) return { missing: `${cat} or ${ants} not found (set TESSERA_DATA to the shared data folder)` };
  const more = readdirSync(ants).filter((f) => f.endsWith('.jpg')).sort().slice(0, count - 1).map((f) => join(ants, f));
  return { files: [cat, ...more] };
}

/** An image file as the export's metadata prescribes: resized, scaled to [0, 1], normalised; NCHW and NHWC. */
export async function preparedImage(file: string, p: Preprocess): Promise<{ nchw: Float32Array; nhwc: Float32Array }> {
  const img0 = await decodeImageFile(file);
  const s = p.size;
  const img = p.resize === 'align-corners'
    ? resize(img0, s, s, { mode: 'align-corners' })
    : centreCrop(resizeShorterSide(img0, Math.round((s * 256) / 224)), s, s);
  const { mean, std } = p.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
  const nhwc = new Float32Array(s * s * 3);
  const nchw = new Float32Array(s * s * 3);
  for (let i = 0; i < s * s; i++) {
    for (let c = 0; c < 3; c++) {
      const v = (img.data[i * 3 + c]! / 255 - mean[c]!) / std[c]!;
      nhwc[i * 3 + c] = v;
      nchw[c * s * s + i] = v;
    }
  }
  return { nchw, nhwc };
}

export function nhwcBatch(images: { nhwc: Float32Array }[], size: number): Tensor {
  const data = new Float32Array(images.length * size * size * 3);
  images.forEach((im, i) => data.set(im.nhwc, i * im.nhwc.length));
  return tensor(data, [images.length, size, size, 3]);
}

export function topK(row: ArrayLike<number>, k: number): number[] {
  return [...Array(row.length).keys()].sort((a, b) => row[b]! - row[a]!).slice(0, k);
}

/** An opset-17 graph x → … → y of the given nodes (no weights): the importer's refusals are tested with these. */
export function chainModel(node: { opType: string; name: string; input: string[]; output: string[]; attribute?: { name: string; type: number; ints: number[] }[] }[]): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'g', input: [{ name: 'x' }], output: [{ name: 'y' }], node },
  });
}
