/**
 * Convolutions as implicit GEMMs through the one GEMM generator (kernels/gemm.ts):
 * hooks read the activation as an im2col matrix on the fly (never materialised).
 * Activations NHWC, weights OHWI ([out, kh, kw, in/groups]).
 *  - conv2dForward:        out[p, o]   = Σ_(kh,kw,c) im2col(x)[p, (kh,kw,c)] · w[o, (kh,kw,c)]      (+ bias)
 *  - conv2dBackwardInput:  dx[q, c]    = Σ_(kh,kw,o) col2im(dy)[q, (kh,kw,o)] · w[o, kh, kw, c], one GEMM
 *                          per stride phase (only the taps that reach those pixels: no products with zeros)
 *  - conv2dBackwardFilter: dw[o, kk]   = Σ_p dy[p, o] · im2col(x)[p, kk]   (split-K over pixels)
 * 3×3 convolutions at stride 1 take Winograd instead (kernels/winograd.ts) when their
 * channels allow it, forward and both gradients: F(4×4, 3×3), 4× fewer products, or
 * F(2×2, 3×3), 2.25× fewer, on maps too small for 4×4 tiles.
 * Groups are the GEMM batch. The kernel geometry (size, stride, padding, dilation,
 * channels per group) is baked into the WGSL: it turns the index divisions into
 * constants, which llvmpipe otherwise runs one lane at a time; spatial sizes and the
 * batch travel in uniforms.
 */
import { type GemmCall, type EpilogueHook, type HookParam, type OperandHook, runGemm, stridedEpilogue, type GemmVariant } from './gemm.js';
import { runReduce } from './reduce.js';
import { F2x2, F4x4, runWinogradConv, runWinogradFilterGrad, winogradInputBytes, winogradUnsupported, type WinogradProblem, type WinogradSavedInput } from './winograd.js';
import { runMap } from './elementwise.js';
import type { BufferBinding } from '../runtime/queue.js';
import type { BufferView } from './define.js';
import { config } from '../config.js';
import { adapterProfile } from '../runtime/device.js';

export interface ConvGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  O: number;
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  groups: number;
}


const spatial: HookParam[] = [
  { name: 'H' }, { name: 'W' }, { name: 'OH' }, { name: 'OW' }, { name: 'P' },
];

function spatialValues(g: ConvGeometry): Record<string, number> {
  return { H: g.H, W: g.W, OH: g.OH, OW: g.OW, P: g.N * g.OH * g.OW };
}

const CONST_NAMES = /\b(C_|CG|O_|OG|KH|KW|SH|SW|PH|PW|DH|DW|NTW|TAPH|TAPW|OFFH|OFFW|OHC|OWC)\b/g;

/**
 * Gives a hook's geometry constants its own prefix: the uniform-window GEMM variant
 * compiles the B hook alone (in its packing kernel) and A without B, so each hook
 * carries its own constants and none may clash when both are present.
 */
function own(prefix: 'A' | 'B', code: string): string {
  return code.replace(CONST_NAMES, `${prefix}_$1`);
}

function consts(g: ConvGeometry): string {
  const cg = g.C / g.groups;
  const og = g.O / g.groups;
  return `const C_ = ${g.C}u; const CG = ${cg}u; const O_ = ${g.O}u; const OG = ${og}u; const KH = ${g.KH}u; const KW = ${g.KW}u;
const SH = ${g.sh}u; const SW = ${g.sw}u; const PH = ${g.ph}; const PW = ${g.pw}; const DH = ${g.dh}u; const DW = ${g.dw}u;
`;
}

