import { describe, expect, it } from 'vitest';
import {
  annealCos, annealLin, annealPoly, combineScheds, combinedCos, flatCos, lrFinderSchedule, oneCycle,
  schedCos, schedExp, schedLin, schedNo, trainingPosition,
} from './schedules.js';

// Independent piecewise statement of fastai's combined_cos, in float64.
const cosRef = (s: number, e: number, p: number) => s + ((1 + Math.cos(Math.PI * (1 - p))) * (e - s)) / 2;
const combinedRef = (pct: number, s: number, m: number, e: number, pos: number) =>
  pos < pct ? cosRef(s, m, pos / pct) : cosRef(m, e, (pos - pct) / (1 - pct));

const close = (got: number, want: number, rel: number) =>
  expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(rel * Math.abs(want) + 1e-300);

describe('basic schedules', () => {
  it('follow the fastai formulas', () => {
    expect(schedLin(2, 10, 0.25)).toBe(4);
    expect(schedCos(2, 10, 0)).toBe(2);
    expect(schedCos(2, 10, 0.5)).toBeCloseTo(6, 15);
    expect(schedCos(2, 10, 1)).toBe(10);
    expect(schedCos(1, 0, 0.25)).toBeCloseTo((1 + Math.cos(Math.PI * 0.75)) / -2 + 1, 15);
    expect(schedNo(3, 99, 0.7)).toBe(3);
    close(schedExp(1e-7, 10, 0.5), 1e-3, 1e-12);
    close(schedExp(1e-7, 10, 1), 10, 1e-12);
    expect(annealPoly(0, 8, 3)(0.5)).toBe(1);
    expect(annealLin(1, 3)(0.5)).toBe(2);
  });

  it('gives the LR finder an exponential sweep from 1e-7 to 10', () => {
    const f = lrFinderSchedule();
    close(f(0), 1e-7, 1e-12);
    close(f(trainingPosition(25, 100)), 1e-7 * 1e8 ** 0.25, 1e-12);
    close(f(1), 10, 1e-12);
  });
});

describe('combineScheds', () => {
  const three = combineScheds([0.2, 0.3, 0.5], [annealLin(0, 1), annealCos(1, 2), annealLin(2, 0)]);

  it('rescales positions per phase and starts the later phase at a boundary', () => {
    expect(three(0)).toBe(0);
    expect(three(0.1)).toBeCloseTo(0.5, 14);
    expect(three(0.2)).toBe(1); // boundary: phase 2 at its pos 0
    expect(three(0.35)).toBeCloseTo(cosRef(1, 2, 0.5), 14);
    expect(three(0.5)).toBe(2);
    expect(three(0.75)).toBeCloseTo(1, 14);
    expect(three(1)).toBe(0);
    expect(three(1.1)).toBeCloseTo(-0.4, 14); // past the end, the last phase extrapolates like fastai's
  });

  it('skips zero-width phases and validates its arguments', () => {
    const f = combineScheds([1, 0], [annealLin(0, 1), annealLin(5, 6)]);
    expect(f(1)).toBe(1);
    expect(combineScheds([0, 1], [annealLin(5, 6), annealLin(0, 1)])(0)).toBe(0);
    expect(() => combineScheds([0.5, 0.4], [annealLin(0, 1), annealLin(0, 1)])).toThrow(/add up to 1/);
    expect(() => combineScheds([0.5], [annealLin(0, 1), annealLin(0, 1)])).toThrow(/1 shares for 2 schedules/);
    expect(() => combineScheds([1.5, -0.5], [annealLin(0, 1), annealLin(0, 1)])).toThrow(/>= 0/);
    expect(() => three(-0.1)).toThrow(/>= 0/);
  });
});

