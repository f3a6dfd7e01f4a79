import { describe, expect, it } from 'vitest';
import { sampleAugmentParams, type AugmentOptions } from '../augment/params.js';
import { COUNTING_AUGMENT } from './counting-augment.js';
import { COUNTING_MARGIN } from './counting.js';

/** Inverse of a row-major 3x3 matrix. */
function invert3(m: readonly number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const A = e * i - f * h;
  const B = f * g - d * i;
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A, c * h - b * i, b * f - c * e, B, a * i - c * g, c * d - a * f, C, b * g - a * h, a * e - b * d].map((v) => v / det);
}

/**
 * Over many training draws, the largest margin (fraction of the image side) that some draw moves
 * out of the output frame: a disc inside the plot area stays whole iff this is <= the margin.
 * Points of the plot area's border (in the source) are mapped back to the output; one that lands
 * outside [-1, 1]^2 has left the frame.
 */
function worstMarginNeeded(options: Partial<AugmentOptions>, size = 64, batches = 60): number {
  let worst = 0;
  for (let seed = 0; seed < batches; seed++) {
    const { images } = sampleAugmentParams({ batchSize: 64, height: size, width: size, size, train: true, seed, options });
    for (const { matrix } of images) {
      const inv = invert3(matrix);
      const leaves = (t: number): boolean => {
        for (let s = -1; s <= 1; s += 1 / 16) {
          for (const [x, y] of [[s * t, t], [s * t, -t], [t, s * t], [-t, s * t]] as const) {
            const w = inv[6]! * x + inv[7]! * y + inv[8]!;
            const u = (inv[0]! * x + inv[1]! * y + inv[2]!) / w;
            const v = (inv[3]! * x + inv[4]! * y + inv[5]!) / w;
            if (Math.abs(u) > 1 || Math.abs(v) > 1) return true;
          }
        }
        return false;
      };
      // The half-width t (normalised, 1 = the whole image) of the largest square that stays inside.
      let lo = 0;
      let hi = 1;
      for (let k = 0; k < 24; k++) {
        const t = (lo + hi) / 2;
        if (leaves(t)) hi = t;
        else lo = t;
      }
      worst = Math.max(worst, (1 - lo) / 2);
    }
  }
  return worst;
}

describe('COUNTING_AUGMENT', () => {
  it('never moves a disc of the plot area out of the frame', () => {
    const needed = worstMarginNeeded(COUNTING_AUGMENT);
    expect(needed).toBeGreaterThan(0.1); // rotation and zoom do move the corners
    expect(needed).toBeLessThanOrEqual(COUNTING_MARGIN);
  });

  it("fastai's default warp would cut discs off at this margin (why it is off)", () => {
    expect(worstMarginNeeded({ ...COUNTING_AUGMENT, maxWarp: 0.2 })).toBeGreaterThan(COUNTING_MARGIN);
  });
});
