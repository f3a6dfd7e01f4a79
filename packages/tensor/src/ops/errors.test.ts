/**
 * Bad input gives a TesseraError at the call that names the op and the shapes
 * (or dtypes, axes) involved — never a WGSL compile failure or a wrong result.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  initDevice, tensor, zeros, full, ones, arange, rand, randn, add, mul, pow, where, sum, mean, max, argmax, variance, softmax,
  reshape, permute, transpose, expand, slice, squeeze, flatten, concat, stack, clamp, TesseraError,
} from '../index.js';

beforeAll(async () => {
  await initDevice();
});

/** Expects fn to throw a TesseraError whose message matches every pattern. */
function expectError(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a TesseraError').toBeInstanceOf(TesseraError);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

describe('bad input is a clear TesseraError', () => {
  const a = () => ones([2, 3]);

  it('shapes that do not broadcast', () => {
    expectError(() => add(a(), ones([4])), /^add: shapes \[2, 3\] and \[4\] cannot be broadcast together$/);
    expectError(() => mul(ones([2, 3, 4]), ones([3, 3, 1])), /mul: shapes \[2, 3, 4\] and \[3, 3, 1\]/);
    expectError(() => where(ones([2], 'u32'), ones([3]), ones([2])), /where: shapes \[2\] and \[3\] and \[2\] cannot be broadcast/);
  });

  it('wrong dtypes', () => {
    const i = ones([2], 'i32');
    expectError(() => i.exp(), /exp: expected a tensor of dtype f32, got i32 of shape \[2\]/);
    expectError(() => where(ones([2]), ones([2]), ones([2])), /where: the condition \[2\] is f32; it must be an integer mask/);
    expectError(() => add(i, ones([2])), /add: dtypes differ \(i32\[2\], f32\[2\]\); cast first/);
    expectError(() => pow(i, i), /pow: expected a tensor of dtype f32, got i32/);
    expectError(() => mean(i), /mean: expected a tensor of dtype f32, got i32/);
    expectError(() => variance(i), /var: expected a tensor of dtype f32, got i32/);
    expectError(() => softmax(i), /softmax: expected a tensor of dtype f32/);
    expectError(() => ones([2], 'u32').neg(), /neg: expected a tensor of dtype f32 or i32, got u32/);
    expectError(() => full([2], 1.5, 'i32'), /full: value 1.5 is not an integer, but the dtype is i32/);
  });

  it('axes out of range, repeated axes, bad permutations', () => {
    expectError(() => sum(a(), 2), /^sum: axis 2 is out of range for shape \[2, 3\]$/);
    expectError(() => sum(a(), [0, -2]), /sum: repeated axis in \[0, -2\] for shape \[2, 3\]/);
    expectError(() => argmax(a(), -3), /argmax: axis -3 is out of range for shape \[2, 3\]/);
    expectError(() => max(a(), 5, true), /max: axis 5/);
    expectError(() => transpose(ones([4])), /transpose: axis -2 is out of range for shape \[4\]/);
    expectError(() => permute(a(), [0]), /permute: \[0\] does not list the 2 dimensions of \[2, 3\]/);
    expectError(() => permute(a(), [1, 1]), /permute: repeated dimension in \[1, 1\]/);
    expectError(() => slice(a(), 2, 0), /slice: axis 2 is out of range for shape \[2, 3\]/);
    expectError(() => concat([a(), a()], 2), /concat: axis 2 is out of range for shape \[2, 3\]/);
    expectError(() => squeeze(a(), 4), /squeeze: axis 4/);
    expectError(() => flatten(ones([3]), 1), /flatten: axis 1 is out of range for shape \[3\]/);
  });

  it('empty dimensions and empty ranges', () => {
    expectError(() => zeros([2, 0]), /zeros: shape \[2, 0\] has an empty dimension/);
    expectError(() => tensor([]), /tensor: shape \[0\] has an empty dimension/);
    expectError(() => rand([0]), /rand: shape \[0\] has an empty dimension/);
    expectError(() => randn([3, -1]), /randn: invalid shape \[3, -1\]/);
    expectError(() => slice(a(), 1, 2, 2), /slice: range 2..2 of axis 1 \(size 3\) is empty/);
    expectError(() => arange(3, 3), /arange: the range 3..3 step 1 is empty/);
    expectError(() => arange(0, 3, 0), /arange: .*non-zero step/);
    expectError(() => rand([2], 1, 1), /rand: the range \[1, 1\) is empty/);
    expectError(() => concat([]), /concat: no tensors given/);
  });

  it('reshape, expand, concat and stack size mismatches', () => {
    expectError(() => reshape(a(), [4]), /^reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4\] \(4 elements\)$/);
    expectError(() => reshape(a(), [4, -1]), /reshape: cannot reshape \[2, 3\] into \[4, -1\]/);
    expectError(() => reshape(a(), [-1, -1]), /reshape: only one dimension can be -1 in \[-1, -1\]/);
    expectError(() => reshape(a(), [0, 6]), /reshape: .*\[0, 6\]/);
    expectError(() => expand(a(), [4, 3]), /^expand: cannot expand \[2, 3\] to \[4, 3\]$/);
    expectError(() => expand(a(), [3]), /expand: cannot expand \[2, 3\] to \[3\]/);
    expectError(() => expand(ones([1, 3]), [-1, 2, 3]), /expand: cannot expand \[1, 3\] to \[-1, 2, 3\]/);
    expectError(() => concat([a(), ones([2, 4])], 0), /concat: shapes \[2, 3\], \[2, 4\] differ outside axis 0/);
    expectError(() => concat([a(), ones([2, 3], 'i32')], 0), /concat: dtypes differ/);
    expectError(() => stack([a(), ones([3, 2])]), /stack: shapes \[2, 3\], \[3, 2\] differ; stacked tensors need one shape/);
    expectError(() => a().unsqueeze(3), /unsqueeze: axis 3 is out of range for shape \[2, 3\]/);
    expectError(() => a().slice(1, 0.5), /slice: bounds 0.5..undefined of axis 1 must be integers/);
  });

  it('other argument errors', () => {
    expectError(() => clamp(a(), 1, 0), /clamp: lo 1 is above hi 0/);
    expectError(() => variance(ones([1, 3]), 0), /var: 1 element\(s\) per group .* leave no degrees of freedom with correction 1/);
    expectError(() => a().slice(0, 0, 2, 0), /slice: step must be a positive integer, got 0/);
  });
});