interface Im2colRead {
  vec4: boolean;
  /** Names of the hook's two index arguments. */
  args: [string, string];
  /** Expressions for the pixel p = (n, oh, ow) and the column kk = (kh, kw, c in group). */
  pixel: string;
  col: string;
  /** Expression for the element offset of the group's first channel in x. */
  xBase: string;
  /** Return 0 for pixels beyond the last (the split-K tail). */
  guardP: boolean;
  /**
   * Divide by the output size as baked constants OHC/OWC (see bakedOutputSize): for reads
   * whose pixel moves with k, where a division by a uniform would run once per lane
   * on every k.
   */
  bakedOutput?: boolean;
}

/** The output size as WGSL constants, for im2col reads with bakedOutput. */
function bakedOutputSize(g: ConvGeometry): string {
  return `const OHC = ${g.OH}u; const OWC = ${g.OW}u;\n`;
}

/** A hook function reading im2col(x)[p, kk]: 0 in the padding. */
function im2colFn(name: string, r: Im2colRead): string {
  const zero = r.vec4 ? 'vec4<f32>(0.0)' : '0.0';
  const idx = `${r.xBase} + ((n * u.H + u32(ih)) * u.W + u32(iw)) * C_ + c`;
  return `fn ${name}(base: u32, ${r.args[0]}: u32, ${r.args[1]}: u32) -> ${r.vec4 ? 'vec4<f32>' : 'f32'} {
  let p = ${r.pixel}; let kk = ${r.col};
${r.guardP ? `  if (p >= u.P) { return ${zero}; }\n` : ''}  ${r.bakedOutput ? 'let ow = p % OWC; let t = p / OWC; let oh = t % OHC; let n = t / OHC;' : 'let ow = p % u.OW; let t = p / u.OW; let oh = t % u.OH; let n = t / u.OH;'}
  let c = kk % CG; let t2 = kk / CG; let kw = t2 % KW; let kh = t2 / KW;
  let ih = i32(oh * SH + kh * DH) - PH;
  let iw = i32(ow * SW + kw * DW) - PW;
  if (ih < 0 || iw < 0 || ih >= i32(u.H) || iw >= i32(u.W)) { return ${zero}; }
  return ${r.vec4 ? `x4[(${idx}) >> 2u]` : `x[${idx}]`};
}
`;
}

/**
 * The per-row form of the forward's im2col read (see gemm.ts rowA): the pixel's
 * divisions by the output size happen once per row; per k only divisions by the baked
 * constants remain. Padding reads index 0 and select zero: no branch per lane.
 */
function im2colRowFns(vec4: boolean): string {
  const read = (name: string, v: boolean) => `fn ${name}(r: ARow, kk: u32) -> ${v ? 'vec4<f32>' : 'f32'} {
  let c = kk % CG; let t2 = kk / CG; let kw = t2 % KW; let kh = t2 / KW;
  let ih = r.ih0 + i32(kh * DH); let iw = r.iw0 + i32(kw * DW);
  let ok = ih >= 0 && iw >= 0 && ih < i32(u.H) && iw < i32(u.W);
  let idx = select(0u, r.pix + (u32(ih) * u.W + u32(iw)) * C_ + c, ok);
  return select(${v ? 'vec4<f32>(0.0)' : '0.0'}, ${v ? 'x4[idx >> 2u]' : 'x[idx]'}, ok);
}
`;
  return `struct ARow { pix: u32, ih0: i32, iw0: i32 }
fn rowA(base: u32, p: u32) -> ARow {
  let ow = p % u.OW; let t = p / u.OW; let oh = t % u.OH; let n = t / u.OH;
  return ARow(base + n * u.H * u.W * C_, i32(oh * SH) - PH, i32(ow * SW) - PW);
}
${read('loadARow', false)}${vec4 ? read('loadA4Row', true) : ''}`;
}

