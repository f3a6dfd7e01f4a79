import { describe, expect, it } from 'vitest';
import { minimum, npGradient, npInterp, slide, slideWith, steep, valley } from './suggest.js';

// Powers of two: exact in float32, so the hand computations below carry no rounding.
const lrs10 = Array.from({ length: 10 }, (_, i) => 2 ** (i - 10));
const losses10 = [3, 2, 2.5, 1.5, 1, 0.75, 2, 0.5, 4, 3];

describe('valley', () => {
  it('takes the longest decreasing run, then 1/3 + 1/6 of the way in', () => {
    // Longest strictly decreasing subsequence ending at i (lds):
    //   i:    0  1  2  3  4  5  6  7  8  9
    //   lds:  1  2  2  3  4  5  3  6  1  2
    // max_end = 7 (lds 6), max_start = 7 - 6 = 1 (fastai's off-by-one included);
    // sections = 6/3 = 2, idx = 1 + int(2) + int(1) = 4 → lr 2^-6, loss 1.
    expect(valley(lrs10, losses10, 100)).toEqual({ lr: 2 ** -6, point: [2 ** -6, 1] });
  });

  it('handles a monotone curve and a single point', () => {
    // Strictly decreasing 8 points: max_end 7, lds 8 → max_start -1; sections 8/3 → idx -1 + 2 + 1 = 2.
    const l = [8, 7, 6, 5, 4, 3, 2, 1];
    expect(valley(lrs10.slice(0, 8), l, 100).lr).toBe(lrs10[2]);
    expect(valley([0.5], [1], 100).lr).toBe(0.5);
    expect(() => valley([], [], 100)).toThrow(/0 usable points/);
  });
});

describe('minimum', () => {
  it('suggests a tenth of the lr at the lowest loss', () => {
    // argmin = 7 (loss 0.5) → lr 2^-3 = 0.125 → 0.0125.
    expect(minimum(lrs10, losses10, 100)).toEqual({ lr: 0.0125, point: [0.125, 0.5] });
  });

  it('takes the first minimum on ties (torch.argmin)', () => {
    expect(minimum([1, 2, 4], [1, 0.5, 0.5], 100).lr).toBeCloseTo(0.2, 15);
  });
});

describe('steep', () => {
  it('suggests the left end of the steepest segment in log(lr)', () => {
    // Loss steps: -1, .5, -1, -.5, -.25, 1.25, -1.5, 3.5, -1 — each over ln 2 in log(lr).
    // Steepest fall: -1.5 between points 6 and 7 → lr 2^-4, loss 2.
    expect(steep(lrs10, losses10, 100)).toEqual({ lr: 2 ** -4, point: [2 ** -4, 2] });
  });
});

describe('slide', () => {
  // 16 points falling by 1/8 per step, then 1, 0.875, 2, 4.
  const L = [...Array.from({ length: 16 }, (_, i) => 3 - 0.125 * i), 1, 0.875, 2, 4];
  const lrs20 = Array.from({ length: 20 }, (_, i) => 2 ** (i - 20));

  it('follows the interval slide rule with np.gradient', () => {
    // np.gradient: -1/8 on 0..14; g15 = (1 - 1.25)/2 = -0.125; g16 = (0.875 - 1.125)/2 = -0.125;
    // g17 = (2 - 1)/2 = 0.5; g18 = (4 - 0.875)/2 = 1.5625; g19 = 4 - 2 = 2.
    // Pairs (r, l) = (19, 4): |2 + .125| > .005 → lr[4]; (18, 3) → lr[3]; (17, 2) → lr[2];
    // (16, 1): |-.125 + .125| = 0 → stop. Suggestion lr[2] = 2^-18; the loss there is L[2] = 2.75
    // (np.interp in log10 space, up to float32 rounding of log10(lrs)).
    const s = slide(lrs20, L, 100);
    expect(s.lr).toBe(2 ** -18);
    expect(s.point[1]).toBeCloseTo(2.75, 6);
  });

  it('walks to the first point when nothing matches, and honours its options', () => {
    const rising = [...Array.from({ length: 16 }, (_, i) => 3 - 0.125 * i), 1.5, 2.5, 4.5, 8.5];
    expect(slide(lrs20, rising, 100).lr).toBe(lrs20[0]);
    expect(slideWith({ adjustValue: 0.5 })(lrs20, L, 100).lr).toBe(2 ** -19);
    expect(() => slide(lrs20.slice(0, 15), L.slice(0, 15), 100)).toThrow(/16 needed/);
  });

  it('numpy helpers match numpy', () => {
    expect(npGradient([1, 2, 4, 7, 11])).toEqual([1, 1.5, 2.5, 3.5, 4]);
    expect(npInterp(2.5, [1, 2, 3], [3, 2, 0])).toBe(1);
    expect(npInterp(0, [1, 2, 3], [3, 2, 0])).toBe(3);
    expect(npInterp(5, [1, 2, 3], [3, 2, 0])).toBe(0);
    expect(npInterp(2, [1, 2, 3], [3, 2, 0])).toBe(2);
  });
});

describe('a realistic LR-finder curve', () => {
  // 40 points of a sweep 1e-7 → 10: a plateau, a fall, a bottom, divergence (float32 values).
  // Expected values from fastai's suggestion functions run under numpy float32.
  const lrs = Array.from({ length: 40 }, (_, i) => 1e-7 * 1e8 ** (i / 40));
  const losses = [
    2.2962911128997803, 2.314662218093872, 2.287682056427002, 2.271444320678711, 2.295908212661743, 2.296539068222046,
    2.2590231895446777, 2.2502505779266357, 2.2655153274536133, 2.2367959022521973, 2.1833183765411377, 2.1644206047058105,
    2.1411914825439453, 2.059523582458496, 1.9676512479782104, 1.9037690162658691, 1.8087199926376343, 1.6621425151824951,
    1.5354328155517578, 1.4416112899780273, 1.3194471597671509, 1.1852188110351562, 1.107019305229187, 1.0580157041549683,
    0.9796182513237, 0.9126777648925781, 0.9017735123634338, 0.8899474143981934, 0.8425012826919556, 0.8209401965141296,
    0.8403838872909546, 0.8344228267669678, 0.8132213950157166, 0.8553639650344849, 0.9541952013969421, 1.0589535236358643,
    1.2157461643218994, 1.4900213479995728, 1.8455183506011963, 2.25295090675354,
  ];
  const rel = (got: number, want: number) => expect(Math.abs(got / want - 1)).toBeLessThan(1e-7);

  it('gives the same four suggestions as fastai', () => {
    rel(valley(lrs, losses, 40).lr, 0.0002511886414140463);
    rel(minimum(lrs, losses, 40).lr, 0.025118863582611083);
    rel(steep(lrs, losses, 40).lr, 0.00015848931798245758);
    const s = slide(lrs, losses, 40);
    rel(s.lr, 1.5848931070649996e-5);
    expect(s.point[1]).toBeCloseTo(2.1644205852706695, 6);
  });
});
