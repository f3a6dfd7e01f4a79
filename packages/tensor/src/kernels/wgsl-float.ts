/**
 * WGSL spellings of IEEE edge values, shared by every kernel generator that must treat
 * NaN and ±∞ as PyTorch does.
 *  - NaN is tested on the bits (exponent all ones, mantissa non-zero): lavapipe's compiler
 *    folds `v != v` to false, so the NaN was silently dropped.
 *  - NaN and ∞ cannot be WGSL constants (a const-expression that overflows or gives NaN is
 *    a shader-creation error), so they are made from the bits of a runtime value.
 */

/** WGSL bool (vec4<bool> when `vec4`): whether the f32 expression `e` is NaN. */
export function isNanWgsl(e: string, vec4 = false): string {
  return vec4
    ? `((bitcast<vec4<u32>>(${e}) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u))`
    : `((bitcast<u32>(${e}) & 0x7fffffffu) > 0x7f800000u)`;
}

/** WGSL f32 NaN, made from the runtime f32 expression `from` (any value). */
export const nanWgsl = (from: string): string => `bitcast<f32>((bitcast<u32>(${from}) & 0u) | 0x7fc00000u)`;

/** WGSL f32 +∞, made from the runtime f32 expression `from` (any value). */
export const infWgsl = (from: string): string => `bitcast<f32>((bitcast<u32>(${from}) & 0u) | 0x7f800000u)`;

/** WGSL bool: whether the f32 expression `e` has its sign bit set (−0 and negatives, −NaN). */
export const signBitWgsl = (e: string): string => `((bitcast<u32>(${e}) & 0x80000000u) != 0u)`;

/**
 * WGSL functions `expf(x)` and `logf(x)`: exp and log with NaN in, NaN out and log(x < 0) = NaN
 * (PyTorch's). SwiftShader gives exp(NaN) = +∞ and log(x) = log|x| for NaN and negatives.
 */
export const EXPF_WGSL = `
fn expf(x: f32) -> f32 { return select(exp(x), x, ${isNanWgsl('x')}); }
`;
export const LOGF_WGSL = `
fn logf(x: f32) -> f32 { return select(log(x), ${nanWgsl('x')}, x < 0.0 || ${isNanWgsl('x')}); }
`;

/**
 * WGSL function `powf(x, y)` with C's (and so torch.pow's) special cases; WGSL leaves pow
 * undefined for x ≤ 0, so every base that is not finite and positive is handled here:
 * x^0 = 1 and 1^y = 1 (NaN too); otherwise NaN in, NaN out; 0^(y<0) = +∞ (−∞ for −0 and
 * an odd integer y); ±∞ bases; y = ±∞ by |x| against 1; a negative base gives a signed
 * result for integer y and NaN for any other.
 */
export const POWF_WGSL = `
fn powf(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (${isNanWgsl('x')} || ${isNanWgsl('y')}) { return ${nanWgsl('x')}; }
  let inf = ${infWgsl('x')};
  let ax = abs(x);
  if (abs(y) == inf) {
    if (ax == 1.0) { return 1.0; }
    return select(0.0, inf, (ax > 1.0) == (y > 0.0));
  }
  let isInt = fract(y) == 0.0;
  let odd = isInt && fract(y * 0.5) != 0.0; // y·0.5 is exact; no float %, whose sign rule drivers differ on
  var mag: f32;
  if (ax == 0.0) { mag = select(0.0, inf, y < 0.0); }
  else if (ax == inf) { mag = select(0.0, inf, y > 0.0); }
  else { mag = pow(ax, y); }
  if (!${signBitWgsl('x')}) { return mag; }
  if (odd) { return -mag; }
  if (!isInt && ax != 0.0 && ax != inf) { return ${nanWgsl('x')}; }
  return mag;
}
`;

/**
 * WGSL function `powfScalar(x, y)`: torch.pow(tensor, scalar), which takes y = ±0.5 as
 * sqrt / rsqrt: where x has its sign bit set those give NaN (−∞ included) and, for −0,
 * −0 / −∞ instead of C's +0 / +∞. Everything else is powf. Needs POWF_WGSL.
 */
export const POWF_SCALAR_WGSL = `
fn powfScalar(x: f32, y: f32) -> f32 {
  if (abs(y) == 0.5 && ${signBitWgsl('x')} && !${isNanWgsl('x')}) {
    if (x == 0.0) { return select(-${infWgsl('x')}, x, y > 0.0); }
    return ${nanWgsl('x')};
  }
  return powf(x, y);
}
`;

/** CPU twin of POWF_SCALAR_WGSL. */
export function powfScalarCpu(x: number, y: number): number {
  if (Math.abs(y) === 0.5) return y > 0 ? Math.sqrt(x) : 1 / Math.sqrt(x);
  return powfCpu(x, y);
}

/** CPU twin of POWF_WGSL: C's pow (JavaScript's ** differs only at 1^NaN and (±1)^±∞, which C makes 1). */
export function powfCpu(x: number, y: number): number {
  if (x === 1 || (x === -1 && Math.abs(y) === Infinity)) return 1;
  return x ** y;
}
