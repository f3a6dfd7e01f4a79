/**
 * The default recipe of `train counting`: chosen to reach <= 10% error on counting 1-5 within
 * minutes on a software adapter (docs/results.md has the runs behind each number).
 * Tiny Darknet with its ImageNet weights when they are found (a pretrained start learns in a few
 * epochs what a network from scratch does not learn in a short run), else ResNet-34 from scratch.
 */
import type { Arch } from '@tessera/nn';
import { findWeights } from './weights.js';

export const COUNTING_RECIPE = {
  /** Images per class: generating them is free, and more of them beat more epochs over few. */
  perClass: 200,
  /** Image side: discs are drawn at the size the model trains at. */
  size: 64,
} as const;

export async function defaultCountingArch(): Promise<Arch> {
  return (await findWeights('darknet-tiny')) ? 'darknet-tiny' : 'resnet34';
}
