/**
 * The default recipe of `train counting`, chosen to reach <= 10% error on counting 1-5 in a few
 * minutes on a software adapter (docs/results.md has the runs behind each number):
 *  - Tiny Darknet with its ImageNet weights when they are found: a pretrained start learns in a
 *    few epochs what a network from scratch does not learn in a short run (ResNet-34 from scratch:
 *    41% after 3 epochs); without the weights, ResNet-34 from scratch, as before;
 *  - 64-px images (discs drawn at that size, 8 px wide): Tiny Darknet's cost grows with the
 *    pixels, and 128 px learned no better per minute;
 *  - 400 images per class: the generator is free, and twice the images beat twice the epochs
 *    over few images;
 *  - fine-tuning for 1 frozen + 5 unfrozen epochs at fastai's default rate.
 */
import type { Arch } from '@tessera/nn';
import { findWeights } from './weights.js';

export const COUNTING_RECIPE = {
  perClass: 400,
  size: 64,
  /** Unfrozen epochs after the frozen one when pretrained; epochs from scratch otherwise. */
  epochs: (pretrained: boolean): number => (pretrained ? 5 : 3),
} as const;

export async function defaultCountingArch(): Promise<Arch> {
  return (await findWeights('darknet-tiny')) ? 'darknet-tiny' : 'resnet34';
}
