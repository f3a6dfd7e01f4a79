/**
 * Winograd F(m×m, 3×3) convolution, m = 4 or 2 (Lavin & Gray, 2015): for 3×3 kernels at
 * stride 1 without dilation or groups, each m×m output tile takes α² = (m+2)² products
 * per (input, output) channel pair instead of 9·m², so the GEMM work is 4× (F(4×4)) or
 * 2.25× (F(2×2)) smaller. The tiles' matrices Bᵀ, G and Aᵀ are F4x4 and F2x2 below. Kernels
 * of the family, all on NHWC activations and OHWI weights:
 *  - winograd_weights: U[ξ, n, k] = (G g Gᵀ)[ξ], g the 3×3 kernel of input channel k and
 *    output channel n; `flip` reads it rotated by 180° with in/out swapped, which is the
 *    kernel of the input gradient (dx = conv(dy, rot180(w)ᵀ) with padding 2 − p), and
 *    writes U[ξ, k, n] (WinogradULayout: each layout keeps its pass's accesses contiguous).
 *  - winograd_input:   V[ξ, t, k] = (Bᵀ d B)[ξ], d the α×α input patch of output tile t.
 *  - the products M[ξ] = V[ξ] · U[ξ]: one batched GEMM (α² problems) through the GEMM
 *    generator (kernels/gemm.ts), plain strided operands.
 *  - winograd_output:  y = act((Aᵀ M A) · scale + bias + residual), the same epilogue as
 *    the implicit-GEMM convolution (ConvEpilogue).
 * The filter gradient runs the same algebra backwards: dM[ξ, t, n] = (A dy_t Aᵀ)[ξ]
 * (winograd_grad_output), dU[ξ] = dM[ξ]ᵀ · V[ξ] (one batched GEMM reducing over the
 * tiles, [ξ, n, k] like the forward's U), dw = Gᵀ dU G (winograd_grad_weights).
 * The transforms are generated straight-line from the matrices (no private arrays:
 * llvmpipe keeps an indexed private array in memory, one access per lane). The CPU
 * twins are in ops/conv/winograd-twin.ts.
 */
import { gpu } from '../runtime/device.js';
import { acquireBuffer, releaseBuffer } from '../runtime/pool.js';
import { type BufferView, type UniformType, defineKernel, run } from './define.js';
import { grid1d } from './grid.js';
import { runGemm, stridedEpilogue, stridedOperand, stridedParamValues, type GemmVariant } from './gemm.js';

/** One Winograd convolution: input [N, H, W, K] → output [N, OH, OW, Nout] with OH = H + 2·ph − 2. */
export interface WinogradProblem {
  N: number;
  H: number;
  W: number;
  /** Input channels (the GEMM's K). */
  K: number;
  /** Output channels (the GEMM's N). */
  Nout: number;
  ph: number;
  pw: number;
  tile: WinogradTile;
}

export interface WinogradEpilogue {
  bias?: BufferView | null;
  scale?: BufferView;
  residual?: BufferView;
  act?: 'relu' | { leaky: number };
}

const WG = 64;

export const winogradOutputSize = (p: WinogradProblem): [number, number] => [p.H + 2 * p.ph - 2, p.W + 2 * p.pw - 2];

/** Output tiles (m×m each) and their count P = N · ⌈OH/m⌉ · ⌈OW/m⌉. */
export function winogradTiles(p: WinogradProblem): { TH: number; TW: number; P: number } {
  const [OH, OW] = winogradOutputSize(p);
  const TH = Math.ceil(OH / p.tile.m);
  const TW = Math.ceil(OW / p.tile.m);
  return { TH, TW, P: p.N * TH * TW };
}

/** Products per tile, (m+2)²: the batch of the GEMM. */
const productsOf = (p: WinogradProblem): number => alphaOf(p.tile) ** 2;

/**
 * Why this problem does not run here through Winograd, or null when it does: channel
 * counts and offsets must allow vec4 access, the padding be at most 2 (the tile math
 * assumes the patch starts inside or just outside the image), and the transformed
 * operands (V, M and the transformed kernel U) each fit one binding.
 */