function fwdA(g: ConvGeometry, vec4: boolean): OperandHook {
  // A(m, k): m is the output pixel, k the im2col column.
  const read = (v: boolean): Im2colRead => ({ vec4: v, args: ['i0', 'i1'], pixel: 'i0', col: 'i1', xBase: 'base', guardP: false });
  const body = im2colFn('loadA', read(false)) + (vec4 ? im2colFn('loadA4', read(true)) : '') + im2colRowFns(vec4);
  return {
    bindings: vec4 ? [{ name: 'x' }, { name: 'x4', type: 'array<vec4<f32>>' }] : [{ name: 'x' }],
    params: [...spatial, { name: 'x_off' }],
    code: own('A', `${consts(g)}fn batchA(b: u32) -> u32 { return u.x_off + b * CG; }\n${body}`),
    vec4: vec4 ? 'k' : undefined,
  };
}

function weightRowsB(g: ConvGeometry, vec4: boolean): OperandHook {
  // B(k, n) = w[o = group·OG + n, kk = k]: rows of the OHWI weight are the GEMM's columns.
  const K = 'KH * KW * CG';
  return {
    bindings: vec4 ? [{ name: 'w' }, { name: 'w4', type: 'array<vec4<f32>>' }] : [{ name: 'w' }],
    params: [{ name: 'w_off' }],
    code: own('B', `${consts(g)}fn batchB(b: u32) -> u32 { return u.w_off + b * OG * ${K}; }
fn loadB(base: u32, k: u32, n: u32) -> f32 { return w[base + n * ${K} + k]; }
${vec4 ? `fn loadB4(base: u32, k: u32, n: u32) -> vec4<f32> { return w4[(base + n * ${K} + k) >> 2u]; }\n` : ''}`),
    vec4: vec4 ? 'k' : undefined,
    batched: true,
  };
}

/**
 * What the forward's epilogue fuses after the GEMM (groups = 1 only):
 * out = act(conv · scale[o] + bias[o] + residual) — a BatchNorm folded in eval mode is
 * the scale and the bias; the residual is read with the output's layout.
 */
export interface ConvEpilogue {
  scale?: BufferView;
  residual?: BufferView;
  act?: 'relu' | { leaky: number };
}

function outputEpilogue(g: ConvGeometry, bias: BufferView | null, fused: ConvEpilogue, vec4: boolean): { hook: EpilogueHook; params: Record<string, number>; buffers: GPUBuffer[] } {
  const batchRank = g.groups > 1 ? 1 : 0;
  if (batchRank && (fused.scale || fused.residual || fused.act)) throw new Error('internal: fused conv epilogues need groups = 1');
  const act = fused.act;
  const hook = stridedEpilogue({
    batchRank,
    bias: bias !== null,
    vec4,
    residual: !!fused.residual,
    scale: !!fused.scale,
    relu: act === 'relu',
    leaky: typeof act === 'object' ? act.leaky : undefined,
  });
  const params: Record<string, number> = { c_off: 0, c_ld: g.O, ...(batchRank ? { c_bsh0: g.groups, c_bst0: g.O / g.groups } : {}) };
  const buffers: GPUBuffer[] = [];
  for (const [name, b] of [['bias', bias], ['res', fused.residual], ['scale', fused.scale]] as const) {
    if (!b) continue;
    params[`${name}_off`] = b.offset;
    buffers.push(b.buffer);
  }
  return { hook, params, buffers };
}

const aligned = (...xs: number[]): boolean => xs.every((v) => v % 4 === 0);

/** How a convolution and its gradients are computed: the implicit GEMM, or Winograd F(m×m, 3×3) with m = 2 or 4. */
export type ConvAlgorithm = 'gemm' | 'winograd-2x2' | 'winograd-4x4';

/**
 * Forces the algorithm (tests, benchmarks): a Winograd one wherever it applies (3×3,
 * stride 1, no dilation or groups, channels multiples of 4), 'gemm' everywhere; null
 * restores the default: Winograd where it applies and both channel counts are at least
 * the profile's winogradMinChannels, F(4×4) from winogradF4MinOutput outputs per side, else F(2×2).
 */
export function setConvAlgorithm(a: ConvAlgorithm | null): void {
  config.convAlgorithm = a;
}