describe('one-cycle', () => {
  it('matches the combined-cosine formulas at many positions, boundaries included', () => {
    for (const pctStart of [0.25, 0.3, 0.99]) {
      const { lr, mom } = oneCycle({ lrMax: 1e-3, pctStart });
      for (const pos of [0, 0.01, 0.1, 0.2, pctStart, 0.5, 0.75, 0.9, 0.99, 0.995, 1]) {
        close(lr(pos), combinedRef(pctStart, 4e-5, 1e-3, 1e-8, pos), 1e-12);
        close(mom(pos), combinedRef(pctStart, 0.95, 0.85, 0.95, pos), 1e-12);
      }
      expect(lr(pctStart)).toBe(1e-3); // the peak is exactly at the boundary
      expect(mom(pctStart)).toBe(0.85);
    }
  });

  it('hits the documented values for pct_start 0.25 and 0.99', () => {
    const a = oneCycle({ lrMax: 1e-3 });
    expect([a.lr(0), a.lr(0.25), a.mom(0), a.mom(0.25), a.mom(1)]).toEqual([4e-5, 1e-3, 0.95, 0.85, 0.95]);
    close(a.lr(0.5), 0.0007500025000000001, 1e-12);
    close(a.mom(0.1), 0.9154508497187474, 1e-12);
    close(a.lr(1), 1e-8, 1e-9);
    const b = oneCycle({ lrMax: 1e-3, pctStart: 0.99 });
    close(b.lr(0.5), 0.000527615662640708, 1e-12);
    close(b.lr(0.995), 0.000500005, 1e-9);
    close(b.mom(0.9), 0.8520253513192751, 1e-12);
  });

  // A fit_one_cycle-style loop: 2 epochs × 8 batches, pct_train accumulated per batch as
  // fastai's TrainEvalCallback does. Reference values come from fastai's combine_scheds logic
  // run with torch (float32 phase arithmetic), printed to 9 significant digits.
  const FASTAI = {
    0.25: {
      lr: [4e-05, 0.000180588745, 0.00052, 0.000859411255, 0.001, 0.000982963083, 0.000933013368, 0.000853554855,
        0.000750002486, 0.000629413244, 0.000500005, 0.000370596802, 0.000250007473, 0.000146455145, 6.69966438e-05, 1.70469084e-05],
      mom: [0.95, 0.935355339, 0.9, 0.864644661, 0.85, 0.851703709, 0.85669873, 0.864644661,
        0.875000001, 0.887059046, 0.9, 0.912940949, 0.925000003, 0.935355339, 0.943301269, 0.948296292],
    },
    0.99: {
      lr: [4e-05, 4.94097158e-05, 7.72699352e-05, 0.000122488345, 0.000183292041, 0.00025729713, 0.000341602016, 0.000432901377,
        0.000527615625, 0.000622031331, 0.000712446676, 0.000795316657, 0.000867392331, 0.000925847732, 0.000968390958, 0.000993354088],
      mom: [0.95, 0.949019821, 0.946117715, 0.941407464, 0.935073746, 0.927364882, 0.918583123, 0.909072773,
        0.899206706, 0.889371736, 0.879953471, 0.871321182, 0.863813299, 0.857724195, 0.853292609, 0.850692283],
    },
  } as const;

  for (const pctStart of [0.25, 0.99] as const) {
    it(`reproduces fastai's per-batch lr and mom for pct_start ${pctStart}`, () => {
      const { lr, mom } = oneCycle({ lrMax: 1e-3, pctStart });
      const want = FASTAI[pctStart];
      let pctTrain = 0;
      for (let step = 0; step < 16; step++) {
        close(pctTrain, trainingPosition(step, 16), 1e-15);
        // fastai's float32 phase positions differ from float64 by ~1e-6 relative at most.
        close(lr(pctTrain), want.lr[step]!, 1e-5);
        close(mom(pctTrain), want.mom[step]!, 1e-6);
        pctTrain += 1 / (8 * 2);
      }
    });
  }

  it('takes custom div, divFinal and moms; flatCos holds then anneals', () => {
    const { lr, mom } = oneCycle({ lrMax: 2e-3, div: 5, divFinal: 1e4, pctStart: 0.3, moms: [0.9, 0.8, 0.9] });
    expect(lr(0)).toBeCloseTo(4e-4, 15);
    close(lr(1), 2e-7, 1e-9);
    expect(mom(0.3)).toBe(0.8);
    expect(combinedCos(0.5, 1, 2, 3)(0.75)).toBeCloseTo(2.5, 14);
    const flat = flatCos({ lr: 1e-2 }).lr;
    expect([flat(0), flat(0.5), flat(0.75)]).toEqual([1e-2, 1e-2, 1e-2]);
    close(flat(1), 1e-7, 1e-9);
  });
});