export function winogradUnsupported(p: WinogradProblem, offsets: readonly number[]): string | null {
  if (p.K % 4 !== 0 || p.Nout % 4 !== 0) return `channels ${p.K}→${p.Nout} are not multiples of 4`;
  if (offsets.some((o) => o % 4 !== 0)) return 'a buffer offset is not a multiple of 4';
  if (p.ph > 2 || p.pw > 2) return `padding ${p.ph}×${p.pw} exceeds 2`;
  const [OH, OW] = winogradOutputSize(p);
  if (OH < 1 || OW < 1) return 'the output is empty';
  const { P } = winogradTiles(p);
  const biggest = productsOf(p) * Math.max(P * p.K, P * p.Nout, p.K * p.Nout) * 4;
  if (biggest > gpu().limits.maxStorageBufferBindingSize) return `the transformed operands (${biggest} bytes) exceed one binding`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Tile sizes: F(m×m, 3×3) takes (m+2)² products per m² outputs.

/** The transform matrices of F(m×m, 3×3) (Lavin & Gray; points 0, ±1, ±2 for m = 4). */
export interface WinogradTile {
  /** Outputs per tile side. */
  m: 2 | 4;
  /** Input transform Bᵀ, (m+2)×(m+2). */
  BT: number[][];
  /** Kernel transform G, (m+2)×3. */
  G: number[][];
  /** Output transform Aᵀ, m×(m+2). */
  AT: number[][];
}

export const F2x2: WinogradTile = {
  m: 2,
  BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
  AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
};

export const F4x4: WinogradTile = {
  m: 4,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};

/** Input tile side m + 2. */
export const alphaOf = (t: WinogradTile): number => t.m + 2;

// ---------------------------------------------------------------------------------------------
// Straight-line transforms on WGSL expressions

/** Row i of matrix × (names): a sum skipping zero coefficients, f32 literals written exactly enough. */
function combine(row: number[], v: string[]): string {
  const terms: string[] = [];
  row.forEach((c, j) => {
    if (c === 0) return;
    const mag = Math.abs(c);
    const t = mag === 1 ? v[j]! : `${Number.isInteger(mag) ? `${mag}.0` : mag.toPrecision(9)} * ${v[j]}`;
    terms.push(terms.length === 0 ? (c < 0 ? `-(${t})` : t) : `${c < 0 ? '-' : '+'} ${t}`);
  });
  return terms.length ? `(${terms.join(' ')})` : '0.0';
}

const apply = (mat: number[][]) => (v: string[]): string[] => mat.map((row) => combine(row, v));
const transpose = (mat: number[][]): number[][] => mat[0]!.map((_, j) => mat.map((row) => row[j]!));

/** Applies a 1-D transform down the columns, then along the rows, of a grid of names; emits lets. */
function transform2d(grid: string[][], f: (v: string[]) => string[], prefix: string): { code: string; out: string[][] } {
  let code = '';
  const cols = grid[0]!.length;
  // Left factor first (each column), then the right factor (each row of the result, transposed matrix).
  const mid: string[][] = [];
  for (let c = 0; c < cols; c++) {
    f(grid.map((r) => r[c]!)).forEach((e, r) => {
      (mid[r] ??= [])[c] = `${prefix}a${r}_${c}`;
      code += `  let ${prefix}a${r}_${c} = ${e};\n`;
    });
  }
  const out: string[][] = [];
  mid.forEach((row, r) => {
    f(row).forEach((e, c) => {
      (out[r] ??= [])[c] = `${prefix}b${r}_${c}`;
      code += `  let ${prefix}b${r}_${c} = ${e};\n`;
    });
  });
  return { code, out };
}

/** `let <prefix>a_b = <expr(a, b)>;` for a rows × cols grid, and the grid of names. */
function loadGrid(rows: number, cols: number, prefix: string, expr: (a: number, b: number) => string): { code: string; grid: string[][] } {
  let code = '';
  const grid: string[][] = [];
  for (let a = 0; a < rows; a++) {
    grid[a] = [];
    for (let b = 0; b < cols; b++) {
      code += `  let ${prefix}${a}_${b} = ${expr(a, b)};\n`;
      grid[a]![b] = `${prefix}${a}_${b}`;
    }
  }
  return { code, grid };
}

/** The frame every transform kernel shares: uniforms, inputs, one output, one thread per `threads`. */
interface KernelFrame {
  name: string;
  title: string;
  uniforms: Record<string, UniformType>;
  /** Storage buffers read (name → type); the first is the transform's input. */
  inputs: Record<string, string>;
  output: Record<string, string>;
  /** Helper functions. */
  extra?: string;
  /** WGSL expression: how many threads do work (index `i`). */
  threads: string;
  body: string;
}

function transformKernel(f: KernelFrame) {
  return defineKernel({
    name: f.name,
    uniforms: f.uniforms,
    inputs: f.inputs,
    outputs: f.output,
    workgroupSize: WG,
    body: `// ${f.title}
${f.extra ?? ''}fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid.x;
  if (i >= ${f.threads}) { return; }
${f.body}}
`,
  });
}

/**
 * How U holds the transformed kernel: 'nk' is [α², Nout, K] (the products read it as a
 * transposed B), 'kn' is [α², K, Nout]. Each pass writes the layout in which its weight
 * reads and its U writes are both contiguous vec4s: the forward's kernel (OHWI, input
 * channels contiguous) gives 'nk', the input gradient's rotated kernel (output channels
 * of the GEMM contiguous) 'kn'.
 */
export type WinogradULayout = 'nk' | 'kn';
export const winogradULayout = (flip: boolean): WinogradULayout => (flip ? 'kn' : 'nk');

function weightsKernel(t: WinogradTile, flip: boolean) {
  const A = alphaOf(t);
  // Four channel pairs per thread, as vec4s along the weight's contiguous channel (the
  // transform is linear, so it runs on vec4s as on scalars), the fastest-moving across
  // threads: every load and store is a vec4, contiguous across threads. (One pair per
  // thread, with scalar loads 9·K apart across threads, took twice as long.)
  //  - forward: k = input channel c, n = output channel o: w[n, i, j, k..k+3] → U[ξ, n, k..k+3];
  //  - flip: k = o, n = c, the kernel rotated: w[k, 2−i, 2−j, n..n+3] → U[ξ, k, n..n+3].
  const { code: loads, grid: g } = loadGrid(3, 3, 'g', (i, j) => {
    const tap = flip ? (2 - i) * 3 + (2 - j) : i * 3 + j;
    return flip ? `w[(u.w_off + (k * 9u + ${tap}u) * u.Nout + n) / 4u]` : `w[(u.w_off + (n * 9u + ${tap}u) * u.K + k) / 4u]`;
  });
  const tr = transform2d(g, apply(t.G), 'u');
  let stores = '';
  tr.out.forEach((row, a) =>
    row.forEach((e, b) => {
      const xi = a * A + b;
      stores += flip ? `  Uw[((${xi}u * u.K + k) * u.Nout + n) / 4u] = ${e};\n` : `  Uw[((${xi}u * u.Nout + n) * u.K + k) / 4u] = ${e};\n`;
    }),
  );
  return transformKernel({
    name: `winograd_weights${flip ? '_flip' : ''}`,
    title: `winograd_weights F(${t.m}x${t.m}, 3x3)${flip ? " (flipped: the input gradient's kernel)" : ''}`,
    uniforms: { K: 'u32', Nout: 'u32', w_off: 'u32' },
    inputs: { w: 'array<vec4<f32>>' },
    output: { Uw: 'array<vec4<f32>>' },
    threads: '(u.K * u.Nout) / 4u',
    body: flip
      ? `  let n = 4u * (i % (u.Nout / 4u)); let k = i / (u.Nout / 4u);\n${loads}${tr.code}${stores}`
      : `  let k = 4u * (i % (u.K / 4u)); let n = i / (u.K / 4u);\n${loads}${tr.code}${stores}`,
  });
}

function inputKernel(t: WinogradTile) {
  const A = alphaOf(t);
  const { code: loads, grid: d } = loadGrid(A, A, 'd', (a, b) => `pixel(base, ih0 + ${a}, iw0 + ${b})`);
  const tr = transform2d(d, apply(t.BT), 'v');
  let stores = '';
  tr.out.forEach((row, a) => row.forEach((e, b) => (stores += `  V[(${a * A + b}u * u.P + t) * u.K4 + c] = ${e};\n`)));
  return transformKernel({
    name: 'winograd_input',
    title: `winograd_input F(${t.m}x${t.m}, 3x3)`,
    uniforms: { H: 'u32', W: 'u32', K4: 'u32', TH: 'u32', TW: 'u32', P: 'u32', ph: 'i32', pw: 'i32', x_off4: 'u32' },
    inputs: { x: 'array<vec4<f32>>' },
    output: { V: 'array<vec4<f32>>' },
    extra: `/** x at (ih, iw) of the image starting at base, zero outside: no branch, index 0 read instead. */
fn pixel(base: u32, ih: i32, iw: i32) -> vec4<f32> {
  let ok = ih >= 0 && iw >= 0 && ih < i32(u.H) && iw < i32(u.W);
  return select(vec4<f32>(0.0), x[select(0u, base + u32(ih * i32(u.W) + iw) * u.K4, ok)], ok);
}
`,
    threads: 'u.P * u.K4',
    body: `  let c = i % u.K4; let t = i / u.K4;
  let tx = t % u.TW; let r = t / u.TW; let ty = r % u.TH; let n = r / u.TH;
  let base = u.x_off4 + n * u.H * u.W * u.K4 + c;
  let ih0 = i32(${t.m}u * ty) - u.ph; let iw0 = i32(${t.m}u * tx) - u.pw;
${loads}${tr.code}${stores}`,
  });
}

function outputKernel(t: WinogradTile, e: WinogradEpilogue) {
  const A = alphaOf(t);
  const { code: loads, grid: m } = loadGrid(A, A, 'm', (a, b) => `M[(${a * A + b}u * u.P + t) * u.N4 + o]`);
  const tr = transform2d(m, apply(t.AT), 'y');
  const inputs: Record<string, string> = { M: 'array<vec4<f32>>' };
  let value = 'v';
  // Per-channel factors are the same for the thread's whole tile: read once, passed to store().
  let perChannel = '';
  if (e.scale) {
    inputs.scale = 'array<vec4<f32>>';
    perChannel += '  let sc = scale[u.scale_off4 + o];\n';
    value = `${value} * sc`;
  }
  if (e.bias) {
    inputs.bias = 'array<vec4<f32>>';
    perChannel += '  let bi = bias[u.bias_off4 + o];\n';
    value = `${value} + bi`;
  }
  if (e.residual) {
    inputs.res = 'array<vec4<f32>>';
    value = `${value} + res[u.res_off4 + i]`;
  }
  const act = e.act === 'relu' ? 'select(z, vec4<f32>(0.0), z < vec4<f32>(0.0))' /* not max(): drivers may drop a NaN */ : e.act ? `select(${e.act.leaky} * z, z, z > vec4<f32>(0.0))` : 'z';
  const args = `${e.scale ? 'sc, ' : ''}${e.bias ? 'bi, ' : ''}`;
  let stores = '';
  tr.out.forEach((row, a) =>
    row.forEach((v, b) => {
      stores += `  if (oy0 + ${a}u < u.OH && ox0 + ${b}u < u.OW) { store(((n * u.OH + oy0 + ${a}u) * u.OW + ox0 + ${b}u) * u.N4 + o, ${args}${v}); }\n`;
    }),
  );
  return transformKernel({
    name: 'winograd_output',
    title: `winograd_output F(${t.m}x${t.m}, 3x3)${e.scale ? ' ·scale' : ''}${e.bias ? ' +bias' : ''}${e.residual ? ' +residual' : ''}${e.act ? ` ${typeof e.act === 'object' ? `leaky ${e.act.leaky}` : e.act}` : ''}`,
    uniforms: { OH: 'u32', OW: 'u32', N4: 'u32', TH: 'u32', TW: 'u32', P: 'u32', y_off4: 'u32', scale_off4: 'u32', bias_off4: 'u32', res_off4: 'u32' },
    inputs,
    output: { y: 'array<vec4<f32>>' },
    extra: `fn store(i: u32, ${e.scale ? 'sc: vec4<f32>, ' : ''}${e.bias ? 'bi: vec4<f32>, ' : ''}v: vec4<f32>) {
  let z = ${value};
  y[u.y_off4 + i] = ${act};
}
`,
    threads: 'u.P * u.N4',
    body: `  let o = i % u.N4; let t = i / u.N4;
  let tx = t % u.TW; let r = t / u.TW; let ty = r % u.TH; let n = r / u.TH;
  let oy0 = ${t.m}u * ty; let ox0 = ${t.m}u * tx;
${perChannel}${loads}${tr.code}${stores}`,
  });
}

/** dM = A·dy·Aᵀ per tile: the output transform's adjoint, zero beyond the output's edge. */
function gradOutputKernel(t: WinogradTile) {
  const A = alphaOf(t);
  const { code: loads, grid: d } = loadGrid(t.m, t.m, 'e', (a, b) => `grad(base, oy0 + ${a}u, ox0 + ${b}u)`);
  const tr = transform2d(d, apply(transpose(t.AT)), 'z');
  let stores = '';
  tr.out.forEach((row, a) => row.forEach((e, b) => (stores += `  G[(${a * A + b}u * u.P + t) * u.N4 + o] = ${e};\n`)));
  return transformKernel({
    name: 'winograd_grad_output',
    title: `winograd_grad_output F(${t.m}x${t.m}, 3x3)`,
    uniforms: { OH: 'u32', OW: 'u32', N4: 'u32', TH: 'u32', TW: 'u32', P: 'u32', dy_off4: 'u32' },
    inputs: { dy: 'array<vec4<f32>>' },
    output: { G: 'array<vec4<f32>>' },
    extra: `fn grad(base: u32, oy: u32, ox: u32) -> vec4<f32> {
  let ok = oy < u.OH && ox < u.OW;
  return select(vec4<f32>(0.0), dy[select(0u, base + (oy * u.OW + ox) * u.N4, ok)], ok);
}
`,
    threads: 'u.P * u.N4',
    body: `  let o = i % u.N4; let t = i / u.N4;
  let tx = t % u.TW; let r = t / u.TW; let ty = r % u.TH; let n = r / u.TH;
  let oy0 = ${t.m}u * ty; let ox0 = ${t.m}u * tx;
  let base = u.dy_off4 + n * u.OH * u.OW * u.N4 + o;
${loads}${tr.code}${stores}`,
  });
}

/** dw[n, i, j, k] (OHWI) = (Gᵀ dU[:, n, k] G)[i, j]: the kernel transform's adjoint, from dU [α², Nout, K]. */
function gradWeightsKernel(t: WinogradTile) {
  const A = alphaOf(t);
  // Like the forward kernel transform: a thread takes n and k..k+3, k fastest across
  // threads, so dU's loads and dw's stores are vec4s contiguous across threads.
  const { code: loads, grid: d } = loadGrid(A, A, 'q', (a, b) => `dU[((${a * A + b}u * u.Nout + n) * u.K + k) / 4u]`);
  const tr = transform2d(d, apply(transpose(t.G)), 'h');
  let stores = '';
  tr.out.forEach((row, i) => row.forEach((e, j) => (stores += `  dw[((n * 9u + ${i * 3 + j}u) * u.K + k) / 4u] = ${e};\n`)));
  return transformKernel({
    name: 'winograd_grad_weights',
    title: `winograd_grad_weights F(${t.m}x${t.m}, 3x3)`,
    uniforms: { K: 'u32', Nout: 'u32' },
    inputs: { dU: 'array<vec4<f32>>' },
    output: { dw: 'array<vec4<f32>>' },
    threads: '(u.K * u.Nout) / 4u',
    body: `  let k = 4u * (i % (u.K / 4u)); let n = i / (u.K / 4u);\n${loads}${tr.code}${stores}`,
  });
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/** A buffer view whose offset (in elements) is a multiple of 4. */
type WinogradOperand = BufferView;

/** U = the transformed kernel, in the pass's layout (winogradULayout(flip)). */
export function runWinogradWeights(p: WinogradProblem, w: WinogradOperand, U: GPUBuffer, flip: boolean): void {
  run(weightsKernel(p.tile, flip), { w: w.buffer, Uw: U }, { K: p.K, Nout: p.Nout, w_off: w.offset }, grid1d((p.K * p.Nout) / 4, WG));
}

/** V = the transformed input tiles, [(m+2)², P, K]. */
export function runWinogradInput(p: WinogradProblem, x: WinogradOperand, V: GPUBuffer): void {
  const { TH, TW, P } = winogradTiles(p);
  const uniforms = { H: p.H, W: p.W, K4: p.K / 4, TH, TW, P, ph: p.ph, pw: p.pw, x_off4: x.offset / 4 };
  run(inputKernel(p.tile), { x: x.buffer, V }, uniforms, grid1d((P * p.K) / 4, WG));
}

/** y (dense NHWC [N, OH, OW, Nout]) from the products M ([(m+2)², P, Nout]), with the epilogue. */
export function runWinogradOutput(p: WinogradProblem, M: GPUBuffer, y: WinogradOperand, e: WinogradEpilogue): void {
  const { TH, TW, P } = winogradTiles(p);
  const [OH, OW] = winogradOutputSize(p);
  const uniforms = {
    OH, OW, N4: p.Nout / 4, TH, TW, P,
    y_off4: y.offset / 4, scale_off4: (e.scale?.offset ?? 0) / 4, bias_off4: (e.bias?.offset ?? 0) / 4, res_off4: (e.residual?.offset ?? 0) / 4,
  };
  // Buffers the epilogue does not use are not declared, so not bound.
  const buffers = { M, y: y.buffer, scale: e.scale?.buffer ?? M, bias: e.bias?.buffer ?? M, res: e.residual?.buffer ?? M };
  run(outputKernel(p.tile, e), buffers, uniforms, grid1d((P * p.Nout) / 4, WG));
}

/** The products M[ξ] = V[ξ] · U[ξ], ξ < (m+2)², as one batched GEMM; U in either layout. */
export function runWinogradProducts(p: WinogradProblem, V: GPUBuffer, U: GPUBuffer, M: GPUBuffer, uLayout: WinogradULayout, variant?: GemmVariant): void {
  const { P } = winogradTiles(p);
  const B = productsOf(p);
  // One batch dimension (the α² products): each operand's per-workgroup offset is one
  // modulo, not the five divisions of a rank-3 batch (lavapipe runs them lane by lane).
  const batch = (ld: number, stride: number) => ({ offset: 0, ld, batchShape: [B], batchStrides: [stride] });
  const b =
    uLayout === 'kn'
      ? stridedOperand('B', { contiguous: 'rows', batchRank: 1, vec4: true, mnMultipleOf4: true })
      : stridedOperand('B', { contiguous: 'cols', batchRank: 1, vec4: true });
  runGemm({
    name: 'winograd_products',
    M: P,
    N: p.Nout,
    K: p.K,
    batch: B,
    a: stridedOperand('A', { contiguous: 'rows', batchRank: 1, vec4: true }),
    b,
    c: stridedEpilogue({ batchRank: 1, vec4: true }),
    buffers: [V, V, U, U, M],
    params: {
      ...stridedParamValues('a', batch(p.K, P * p.K)),
      ...stridedParamValues('b', batch(uLayout === 'kn' ? p.Nout : p.K, p.K * p.Nout)),
      ...stridedParamValues('c', batch(p.Nout, P * p.Nout)),
    },
    variant,
  });
}

/**
 * The input transform a forward kept for its filter gradient: V of the same x, made with
 * `tile` (the backward checks it still picks that tile, in case the algorithm was forced
 * in between).
 */
export interface WinogradSavedInput {
  buffer: GPUBuffer;
  tile: WinogradTile;
}

/** Bytes of V, the transformed input tiles, for this problem. */
export const winogradInputBytes = (p: WinogradProblem): number => productsOf(p) * winogradTiles(p).P * p.K * 4;

/**
 * The whole convolution: weights and input transformed into pooled scratch buffers,
 * the products, the output transform with its epilogue. `flip` makes w the kernel of
 * the input gradient (w is always the layer's OHWI weight). With `keepV`, V goes into
 * the caller's buffer instead (winogradInputBytes(p) long), for the filter gradient.
 */
export function runWinogradConv(
  p: WinogradProblem,
  x: WinogradOperand,
  w: WinogradOperand,
  y: WinogradOperand,
  flip: boolean,
  e: WinogradEpilogue = {},
  variant?: GemmVariant,
  keepV?: GPUBuffer,
): void {
  const { P } = winogradTiles(p);
  const B = productsOf(p);
  const U = acquireBuffer(B * p.K * p.Nout * 4, 'winograd-U');
  const V = keepV ?? acquireBuffer(winogradInputBytes(p), 'winograd-V');
  const M = acquireBuffer(B * P * p.Nout * 4, 'winograd-M');
  runWinogradWeights(p, w, U, flip);
  runWinogradInput(p, x, V);
  runWinogradProducts(p, V, U, M, winogradULayout(flip), variant);
  runWinogradOutput(p, M, y, e);
  // Queue order protects them: later users of these buffers run after these dispatches.
  for (const b of keepV ? [U, M] : [U, V, M]) releaseBuffer(b);
}

/** dM = the transformed output-gradient tiles, [(m+2)², P, Nout], from dy (dense NHWC [N, OH, OW, Nout]). */
export function runWinogradGradOutput(p: WinogradProblem, dy: WinogradOperand, G: GPUBuffer): void {
  const { TH, TW, P } = winogradTiles(p);
  const [OH, OW] = winogradOutputSize(p);
  const uniforms = { OH, OW, N4: p.Nout / 4, TH, TW, P, dy_off4: dy.offset / 4 };
  run(gradOutputKernel(p.tile), { dy: dy.buffer, G }, uniforms, grid1d((P * p.Nout) / 4, WG));
}

/**
 * dU[ξ] = dM[ξ]ᵀ · V[ξ] ([(m+2)², Nout, K], the forward's U layout): one batched GEMM
 * whose reduction runs over the tiles.
 */
export function runWinogradGradProducts(p: WinogradProblem, V: GPUBuffer, G: GPUBuffer, dU: GPUBuffer, variant?: GemmVariant): void {
  const { P } = winogradTiles(p);
  const B = productsOf(p);
  // One batch dimension (the α² products): each operand's per-workgroup offset is one
  // modulo, not the five divisions of a rank-3 batch (lavapipe runs them lane by lane).
  const batch = (ld: number, stride: number) => ({ offset: 0, ld, batchShape: [B], batchStrides: [stride] });
  runGemm({
    name: 'winograd_grad_products',
    M: p.Nout,
    N: p.K,
    K: P,
    batch: B,
    // dM[ξ] is [P, Nout] row-major: read as its transpose (Nout × P), columns contiguous.
    a: stridedOperand('A', { contiguous: 'cols', batchRank: 1, vec4: true, mnMultipleOf4: true }),
    b: stridedOperand('B', { contiguous: 'rows', batchRank: 1, vec4: true, mnMultipleOf4: true }),
    c: stridedEpilogue({ batchRank: 1, vec4: true }),
    buffers: [G, G, V, V, dU],
    params: {
      ...stridedParamValues('a', batch(p.Nout, P * p.Nout)),
      ...stridedParamValues('b', batch(p.K, P * p.K)),
      ...stridedParamValues('c', batch(p.K, p.K * p.Nout)),
    },
    variant,
  });
}

/** dw (OHWI [Nout, 3, 3, K]) from dU ([(m+2)², Nout, K]). */
export function runWinogradGradWeights(p: WinogradProblem, dU: GPUBuffer, dw: GPUBuffer): void {
  run(gradWeightsKernel(p.tile), { dU, dw }, { K: p.K, Nout: p.Nout }, grid1d((p.K * p.Nout) / 4, WG));
}

/**
 * The filter gradient of the forward problem p: dw from its input x and output gradient
 * dy, or from V, x's input transform, when the forward kept it (one transform fewer).
 */
export function runWinogradFilterGrad(p: WinogradProblem, x: WinogradOperand, dy: WinogradOperand, dw: GPUBuffer, variant?: GemmVariant, savedV?: GPUBuffer): void {
  const { P } = winogradTiles(p);
  const B = productsOf(p);
  const V = savedV ?? acquireBuffer(winogradInputBytes(p), 'winograd-V');
  const G = acquireBuffer(B * P * p.Nout * 4, 'winograd-dM');
  const dU = acquireBuffer(B * p.K * p.Nout * 4, 'winograd-dU');
  if (!savedV) runWinogradInput(p, x, V);
  runWinogradGradOutput(p, dy, G);
  runWinogradGradProducts(p, V, G, dU, variant);
  runWinogradGradWeights(p, dU, dw);
  for (const b of savedV ? [G, dU] : [V, G, dU]) releaseBuffer(b);
}