// The thresholds (fewest channels for Winograd, smallest output side for F(4×4)) are the
// adapter profile's `conv` fields (runtime/adapter-profile.ts, with the measurements).

/**
 * The Winograd problem for this convolution's forward or input gradient (the gradient
 * is the convolution of dy with the flipped kernel, padding 2 − p), or null when it
 * takes the implicit GEMM.
 */
function winogradProblem(g: ConvGeometry, pass: 'forward' | 'input', offsets: number[]): WinogradProblem | null {
  if (config.convAlgorithm === 'gemm') return null;
  if (g.KH !== 3 || g.KW !== 3 || g.sh !== 1 || g.sw !== 1 || g.dh !== 1 || g.dw !== 1 || g.groups !== 1) return null;
  const { conv: costs } = adapterProfile();
  const algo = config.convAlgorithm ?? (Math.min(g.OH, g.OW) >= costs.winogradF4MinOutput ? 'winograd-4x4' : 'winograd-2x2');
  const tile = algo === 'winograd-2x2' ? F2x2 : F4x4;
  const p: WinogradProblem =
    pass === 'forward'
      ? { N: g.N, H: g.H, W: g.W, K: g.C, Nout: g.O, ph: g.ph, pw: g.pw, tile }
      : { N: g.N, H: g.OH, W: g.OW, K: g.O, Nout: g.C, ph: 2 - g.ph, pw: 2 - g.pw, tile };
  if (p.ph < 0 || p.pw < 0 || winogradUnsupported(p, offsets) !== null) return null;
  if (!config.convAlgorithm && Math.min(p.K, p.Nout) < costs.winogradMinChannels) return null;
  return p;
}

/**
 * Forward: out (dense NHWC [N, OH, OW, O]) = conv(x, w) (+ bias, and the fused epilogue,
 * when groups = 1). When it runs Winograd and `keepInputTransform` is given, x's input
 * transform goes into a buffer from it and is returned, for conv2dBackwardFilter to
 * reuse (one pass over x fewer in training); otherwise null.
 */
export function conv2dForward(
  g: ConvGeometry,
  x: BufferView,
  w: BufferView,
  out: GPUBuffer,
  bias: BufferView | null,
  variant?: GemmVariant,
  fused: ConvEpilogue = {},
  keepInputTransform?: (bytes: number) => GPUBuffer,
): WinogradSavedInput | null {
  const offsets = [x.offset, w.offset, bias?.offset ?? 0, fused.scale?.offset ?? 0, fused.residual?.offset ?? 0];
  const wp = winogradProblem(g, 'forward', offsets);
  if (wp) {
    const kept = keepInputTransform ? { buffer: keepInputTransform(winogradInputBytes(wp)), tile: wp.tile } : null;
    runWinogradConv(wp, x, w, { buffer: out, offset: 0 }, false, { bias, ...fused }, variant, kept?.buffer);
    return kept;
  }
  const cg = g.C / g.groups;
  const og = g.O / g.groups;
  const vecA = aligned(cg, x.offset, g.C);
  const vecB = aligned(cg, w.offset);
  const vecC = aligned(og, g.O);
  const epi = outputEpilogue(g, bias, fused, vecC);
  const buffers: (GPUBuffer | BufferBinding)[] = vecA ? [x.buffer, x.buffer] : [x.buffer];
  buffers.push(...(vecB ? [w.buffer, w.buffer] : [w.buffer]), out, ...epi.buffers);
  const call: GemmCall = {
    name: `conv2d_fwd_k${g.KH}x${g.KW}_s${g.sh}`,
    M: g.N * g.OH * g.OW,
    N: og,
    K: g.KH * g.KW * cg,
    batch: g.groups,
    a: fwdA(g, vecA),
    b: weightRowsB(g, vecB),
    c: epi.hook,
    buffers,
    params: { ...spatialValues(g), x_off: x.offset, w_off: w.offset, ...epi.params },
    variant,
  };
  runGemm(call);
  return null;
}

