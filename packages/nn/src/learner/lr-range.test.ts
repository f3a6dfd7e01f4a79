import { describe, expect, it } from 'vitest';
import { evenMults, lrRange, lrSlice } from './lr-range.js';
import { formatTableHeader, formatTableRow, formatTableValue } from './progress.js';
import { AvgSmoothLoss, formatTime } from './recorder.js';

describe('lrRange (fastai set_hyper / even_mults)', () => {
  it('spreads slice(start, stop) geometrically over the groups', () => {
    expect(evenMults(1e-5, 1e-3, 3).map((v) => v / 1e-5)).toEqual([1, expect.closeTo(10, 12), expect.closeTo(100, 12)]);
    expect(evenMults(1e-4, 1e-2, 1)).toEqual([1e-2]);
    expect(lrRange(lrSlice(1e-6, 1e-4), 3)).toEqual(evenMults(1e-6, 1e-4, 3));
  });

  it('gives slice(stop) stop/10 for all groups but the last', () => {
    expect(lrRange(lrSlice(2e-3), 3)).toEqual([2e-4, 2e-4, 2e-3]);
    expect(lrRange(lrSlice(2e-3), 1)).toEqual([2e-3]);
    // Python's `if v.start:` treats 0 as absent.
    expect(lrRange(lrSlice(0, 1e-2), 2)).toEqual([1e-3, 1e-2]);
  });

  it('broadcasts a single value and checks lengths', () => {
    expect(lrRange(1e-3, 3)).toEqual([1e-3, 1e-3, 1e-3]);
    expect(lrRange([1e-3], 2)).toEqual([1e-3, 1e-3]);
    expect(lrRange([1, 2], 2)).toEqual([1, 2]);
    expect(() => lrRange([1, 2], 3)).toThrow(/2 values .* for 3 parameter groups/);
    expect(() => lrRange(NaN, 1)).toThrow(/finite/);
  });
});

describe('recorder helpers', () => {
  it('AvgSmoothLoss is a debiased EMA with beta 0.98', () => {
    const s = new AvgSmoothLoss();
    s.accumulate(2);
    expect(s.value).toBeCloseTo(2, 12); // debiasing makes the first value exact
    s.accumulate(1);
    // val = 0.98·(0.02·2) + 0.02·1 = 0.0592; / (1 - 0.98²) = 0.0396
    expect(s.value).toBeCloseTo(0.0592 / 0.0396, 12);
  });

  it("formats time like fastai's format_time", () => {
    expect(formatTime(0.4)).toBe('00:00');
    expect(formatTime(65.9)).toBe('01:05');
    expect(formatTime(3600 + 62)).toBe('1:01:02');
  });

  it("formats the epoch table like fastprogress's console table", () => {
    const names = ['epoch', 'train_loss', 'valid_loss', 'error_rate', 'time'];
    expect(formatTableHeader(names)).toBe('epoch     train_loss  valid_loss  error_rate  time    ');
    const padded = names.map((n) => (n.length < 8 ? n.padEnd(8) : n));
    const cells = ['0', ...[0.976094, 0.502022, 0.225].map(formatTableValue), '00:05'];
    expect(formatTableRow(cells, padded)).toBe('0         0.976094    0.502022    0.225000    00:05     ');
    expect(formatTableValue(NaN)).toBe('nan');
    // A diverging loss stays apart from its neighbours (it ran into 'nan' before).
    const wide = formatTableRow(['0', formatTableValue(1771519063525.601563), formatTableValue(NaN), formatTableValue(0.458333), '00:05'], padded);
    expect(wide.split(/\s+/).filter(Boolean)).toEqual(['0', '1.7715e+12', 'nan', '0.458333', '00:05']);
    expect(formatTableRow(['0', 'x'.repeat(14), 'nan'], padded)).toBe(`0         ${'x'.repeat(14)}  nan${' '.repeat(9)}`);
    expect(formatTableValue(null)).toBe('None');
  });
});
