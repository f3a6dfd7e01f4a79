import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';

describe('float16', () => {
  it('decodes known bit patterns', () => {
    const bits = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000]);
    expect(Array.from(f16ToF32(bits))).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, -0]);
    expect(f16ToF32(Uint16Array.from([0x7e00]))[0]).toBeNaN();
  });

  it('encodes with round-to-nearest-even, overflow to Inf and subnormals', () => {
    const v = Float32Array.from([1, 0.1, 65504, 65520, 1e-7, 2 ** -25, 3 * 2 ** -25, -0, NaN, 1 + 2 ** -11]);
    // 0.1 → 0x2e66; 65520 rounds up to Inf; 2^-25 is a tie → 0; 3·2^-25 is a tie → 2 (even); 1+2^-11 is a tie → 1.
    expect(Array.from(f32ToF16(v))).toEqual([0x3c00, 0x2e66, 0x7bff, 0x7c00, 0x0002, 0x0000, 0x0002, 0x8000, 0x7e00, 0x3c00]);
  });

  it('round-trips every finite half exactly', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
    expect(f32ToF16(f16ToF32(all))).toEqual(all);
  });
});

describe('bfloat16', () => {
  it('decodes and encodes with rounding', () => {
    expect(Array.from(bf16ToF32(Uint16Array.from([0x3f80, 0xc040, 0x7f80])))).toEqual([1, -3, Infinity]);
    // 1 + 2^-8 is a tie between 1 and 1+2^-7 → even (1); 1 + 3·2^-9 rounds up.
    expect(Array.from(f32ToBf16(Float32Array.from([1, 1 + 2 ** -8, 1 + 3 * 2 ** -9, NaN])))).toEqual([0x3f80, 0x3f80, 0x3f81, 0x7fc0]);
  });
});