/**
 * One phase of the input gradient: the input pixels with ih ≡ rh (mod SH), iw ≡ rw
 * (mod SW), and the kernel taps that reach them. With stride 1 there is one phase
 * holding every tap; with stride s there are s² phases, each a dense GEMM over only
 * its own taps (instead of one GEMM in which 1 − 1/s² of the products are zeros).
 */
export interface InputGradPhase {
  rh: number;
  rw: number;
  /** Input rows / columns of this phase. */
  Hp: number;
  Wp: number;
  /** Taps kh (kw) reaching the phase, and the output row (column) offset each lands on: oh = jh + off. */
  tapsH: number[];
  offH: number[];
  tapsW: number[];
  offW: number[];
}

export function inputGradPhases(g: ConvGeometry): InputGradPhase[] {
  const out: InputGradPhase[] = [];
  const taps = (r: number, pad: number, dil: number, stride: number, k: number) => {
    const t: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < k; i++) {
      const y = r + pad - i * dil;
      if (((y % stride) + stride) % stride === 0) {
        t.push(i);
        off.push(y / stride);
      }
    }
    return { t, off };
  };
  for (let rh = 0; rh < g.sh; rh++) {
    for (let rw = 0; rw < g.sw; rw++) {
      const Hp = Math.ceil((g.H - rh) / g.sh);
      const Wp = Math.ceil((g.W - rw) / g.sw);
      if (Hp <= 0 || Wp <= 0) continue;
      const h = taps(rh, g.ph, g.dh, g.sh, g.KH);
      const w = taps(rw, g.pw, g.dw, g.sw, g.KW);
      out.push({ rh, rw, Hp, Wp, tapsH: h.t, offH: h.off, tapsW: w.t, offW: w.off });
    }
  }
  return out;
}

function phaseConsts(p: InputGradPhase): string {
  const arr = (t: string, xs: number[]) => `array<${t}, ${xs.length}>(${xs.map((x) => (t === 'u32' ? `${x}u` : `${x}`)).join(', ')})`;
  return `const NTW = ${p.tapsW.length}u;
const TAPH = ${arr('u32', p.tapsH)}; const OFFH = ${arr('i32', p.offH)};
const TAPW = ${arr('u32', p.tapsW)}; const OFFW = ${arr('i32', p.offW)};
`;
}

/**
 * Input gradient: dx (dense NHWC [N, H, W, C]) from dy (dense [N, OH, OW, O]) and w,
 * one GEMM per stride phase: dx[phase pixels, c] = Σ_(tap, o) dy[landing pixel, o] · w[o, tap, c].
 */
