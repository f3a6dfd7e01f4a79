/**
 * Training augmentation for the counting task: fastai's aug_transforms minus what can change the
 * answer. An augmented image must still show exactly N whole discs, so:
 *  - the whole image is squished onto the output (no crop);
 *  - all 8 dihedral transforms (flips and quarter turns) are used: they lose nothing;
 *  - rotation (±10°) and zoom (1-1.1) stay: with COUNTING_MARGIN's free border they never push a
 *    disc out of the frame (counting-augment.test.ts checks the worst case over many draws);
 *  - no perspective warp: fastai's 0.2 reaches 20% into the image at a corner, past the border;
 *  - lighting stays (it changes no count).
 */
import type { AugmentOptions } from '../augment/params.js';

export const COUNTING_AUGMENT: Readonly<Partial<AugmentOptions>> = Object.freeze({
  crop: 'squish',
  doFlip: true,
  flipVert: true,
  maxWarp: 0,
});
