/**
 * Image files → a normalised NHWC batch, as a model file's metadata prescribes
 * (the evaluation transform: no augmentation).
 */
import { type Tensor, tensor } from '@tessera/tensor';
import type { Preprocess } from '@tessera/nn';
import { IMAGENET_STATS, type RgbImage, resize, resizeShorterSide, centreCrop } from '@tessera/vision';
import { decodeImageFile } from '@tessera/vision/node';

export function prepareImage(img: RgbImage, p: Preprocess): RgbImage {
  if (p.resize === 'align-corners') return resize(img, p.size, p.size, { mode: 'align-corners' });
  // torchvision's eval transform: shorter side to size·256/224, then the centre size×size.
  const shorter = Math.round((p.size * 256) / 224);
  return centreCrop(resizeShorterSide(img, shorter), p.size, p.size);
}

export function toBatch(images: RgbImage[], p: Preprocess): Tensor {
  const s = p.size;
  const data = new Float32Array(images.length * s * s * 3);
  const { mean, std } = p.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
  images.forEach((img, b) => {
    const base = b * s * s * 3;
    for (let i = 0; i < s * s * 3; i++) {
      const c = i % 3;
      data[base + i] = (img.data[i]! / 255 - mean[c]!) / std[c]!;
    }
  });
  return tensor(data, [images.length, s, s, 3]);
}

export async function loadImages(paths: string[], p: Preprocess): Promise<Tensor> {
  const imgs: RgbImage[] = [];
  for (const path of paths) imgs.push(prepareImage(await decodeImageFile(path), p));
  return toBatch(imgs, p);
}