export function conv2dBackwardInput(g: ConvGeometry, dy: BufferView, w: BufferView, dx: GPUBuffer, variant?: GemmVariant): void {
  const wp = winogradProblem(g, 'input', [dy.offset, w.offset]);
  if (wp) {
    runWinogradConv(wp, dy, w, { buffer: dx, offset: 0 }, true, {}, variant);
    return;
  }
  const cg = g.C / g.groups;
  const og = g.O / g.groups;
  const vecA = aligned(og, g.O, dy.offset);
  const vecB = aligned(cg, w.offset);
  const vecC = aligned(cg, g.C);
  const phases = inputGradPhases(g);
  // Pixels no tap reaches (e.g. the odd ones of a 1×1/2 convolution) have a zero gradient.
  if (phases.some((p) => p.tapsH.length === 0 || p.tapsW.length === 0)) {
    runMap({ name: 'fill_f32', expr: 'p0', outType: 'f32' }, [], [g.N * g.H * g.W * g.C], dx, [0, 0]);
  }
  for (const p of phases) {
    if (p.tapsH.length === 0 || p.tapsW.length === 0) continue;
    const nTaps = p.tapsH.length * p.tapsW.length;
    // A(m = phase pixel (n, jh, jw), k = (tap, o)) = dy at the output pixel the tap lands on (0 outside).
    const loadA = (name: string, v: boolean) => `fn ${name}(base: u32, q: u32, k: u32) -> ${v ? 'vec4<f32>' : 'f32'} {
  let jw = q % u.Wp; let t = q / u.Wp; let jh = t % u.Hp; let n = t / u.Hp;
  let o = k % OG; let t2 = k / OG; let tw = t2 % NTW; let th = t2 / NTW;
  let oh = i32(jh) + OFFH[th]; let ow = i32(jw) + OFFW[tw];
  if (oh < 0 || ow < 0 || oh >= i32(u.OH) || ow >= i32(u.OW)) { return ${v ? 'vec4<f32>(0.0)' : '0.0'}; }
  let idx = base + ((n * u.OH + u32(oh)) * u.OW + u32(ow)) * O_ + o;
  return ${v ? 'dy4[idx >> 2u]' : 'dy[idx]'};
}
`;
    // The same per row (see gemm.ts rowA): the phase pixel's divisions once per row.
    const rowRead = (name: string, v: boolean) => `fn ${name}(r: ARow, k: u32) -> ${v ? 'vec4<f32>' : 'f32'} {
  let o = k % OG; let t2 = k / OG; let tw = t2 % NTW; let th = t2 / NTW;
  let oh = r.jh + OFFH[th]; let ow = r.jw + OFFW[tw];
  let ok = oh >= 0 && ow >= 0 && oh < i32(u.OH) && ow < i32(u.OW);
  let idx = select(0u, r.pix + (u32(oh) * u.OW + u32(ow)) * O_ + o, ok);
  return select(${v ? 'vec4<f32>(0.0)' : '0.0'}, ${v ? 'dy4[idx >> 2u]' : 'dy[idx]'}, ok);
}
`;
    const rowFns = `struct ARow { pix: u32, jh: i32, jw: i32 }
fn rowA(base: u32, q: u32) -> ARow {
  let jw = q % u.Wp; let t = q / u.Wp; let jh = t % u.Hp; let n = t / u.Hp;
  return ARow(base + n * u.OH * u.OW * O_, i32(jh), i32(jw));
}
${rowRead('loadARow', false)}${vecA ? rowRead('loadA4Row', true) : ''}`;
    const a: OperandHook = {
      bindings: vecA ? [{ name: 'dy' }, { name: 'dy4', type: 'array<vec4<f32>>' }] : [{ name: 'dy' }],
      params: [...spatial, { name: 'Hp' }, { name: 'Wp' }, { name: 'dy_off' }],
      code: own('A', `${consts(g)}${phaseConsts(p)}fn batchA(b: u32) -> u32 { return u.dy_off + b * OG; }\n${loadA('loadA', false)}${vecA ? loadA('loadA4', true) : ''}${rowFns}`),
      vec4: vecA ? 'k' : undefined,
    };
    // B(k = (tap, o), n = c) = w[group·OG + o, kh, kw, c]: contiguous along n.
    const b: OperandHook = {
      bindings: vecB ? [{ name: 'w' }, { name: 'w4', type: 'array<vec4<f32>>' }] : [{ name: 'w' }],
      params: [{ name: 'w_off' }],
      code: own('B', `${consts(g)}${phaseConsts(p)}fn batchB(b: u32) -> u32 { return u.w_off + b * OG * KH * KW * CG; }
fn wIndex(base: u32, k: u32, n: u32) -> u32 {
  let o = k % OG; let t2 = k / OG; let kw = TAPW[t2 % NTW]; let kh = TAPH[t2 / NTW];
  return base + ((o * KH + kh) * KW + kw) * CG + n;
}
fn loadB(base: u32, k: u32, n: u32) -> f32 { return w[wIndex(base, k, n)]; }
${vecB ? 'fn loadB4(base: u32, k: u32, n: u32) -> vec4<f32> { return w4[wIndex(base, k, n) >> 2u]; }\n' : ''}`),
      vec4: vecB ? 'mn' : undefined,
      mnMultipleOf4: vecB,
      batched: true,
    };
    // C: the phase's pixels, strided back into dx (channels of the group contiguous).
    const index = `let jw = m % u.Wp; let t = m / u.Wp; let jh = t % u.Hp; let nb = t / u.Hp;
  let i = base + ((nb * u.H + u.rh + SH * jh) * u.W + u.rw + SW * jw) * C_ + n;`;
    const c: EpilogueHook = {
      bindings: [vecC ? { name: 'dx4', type: 'array<vec4<f32>>', write: true } : { name: 'dx', write: true }],
      params: [{ name: 'rh' }, { name: 'rw' }],
      code: own('A', `fn batchC(b: u32) -> u32 { return b * CG; }
fn epilogue(base: u32, m: u32, n: u32, v: f32) {
  ${index}
  ${vecC ? 'dx4[i >> 2u][i & 3u] = v;' : 'dx[i] = v;'}
}
${vecC ? `fn epilogue4(base: u32, m: u32, n: u32, v: vec4<f32>) {\n  ${index}\n  dx4[i >> 2u] = v;\n}\n` : ''}`),
    };
    const buffers: (GPUBuffer | BufferBinding)[] = [...(vecA ? [dy.buffer, dy.buffer] : [dy.buffer]), ...(vecB ? [w.buffer, w.buffer] : [w.buffer]), dx];
    runGemm({
      name: `conv2d_bwd_input_k${g.KH}x${g.KW}_s${g.sh}x${g.sw}_phase${p.rh}${p.rw}`,
      M: g.N * p.Hp * p.Wp,
      N: cg,
      K: nTaps * og,
      batch: g.groups,
      a,
      b,
      c,
      buffers,
      params: { ...spatialValues(g), Hp: p.Hp, Wp: p.Wp, rh: p.rh, rw: p.rw, dy_off: dy.offset, w_off: w.offset },
      variant,
    });
  }
}

/** How many pixel chunks the filter gradient's reduction is split into. */
export function filterGradSplits(g: ConvGeometry): number {
  if (g.groups > 1) return 1;
  const P = g.N * g.OH * g.OW;
  const og = g.O;
  const kw = g.KH * g.KW * (g.C / g.groups);
  // Enough independent tiles to fill the device, each still reducing ≥ 1024 pixels.
  const tiles = Math.ceil(og / 32) * Math.ceil(kw / 32);
  const want = Math.ceil(64 / tiles);
  return Math.max(1, Math.min(want, Math.floor(P / 1024), 64));
}

/**
 * Filter gradient: dw (dense OHWI [O, KH, KW, C/groups]) = dyᵀ · im2col(x) (Winograd: from
 * `savedInput`, the forward's transform of x, when it has one for this tile), the
 * pixel reduction split into `filterGradSplits` chunks (partial products in a
 * scratch tensor, then summed) so long reductions still spread over the device.
 */
export function conv2dBackwardFilter(
  g: ConvGeometry,
  x: BufferView,
  dy: BufferView,
  dw: GPUBuffer,
  scratch: (bytes: number) => GPUBuffer,
  variant?: GemmVariant,
  savedInput?: WinogradSavedInput | null,
): void {
  const wp = winogradProblem(g, 'forward', [x.offset, dy.offset]);
  if (wp) {
    runWinogradFilterGrad(wp, x, dy, dw, variant, savedInput?.tile === wp.tile ? savedInput.buffer : undefined);
    return;
  }
  const cg = g.C / g.groups;
  const og = g.O / g.groups;
  const kw = g.KH * g.KW * cg;
  const P = g.N * g.OH * g.OW;
  const S = filterGradSplits(g);
  const chunk = Math.ceil(P / S);
  const split = S > 1;
  const vecA = aligned(og, g.O, dy.offset);
  const vecB = aligned(cg, g.C, x.offset);
  // A(m = o, k = p) = dy[p, group·OG + o]; with split-K, base is the chunk's first pixel.
  const aLoad = (name: string, v: boolean) => `fn ${name}(base: u32, m: u32, k: u32) -> ${v ? 'vec4<f32>' : 'f32'} {
${split ? `  let p = base + k;\n  if (p >= u.P) { return ${v ? 'vec4<f32>(0.0)' : '0.0'}; }\n  let i = u.dy_off + p * O_ + m;` : '  let i = base + k * O_ + m;'}
  return ${v ? 'dy4[i >> 2u]' : 'dy[i]'};
}
`;
  const a: OperandHook = {
    bindings: vecA ? [{ name: 'dy' }, { name: 'dy4', type: 'array<vec4<f32>>' }] : [{ name: 'dy' }],
    params: [{ name: 'dy_off' }],
    code: own('A', `${consts(g)}fn batchA(b: u32) -> u32 { return ${split ? 'b * u.chunk' : 'u.dy_off + b * OG'}; }\n${aLoad('loadA', false)}${vecA ? aLoad('loadA4', true) : ''}`),
    vec4: vecA ? 'mn' : undefined,
    mnMultipleOf4: vecA,
  };
  // B(k = p, n = kk) = im2col(x)[p, kk]; split: base is the chunk's first pixel, else the group's channel offset.
  const bLoad = (name: string, v: boolean) =>
    im2colFn(name, { vec4: v, args: ['i0', 'i1'], pixel: split ? 'base + i0' : 'i0', col: 'i1', xBase: split ? 'u.x_off' : 'base', guardP: split, bakedOutput: true });
  const b: OperandHook = {
    bindings: vecB ? [{ name: 'x' }, { name: 'x4', type: 'array<vec4<f32>>' }] : [{ name: 'x' }],
    // B declares the spatial parameters: the packing kernel of the uniform-window variant sees only B.
    params: [...spatial, { name: 'x_off' }, { name: 'chunk' }],
    code: own('B', `${consts(g)}${bakedOutputSize(g)}fn batchB(b: u32) -> u32 { return ${split ? 'b * u.chunk' : 'u.x_off + b * CG'}; }\n${bLoad('loadB', false)}${vecB ? bLoad('loadB4', true) : ''}`),
    vec4: vecB ? 'mn' : undefined,
    mnMultipleOf4: vecB,
    batched: true,
  };
  const vecC = aligned(kw);
  const outBuf = split ? scratch(S * og * kw * 4) : dw;
  const c = stridedEpilogue({ batchRank: 1, vec4: vecC });
  const buffers: (GPUBuffer | BufferBinding)[] = [...(vecA ? [dy.buffer, dy.buffer] : [dy.buffer]), ...(vecB ? [x.buffer, x.buffer] : [x.buffer]), outBuf];
  runGemm({
    name: `conv2d_bwd_filter_k${g.KH}x${g.KW}_s${g.sh}${split ? '_splitk' : ''}`,
    M: og,
    N: kw,
    K: split ? chunk : P,
    batch: split ? S : g.groups,
    a,
    b,
    c,
    buffers,
    params: {
      ...spatialValues(g),
      dy_off: dy.offset,
      x_off: x.offset,
      chunk,
      c_off: 0,
      c_ld: kw,
      c_bsh0: split ? S : g.groups,
      c_bst0: og * kw,
    },
    variant,
  });
  if (split) {
    // Sum the S partial products: a reduction over the leading axis of [S, O·kw].
    runReduce('sum', { buffer: outBuf, dtype: 'f32', shape: [S, og * kw], strides: [og * kw, 1], offset: 0 }, [0], dw);
  }
}
