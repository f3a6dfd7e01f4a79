/**
 * The GEMM generator: every matrix-multiply-shaped kernel (matmul, and later conv
 * forward / backward-input / backward-filter through implicit-im2col hooks) is
 * C[b] = epilogue(A[b] · B[b]) with A: M×K, B: K×N, generated from caller hooks.
 *
 * Hooks (WGSL snippets, see `OperandHook` / `EpilogueHook`):
 *  - A:  fn loadA(base: u32, m: u32, k: u32) -> f32           (required)
 *        fn loadA4(base: u32, m: u32, k: u32) -> vec4<f32>     (optional: 4 elements along `vec4`)
 *        fn batchA(b: u32) -> u32                              (optional: per-batch base, default b)
 *        struct ARow, fn rowA(base: u32, m: u32) -> ARow, fn loadARow(r: ARow, k: u32) -> f32
 *        and (with vec4 'k') fn loadA4Row(r: ARow, k: u32) -> vec4<f32>  (optional, together:
 *        the row's share of the address math, e.g. an im2col pixel's divisions, done once per
 *        row outside the K loop by the subgroup variants; llvmpipe runs a division by a
 *        uniform one lane at a time, and it cannot hoist one out of a loop itself)
 *  - B:  fn loadB(base: u32, k: u32, n: u32) -> f32, loadB4, batchB — the same, for B.
 *  - C:  fn epilogue(base: u32, m: u32, n: u32, v: f32)        (required)
 *        fn epilogue4(base: u32, m: u32, n: u32, v: vec4<f32>) (optional: n..n+3)
 *        fn batchC(b: u32) -> u32                              (optional)
 * The generator only calls a load with in-range indices (m < M, k < K, n < N; all
 * four of a run for the *4 forms, whose run index is then a multiple of 4) and does
 * the zero padding itself, so hooks index freely (a conv hook still pads its own
 * image borders). Hooks read their uniform parameters as `u.<name>` and their
 * storage buffers by the names they declare. `batchX` is evaluated once per
 * workgroup, so per-batch address arithmetic stays out of the inner loop. The
 * epilogue sees each finished value exactly once (after all of K, also when the
 * uniform variant splits K over windows).
 *
 * A caller (see ops/matmul.ts for plain strided operands, kernels/gemm.test.ts for an
 * implicit-im2col one) passes `runGemm({ name, M, N, K, batch, a, b, c, buffers,
 * params })`: hooks, the buffers for their bindings in order (A's, B's, C's) and the
 * values of their uniform params by name. Names the generator uses itself, which hooks
 * must not declare: `u`, `bw`, `part`, `packed`, `sA`, `sB`, `accs`, `main`, `out4`, `ra0`…,
 * and the uniform fields M, N, K, batch, tilesN, tilesM, kBegin, kEnd, nBase, zBase,
 * mode, nAcc.
 *
 * Variants (`GemmVariant`), all computing the same thing:
 *  - 'portable':         64×64 workgroup tiles through workgroup memory, 4×4 register
 *                        blocking per thread; correct on every adapter.
 *  - 'subgroup':         one 8-lane subgroup per workgroup; each lane loads a different
 *                        vec4 of A and `subgroupBroadcast` shares it with the others; each
 *                        lane owns 32 rows × 4 columns (`SgTile`), B rows come from storage
 *                        as vec4. Built for lavapipe's cost model (every load is one
 *                        instruction per lane and component, a broadcast is ~free).
 *  - 'subgroup-uniform': the same, but B is first packed (by a kernel generated from
 *                        the B hook) into 64 KiB windows that the GEMM reads as a
 *                        UNIFORM buffer (branch-free loads on lavapipe); one dispatch per
 *                        window, K split across windows through a partial-sum buffer.
 * The subgroup variants assume a subgroup size of exactly 8 (lavapipe on AVX2); they
 * run only when the adapter reports subgroupMinSize === subgroupMaxSize === 8 (and the
 * optional probe, when run, saw 8). See `chooseGemmVariant`.
 *
 * Whatever changes the WGSL (variant, tile, hook code, layout flags) is the pipeline
 * cache key (getKernel keys by source); shapes and offsets travel in uniforms.
 */
import { gpu } from '../runtime/device.js';
import { TesseraError } from '../runtime/errors.js';
import { getKernel } from '../runtime/kernel.js';
import { dispatch, readBuffer, type BufferBinding } from '../runtime/queue.js';
import { noteGemm, tunedVariant } from './gemm-tuner.js';

// ---------------------------------------------------------------------------------------------
// Hook types

export interface HookBinding {
  name: string;
  /** WGSL storage type, default `array<f32>`. Read-only unless `write`. */
  type?: string;
  write?: boolean;
}

export interface HookParam {
  name: string;
  type?: 'u32' | 'i32' | 'f32';
}

export interface OperandHook {
  /** Storage buffers the hook reads, bound in this order (A's, then B's, then C's). */
  bindings: readonly HookBinding[];
  /** Uniform fields the hook reads as `u.<name>`; values go in `GemmCall.params`. */
  params?: readonly HookParam[];
  /** WGSL defining loadA/loadA4/batchA (for A) or loadB/loadB4/batchB (for B). */
  code: string;
  /** Along which dimension `loadX4` reads 4 elements: 'k', or 'mn' (m for A, n for B). */
  vec4?: 'k' | 'mn';
  /**
   * For `vec4: 'mn'`: whether M (for A) / N (for B) is a multiple of 4, so a run never
   * straddles the edge. Baked into the code; without it the subgroup variants do not
   * use the 'mn' runs and compose vec4s from scalar loads.
   */
  mnMultipleOf4?: boolean;
  /** Whether the matrix differs between batches (false lets packed B be shared). Default true. */
  batched?: boolean;
}

export interface EpilogueHook {
  bindings: readonly HookBinding[];
  params?: readonly HookParam[];
  /** WGSL defining epilogue/epilogue4/batchC. */
  code: string;
}

export type GemmVariant = 'portable' | 'subgroup' | 'subgroup-uniform';

export interface GemmCall {
  /** For kernel labels. */
  name: string;
  M: number;
  N: number;
  K: number;
  /** Number of independent products (grid z); hooks map b to addresses. */
  batch: number;
  a: OperandHook;
  b: OperandHook;
  c: EpilogueHook;
  /** Buffers for the hooks' bindings, in order: A's, B's, then C's. */
  buffers: (GPUBuffer | BufferBinding)[];
  /** Values of the hooks' uniform params, by name. */
  params?: Record<string, number>;
  /** Force a variant (tests, benchmarks); otherwise `chooseGemmVariant`. */
  variant?: GemmVariant;
}

// ---------------------------------------------------------------------------------------------
// Variant selection

/** The subgroup size the fast variants are written for. */
export const FAST_SUBGROUP_SIZE = 8;
const SG = FAST_SUBGROUP_SIZE;
/** 64 KiB of vec4s: one uniform window of packed B. */
const WINDOW_BYTES = 65536;
const WINDOW_VEC4 = WINDOW_BYTES / 16;

/**
 * Register tile of the subgroup variants: each lane owns `rm` rows × `4·cn` columns
 * (a subgroup tile is rm × 32·cn) and the K loop advances 4·ku per iteration (each
 * accumulator written once per iteration: llvmpipe blends every loop-carried write).
 */
export interface SgTile {
  rm: number;
  cn: number;
  ku: number;
}

let sgTile: SgTile = { rm: 32, cn: 1, ku: 1 };

/** Overrides the subgroup variants' register tile (benchmarks, tuning). Returns the previous one. */
export function setGemmTile(t: SgTile): SgTile {
  if (t.rm % SG !== 0 || t.rm < SG) throw new Error(`internal: gemm tile rows ${t.rm} must be a multiple of ${SG}`);
  const prev = sgTile;
  sgTile = { ...t };
  return prev;
}

export function gemmTile(): SgTile {
  return { ...sgTile };
}

/** Columns per subgroup tile. */
const tileN = (t: SgTile): number => 4 * SG * t.cn;
/** k rows per uniform window. */
const windowRows = (t: SgTile): number => WINDOW_VEC4 / (tileN(t) / 4);

let forced: GemmVariant | null = null;
let probed: number | null = null;

/** Forces one variant for every GEMM (tests, benchmarks); null restores automatic choice. */
export function setGemmVariant(v: GemmVariant | null): void {
  forced = v;
}

/** Why a variant cannot run on this adapter, or null when it can. */
export function gemmVariantUnsupported(v: GemmVariant): string | null {
  if (v === 'portable') return null;
  const ctx = gpu();
  if (!ctx.hasSubgroups) return 'the adapter has no subgroups feature';
  const { subgroupMinSize: lo, subgroupMaxSize: hi } = ctx.info;
  if (lo !== SG || hi !== SG) return `the subgroup size is ${lo}..${hi}, not exactly ${SG}`;
  if (probed !== null && probed !== SG) return `the probe kernel saw subgroup_size ${probed}, not ${SG}`;
  if (v === 'subgroup-uniform' && ctx.limits.maxUniformBufferBindingSize < WINDOW_BYTES) {
    return `maxUniformBufferBindingSize is ${ctx.limits.maxUniformBufferBindingSize} < ${WINDOW_BYTES}`;
  }
  return null;
}

/**
 * Dispatches a one-workgroup probe that records the subgroup size the fast variants
 * would really run with; if it differs from the adapter's claim they are disabled.
 * Optional (ops are synchronous and rely on the adapter info); returns the size seen.
 */
export async function probeGemmSubgroupSize(): Promise<number> {
  const ctx = gpu();
  if (!ctx.hasSubgroups) return (probed = 0);
  const code = `enable subgroups;
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(${SG})
fn main(@builtin(subgroup_size) sz: u32, @builtin(local_invocation_index) i: u32) {
  out[i] = sz;
}
`;
  const k = getKernel('gemm_probe_subgroup', code, false);
  const buf = ctx.device.createBuffer({ size: 4 * SG, usage: 0x80 | 0x4 | 0x8, label: 'gemm-probe' });
  dispatch(k, [buf], null, [1]);
  const data = new Uint32Array(await readBuffer(buf, 0, 4 * SG));
  buf.destroy();
  probed = data.every((v) => v === data[0]) ? data[0]! : -1;
  return probed;
}

/**
 * The default variant for a problem (calls the autotuner measured use its winner
 * instead, see gemm-tuner.ts): the forced one if set; else portable without a
 * (verified) subgroup size of 8; else the storage-B subgroup variant. (With 32 rows per
 * lane the B loads are amortised over enough rows that the packed uniform windows
 * measured no faster on lavapipe — 10.5 vs 10.4 GFLOP per CPU-second at 1024³ — while
 * costing a packing pass, more dispatches and a slower pipeline compile; the tuner
 * still picks them per call where they win.)
 */
export function chooseGemmVariant(_M: number, _N: number, _K: number, _batch: number, _bBatched: boolean): GemmVariant {
  if (forced) return forced;
  if (gemmVariantUnsupported('subgroup') !== null) return 'portable';
  return 'subgroup';
}

// ---------------------------------------------------------------------------------------------
// Code generation helpers

const has = (code: string, fn: string): boolean => new RegExp(`\\bfn\\s+${fn}\\s*\\(`).test(code);

interface Field {
  name: string;
  type: 'u32' | 'i32' | 'f32';
}

function structOf(fields: Field[]): string {
  return `struct U {\n${fields.map((f) => `  ${f.name}: ${f.type},`).join('\n')}\n}`;
}

function hookFields(call: { a: OperandHook; b: OperandHook; c: EpilogueHook }): Field[] {
  const out: Field[] = [];
  const seen = new Set<string>();
  for (const h of [call.a, call.b, call.c]) {
    for (const p of h.params ?? []) {
      if (seen.has(p.name)) throw new Error(`internal: gemm hook parameter ${p.name} declared twice`);
      seen.add(p.name);
      out.push({ name: p.name, type: p.type ?? 'u32' });
    }
  }
  return out;
}

function bindingDecls(hooks: { bindings: readonly HookBinding[] }[], first: number): { code: string; next: number } {
  let b = first;
  const lines: string[] = [];
  for (const h of hooks) {
    for (const x of h.bindings) {
      lines.push(`@group(0) @binding(${b++}) var<storage, ${x.write ? 'read_write' : 'read'}> ${x.name}: ${x.type ?? 'array<f32>'};`);
    }
  }
  return { code: lines.join('\n'), next: b };
}

/**
 * Statements that statically use every hook binding: 'auto' pipeline layouts drop
 * unused bindings, and a hook may declare one that a variant does not read (e.g. the
 * vec4 alias in the portable variant). arrayLength reads no memory.
 */
function touchBindings(hooks: { bindings: readonly HookBinding[] }[]): string {
  let s = '';
  for (const h of hooks) {
    for (const x of h.bindings) {
      const t = x.type ?? 'array<f32>';
      if (/^array<[^,]+>$/.test(t.replace(/<vec4<f32>>/, '<v>'))) s += `  _ = arrayLength(&${x.name});\n`;
    }
  }
  return s;
}

/** Defaults for the optional hook functions. */
function hookPrelude(a: OperandHook, b: OperandHook, c: EpilogueHook): string {
  let s = '';
  if (!has(a.code, 'batchA')) s += 'fn batchA(b: u32) -> u32 { return b; }\n';
  if (!has(b.code, 'batchB')) s += 'fn batchB(b: u32) -> u32 { return b; }\n';
  if (!has(c.code, 'batchC')) s += 'fn batchC(b: u32) -> u32 { return b; }\n';
  if (!has(c.code, 'epilogue4')) {
    s +=
      'fn epilogue4(base: u32, m: u32, n: u32, v: vec4<f32>) {\n' +
      '  epilogue(base, m, n, v.x); epilogue(base, m, n + 1u, v.y); epilogue(base, m, n + 2u, v.z); epilogue(base, m, n + 3u, v.w);\n}\n';
  }
  return s;
}

const GEN_FIELDS: Field[] = [
  { name: 'M', type: 'u32' },
  { name: 'N', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'batch', type: 'u32' },
  // Tile grid: tiles along n, tiles along m (flattened over x/y workgroups).
  { name: 'tilesN', type: 'u32' },
  { name: 'tilesM', type: 'u32' },
  // Subgroup-uniform only: K range and column base of this window, batch base, split-K mode.
  { name: 'kBegin', type: 'u32' },
  { name: 'kEnd', type: 'u32' },
  { name: 'nBase', type: 'u32' },
  { name: 'zBase', type: 'u32' },
  { name: 'mode', type: 'u32' },
  // Subgroup variants: accumulators per lane (rm·cn), as a runtime loop bound.
  { name: 'nAcc', type: 'u32' },
];

function fillUniforms(fields: Field[], values: Record<string, number>): Uint32Array {
  const words = Math.ceil(fields.length / 4) * 4;
  const buf = new ArrayBuffer(words * 4);
  const u32 = new Uint32Array(buf);
  const i32 = new Int32Array(buf);
  const f32 = new Float32Array(buf);
  fields.forEach((f, i) => {
    const v = values[f.name];
    if (v === undefined) throw new Error(`internal: gemm uniform ${f.name} has no value`);
    if (f.type === 'f32') f32[i] = v;
    else if (f.type === 'i32') i32[i] = v;
    else u32[i] = v;
  });
  return u32;
}

/** Workgroup grid for `tiles` flat tiles, folded into x/y (≤ maxComputeWorkgroupsPerDimension each). */
function tileGrid(tiles: number): [number, number] {
  const maxX = gpu().limits.maxComputeWorkgroupsPerDimension;
  if (tiles <= maxX) return [Math.max(1, tiles), 1];
  const y = Math.ceil(tiles / maxX);
  return [Math.ceil(tiles / y), y];
}

function checkBatchGrid(call: GemmCall, z: number): void {
  const maxZ = gpu().limits.maxComputeWorkgroupsPerDimension;
  if (z > maxZ) throw new TesseraError(`${call.name}: ${call.batch} batched products exceed the ${maxZ} the device dispatches at once`);
}

// ---------------------------------------------------------------------------------------------
// Portable variant: 64×64 tiles through workgroup memory, 4×4 per thread.

const P_T = 16; // threads per side
const P_R = 4; // outputs per thread per side
const P_B = P_T * P_R; // 64
const P_K = 16;

function genPortable(call: GemmCall): { code: string; fields: Field[] } {
  const fields = [...GEN_FIELDS, ...hookFields(call)];
  const decl = bindingDecls([call.a, call.b, call.c], 1);
  const loadsPerThread = (P_B * P_K) / (P_T * P_T);
  let accDecl = '';
  let fma = '';
  let epi = '';
  for (let i = 0; i < P_R; i++) {
    for (let j = 0; j < P_R; j++) accDecl += `  var c${i}_${j} = 0.0;\n`;
  }
  for (let i = 0; i < P_R; i++) fma += `      let a${i} = sA[kk * ${P_B}u + ly + ${i * P_T}u];\n`;
  for (let j = 0; j < P_R; j++) fma += `      let b${j} = sB[kk * ${P_B}u + lx + ${j * P_T}u];\n`;
  for (let i = 0; i < P_R; i++) {
    for (let j = 0; j < P_R; j++) fma += `      c${i}_${j} = c${i}_${j} + a${i} * b${j};\n`;
  }
  // Through an array and a loop with a uniform trip count (see genSubgroup's store).
  epi += `  var accs: array<f32, ${P_R * P_R}>;\n`;
  for (let i = 0; i < P_R; i++) for (let j = 0; j < P_R; j++) epi += `  accs[${i * P_R + j}] = c${i}_${j};\n`;
  epi += `  for (var i = 0u; i < u.nAcc; i++) {
    let m = m0 + ly + (i / ${P_R}u) * ${P_T}u;
    let n = n0 + lx + (i % ${P_R}u) * ${P_T}u;
    if (m < u.M && n < u.N) { epilogue(cB, m, n, accs[i]); }
  }
`;
  let loads = '';
  for (let i = 0; i < loadsPerThread; i++) {
    loads += `    { let e = tid + ${i * P_T * P_T}u; let mm = e % ${P_B}u; let kk = e / ${P_B}u;
      let gm = m0 + mm; let gk = k0 + kk;
      let v = loadA(aB, min(gm, u.M - 1u), min(gk, u.K - 1u));
      sA[kk * ${P_B}u + mm] = select(0.0, v, gm < u.M && gk < u.K); }
    { let e = tid + ${i * P_T * P_T}u; let nn = e % ${P_B}u; let kk = e / ${P_B}u;
      let gn = n0 + nn; let gk = k0 + kk;
      let v = loadB(bB, min(gk, u.K - 1u), min(gn, u.N - 1u));
      sB[kk * ${P_B}u + nn] = select(0.0, v, gn < u.N && gk < u.K); }
`;
  }
  const code = `// gemm ${call.name} (portable: ${P_B}x${P_B} tile, ${P_R}x${P_R} per thread, k-step ${P_K})
${structOf(fields)}
@group(0) @binding(0) var<uniform> u: U;
${decl.code}
${call.a.code}
${call.b.code}
${call.c.code}
${hookPrelude(call.a, call.b, call.c)}
var<workgroup> sA: array<f32, ${P_B * P_K}>;
var<workgroup> sB: array<f32, ${P_B * P_K}>;
@compute @workgroup_size(${P_T}, ${P_T})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${touchBindings([call.a, call.b, call.c])}  let tile = wid.y * nwg.x + wid.x;
  if (tile >= u.tilesN * u.tilesM) { return; }
  let n0 = (tile % u.tilesN) * ${P_B}u;
  let m0 = (tile / u.tilesN) * ${P_B}u;
  let zb = wid.z;
  let aB = batchA(zb); let bB = batchB(zb); let cB = batchC(zb);
  let lx = lid.x; let ly = lid.y;
  let tid = ly * ${P_T}u + lx;
${accDecl}  for (var k0 = 0u; k0 < u.K; k0 += ${P_K}u) {
${loads}    workgroupBarrier();
    for (var kk = 0u; kk < ${P_K}u; kk++) {
${fma}    }
    workgroupBarrier();
  }
${epi}}
`;
  return { code, fields };
}

function runPortable(call: GemmCall): void {
  const { code, fields } = genPortable(call);
  const kernel = getKernel(`gemm_${call.name}_portable`, code);
  const tilesN = Math.ceil(call.N / P_B);
  const tilesM = Math.ceil(call.M / P_B);
  checkBatchGrid(call, call.batch);
  const uni = fillUniforms(fields, { ...genValues(call), tilesN, tilesM, nAcc: P_R * P_R, ...(call.params ?? {}) });
  const [x, y] = tileGrid(tilesN * tilesM);
  dispatch(kernel, call.buffers, uni, [x, y, call.batch]);
}

function genValues(call: GemmCall): Record<string, number> {
  return {
    M: call.M, N: call.N, K: call.K, batch: call.batch, tilesN: 0, tilesM: 0,
    kBegin: 0, kEnd: call.K, nBase: 0, zBase: 0, mode: 0, nAcc: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Subgroup variants

interface SgGen {
  t: SgTile;
  /** B comes from a packed uniform window instead of the B hook. */
  uniformB: boolean;
}

/** k expression of chunk `c` (4 wide) inside an iteration. */
const kAt = (c: number): string => (c === 0 ? 'k' : `k + ${4 * c}u`);

/**
 * A for chunk `c`: each lane loads rm/8 vec4 runs of A (different ones), then every
 * run is broadcast to all lanes. `at(r, kk)` is the broadcast value A[m0 + r, k + 4c + kk].
 */
function aChunk(a: OperandHook, t: SgTile, c: number): { code: string; at: (r: number, kk: number) => string } {
  const regs = t.rm / SG;
  const k0 = kAt(c);
  let code = '';
  let at: (r: number, kk: number) => string;
  if (a.vec4 === 'mn' && a.mnMultipleOf4) {
    // Runs along m: run j = kk * (rm/4) + g (rows m0+4g..m0+4g+3 at k + kk) sits in lane j % 8, register j / 8.
    for (let i = 0; i < regs; i++) code += `    let ar${c}_${i} = loadA4(aB, mq${i}, ${k0} + kq${i});\n`;
    at = (r, kk) => {
      const j = kk * (t.rm / 4) + Math.floor(r / 4);
      return `ab${c}_${Math.floor(j / SG)}_${j % SG}[${r % 4}]`;
    };
  } else {
    // Runs along k: register i of lane l holds A[m0 + 8i + l, k..k+3].
    for (let i = 0; i < regs; i++) {
      if (a.vec4 === 'k') {
        code += `    let ar${c}_${i} = ${rowForm(a) ? `loadA4Row(ra${i}, ${k0})` : `loadA4(aB, mr${i}, ${k0})`};\n`;
      } else {
        code += `    let ar${c}_${i} = vec4<f32>(${[0, 1, 2, 3].map((q) => loadAOne(a, i, `${k0} + ${q}u`)).join(', ')});\n`;
      }
    }
    at = (r, kk) => `ab${c}_${Math.floor(r / SG)}_${r % SG}[${kk}]`;
  }
  for (let i = 0; i < regs; i++) {
    for (let l = 0; l < SG; l++) code += `    let ab${c}_${i}_${l} = subgroupBroadcast(ar${c}_${i}, ${l}u);\n`;
  }
  return { code, at };
}

/** Whether the subgroup variants read A through the hook's per-row form (rowA + loadARow). */
function rowForm(a: OperandHook): boolean {
  if (!has(a.code, 'rowA') || !has(a.code, 'loadARow')) return false;
  if (a.vec4 === 'mn' && a.mnMultipleOf4) return false;
  if (a.vec4 === 'k' && !has(a.code, 'loadA4Row')) throw new Error('internal: a vec4 A hook with rowA must define loadA4Row');
  return true;
}

/** One element A[row register i, kExpr], through the row form when the hook has one. */
function loadAOne(a: OperandHook, i: number, kExpr: string): string {
  return rowForm(a) ? `loadARow(ra${i}, ${kExpr})` : `loadA(aB, mr${i}, ${kExpr})`;
}

/** The per-workgroup values aChunk/bChunk index with (hoisted out of the K loop). */
function sgPrologue(a: OperandHook, b: OperandHook, t: SgTile, uniformB: boolean): string {
  let s = '';
  const regs = t.rm / SG;
  for (let i = 0; i < regs; i++) s += `  let mr${i} = min(m0 + ${i * SG}u + lane, u.M - 1u);\n`;
  if (rowForm(a)) for (let i = 0; i < regs; i++) s += `  let ra${i} = rowA(aB, mr${i});\n`;
  if (a.vec4 === 'mn' && a.mnMultipleOf4) {
    for (let i = 0; i < regs; i++) {
      s += `  let mq${i} = min(m0 + 4u * ((${i * SG}u + lane) % ${t.rm / 4}u), u.M - 4u);\n`;
      s += `  let kq${i} = (${i * SG}u + lane) / ${t.rm / 4}u;\n`;
    }
  }
  for (let c = 0; c < t.cn; c++) {
    s += `  let n${c} = n + ${c * 4 * SG}u;\n`;
    if (uniformB) continue;
    if (b.vec4 === 'mn' && b.mnMultipleOf4) s += `  let nv${c} = min(n${c}, u.N - 4u);\n`;
    for (let q = 0; q < 4; q++) s += `  let nq${c}_${q} = min(n${c} + ${q}u, u.N - 1u);\n`;
  }
  return s;
}

/** B for chunk `c` from storage: b{c}_{kk}_{j} = B[k + 4c + kk, n_j..n_j+3]. */
function bChunk(b: OperandHook, t: SgTile, c: number): string {
  const k0 = kAt(c);
  let s = '';
  for (let j = 0; j < t.cn; j++) {
    const cols = (kExpr: string) => [0, 1, 2, 3].map((q) => `loadB(bB, ${kExpr}, nq${j}_${q})`).join(', ');
    if (b.vec4 === 'mn' && b.mnMultipleOf4) {
      for (let kk = 0; kk < 4; kk++) s += `    let b${c}_${kk}_${j} = loadB4(bB, ${k0} + ${kk}u, nv${j});\n`;
    } else if (b.vec4 === 'k') {
      // Four runs down k (one per column), transposed in registers.
      for (let q = 0; q < 4; q++) s += `    let t${c}_${j}_${q} = loadB4(bB, ${k0}, nq${j}_${q});\n`;
      for (let kk = 0; kk < 4; kk++) {
        s += `    let b${c}_${kk}_${j} = vec4<f32>(t${c}_${j}_0[${kk}], t${c}_${j}_1[${kk}], t${c}_${j}_2[${kk}], t${c}_${j}_3[${kk}]);\n`;
      }
    } else {
      for (let kk = 0; kk < 4; kk++) s += `    let b${c}_${kk}_${j} = vec4<f32>(${cols(`${k0} + ${kk}u`)});\n`;
    }
  }
  return s;
}

/** B for chunk `c` from the uniform window (rows are k, WN/4 vec4 per row; lane's column j at j*8 + lane). */
function bChunkUniform(t: SgTile, c: number): string {
  const rowVec4 = tileN(t) / 4;
  let s = '';
  for (let j = 0; j < t.cn; j++) {
    for (let kk = 0; kk < 4; kk++) s += `    let b${c}_${kk}_${j} = bw[wi + ${(4 * c + kk) * rowVec4 + j * SG}u];\n`;
  }
  return s;
}

/** One loop iteration over `chunks` k-chunks: loads, broadcasts, and one write per accumulator. */
function sgBlock(call: GemmCall, g: SgGen, chunks: number): string {
  const { t } = g;
  let s = '';
  const ats: ((r: number, kk: number) => string)[] = [];
  for (let c = 0; c < chunks; c++) {
    const a = aChunk(call.a, t, c);
    s += a.code;
    ats.push(a.at);
    s += g.uniformB ? bChunkUniform(t, c) : bChunk(call.b, t, c);
  }
  for (let r = 0; r < t.rm; r++) {
    for (let j = 0; j < t.cn; j++) {
      const terms: string[] = [];
      for (let c = 0; c < chunks; c++) for (let kk = 0; kk < 4; kk++) terms.push(`${ats[c]!(r, kk)} * b${c}_${kk}_${j}`);
      s += `    acc${r}_${j} = acc${r}_${j} + ${terms.join(' + ')};\n`;
    }
  }
  return s;
}

/** The K remainder (< 4), one k per iteration: scalar A broadcast per row, one vec4 of B per column group. */
function sgTail(call: GemmCall, g: SgGen): string {
  const { t } = g;
  let s = '';
  for (let i = 0; i < t.rm / SG; i++) {
    s += `    let as${i} = ${loadAOne(call.a, i, 'k')};\n`;
    for (let l = 0; l < SG; l++) s += `    let xs${i}_${l} = subgroupBroadcast(as${i}, ${l}u);\n`;
  }
  for (let j = 0; j < t.cn; j++) {
    s += g.uniformB
      ? `    let bs${j} = bw[wi + ${j * SG}u];\n`
      : `    let bs${j} = vec4<f32>(${[0, 1, 2, 3].map((q) => `loadB(bB, k, nq${j}_${q})`).join(', ')});\n`;
  }
  for (let r = 0; r < t.rm; r++) {
    for (let j = 0; j < t.cn; j++) s += `    acc${r}_${j} = acc${r}_${j} + xs${Math.floor(r / SG)}_${r % SG} * bs${j};\n`;
  }
  return s;
}

function genSubgroup(call: GemmCall, g: SgGen): { code: string; fields: Field[] } {
  const { t, uniformB } = g;
  const WN = tileN(t);
  const fields = [...GEN_FIELDS, ...hookFields(call)];
  // With packed B the B hook is only used by the pack kernel: its bindings are left out here.
  const hooks = uniformB ? [call.a, call.c] : [call.a, call.b, call.c];
  const decl = bindingDecls(hooks, 1);
  let extra = '';
  if (uniformB) {
    extra += `@group(0) @binding(${decl.next}) var<uniform> bw: array<vec4<f32>, ${WINDOW_VEC4}>;\n`;
    extra += `@group(0) @binding(${decl.next + 1}) var<storage, read_write> part: array<vec4<f32>>;\n`;
  }
  let accDecl = '';
  for (let r = 0; r < t.rm; r++) for (let j = 0; j < t.cn; j++) accDecl += `  var acc${r}_${j} = vec4<f32>(0.0);\n`;
  const ks = 4 * t.ku;
  const adv = (kStep: number) => `    k += ${kStep}u;${uniformB ? ` wi += ${kStep * (WN / 4)}u;` : ''}\n`;
  let loop = `  loop {\n    if (k + ${ks}u > kEnd) { break; }\n${sgBlock(call, g, t.ku)}${adv(ks)}  }\n`;
  if (t.ku > 1) loop += `  if (k + 4u <= kEnd) {\n${sgBlock(call, g, 1)}${adv(4)}  }\n`;
  loop += `  loop {\n    if (k >= kEnd) { break; }\n${sgTail(call, g)}    k += 1u;${uniformB ? ` wi += ${WN / 4}u;` : ''}\n  }\n`;
  // The accumulators go through a private array so the epilogue (and split-K) code is emitted
  // once, in a loop: unrolled 32 times it made llvmpipe's compile 20x slower.
  const nAcc = t.rm * t.cn;
  let gather = `  var accs: array<vec4<f32>, ${nAcc}>;\n`;
  for (let r = 0; r < t.rm; r++) for (let j = 0; j < t.cn; j++) gather += `  accs[${r * t.cn + j}] = acc${r}_${j};\n`;
  let partial = '';
  if (uniformB) {
    // Split-K over windows: mode 1 writes the partial sums, 2 adds to them, 3 adds them and runs the epilogue.
    partial = `  if (u.mode != 0u) {
    let pz = wid.z * u.tilesM * ${t.rm}u + m0;
    for (var i = 0u; i < u.nAcc; i++) {
      let p = (pz + i / ${t.cn}u) * ${WN / 4}u + (i % ${t.cn}u) * ${SG}u + lane;
      if (u.mode == 1u) { part[p] = accs[i]; } else { let v = accs[i] + part[p]; accs[i] = v; if (u.mode == 2u) { part[p] = v; } }
    }
    if (u.mode != 3u) { return; }
  }
`;
  }
  // The trip count comes from a uniform (always nAcc): with a literal bound LLVM unrolls
  // the loop and a fused epilogue (bias, residual, ReLU) took llvmpipe ~30 s to compile.
  const store = `  for (var i = 0u; i < u.nAcc; i++) {
    let m = m0 + i / ${t.cn}u;
    if (m < u.M) { out4(cB, m, n + (i % ${t.cn}u) * ${4 * SG}u, accs[i]); }
  }
`;
  const desc = `${uniformB ? 'subgroup-uniform' : 'subgroup'}: ${SG} lanes x ${t.rm} rows x ${4 * t.cn} cols, k step ${ks}, A ${call.a.vec4 ?? 'scalar'}${call.a.vec4 === 'mn' && call.a.mnMultipleOf4 ? '4' : ''}, B ${uniformB ? 'packed' : (call.b.vec4 ?? 'scalar') + (call.b.vec4 === 'mn' && call.b.mnMultipleOf4 ? '4' : '')}`;
  const code = `// gemm ${call.name} (${desc})
enable subgroups;
${structOf(fields)}
@group(0) @binding(0) var<uniform> u: U;
${decl.code}
${extra}${call.a.code}
${uniformB ? '' : call.b.code}
${call.c.code}
${hookPrelude(call.a, uniformB ? { ...call.b, code: '' } : call.b, call.c)}
fn out4(cB: u32, m: u32, n: u32, v: vec4<f32>) {
  if (n + 4u <= u.N) { epilogue4(cB, m, n, v); return; }
  if (n < u.N) { epilogue(cB, m, n, v.x); }
  if (n + 1u < u.N) { epilogue(cB, m, n + 1u, v.y); }
  if (n + 2u < u.N) { epilogue(cB, m, n + 2u, v.z); }
}
@compute @workgroup_size(${SG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
${touchBindings(hooks)}  let tile = wid.y * nwg.x + wid.x;
  if (tile >= u.tilesN * u.tilesM) { return; }
  let n = u.nBase + (tile % u.tilesN) * ${WN}u + 4u * lane;
  let m0 = (tile / u.tilesN) * ${t.rm}u;
  let zb = u.zBase + wid.z;
  let aB = batchA(zb); let bB = batchB(zb); let cB = batchC(zb);
  let kEnd = u.kEnd;
${sgPrologue(call.a, call.b, t, uniformB)}${accDecl}  var k = u.kBegin;
${uniformB ? '  var wi = lane;\n' : ''}${loop}${gather}${partial}${store}}
`;
  return { code, fields };
}

function runSubgroup(call: GemmCall, t: SgTile): void {
  const { code, fields } = genSubgroup(call, { t, uniformB: false });
  const kernel = getKernel(`gemm_${call.name}_subgroup`, code);
  const tilesN = Math.ceil(call.N / tileN(t));
  const tilesM = Math.ceil(call.M / t.rm);
  checkBatchGrid(call, call.batch);
  const uni = fillUniforms(fields, { ...genValues(call), tilesN, tilesM, nAcc: t.rm * t.cn, ...(call.params ?? {}) });
  const [x, y] = tileGrid(tilesN * tilesM);
  dispatch(kernel, call.buffers, uni, [x, y, call.batch]);
}

// ---------------------------------------------------------------------------------------------
// Packing B into uniform windows

/** Scratch buffers owned by the generator (packed B, split-K partials), reused across calls. */
const scratch = new Map<string, GPUBuffer>();

function scratchBuffer(role: string, bytes: number, usage: number): GPUBuffer {
  const have = scratch.get(role);
  if (have && have.size >= bytes) return have;
  // Commands already encoded still reference the old buffer (bind groups keep it alive); it is
  // dropped, not destroyed, so they run normally.
  const size = Math.max(bytes, Math.ceil((have?.size ?? 0) * 1.25), 1 << 16);
  const buf = gpu().device.createBuffer({ size: Math.ceil(size / 256) * 256, usage, label: `gemm-${role}` });
  scratch.set(role, buf);
  return buf;
}

/** Forgets the generator's scratch buffers (re-created on demand). */
export function trimGemmScratch(): void {
  scratch.clear();
}

interface PackLayout {
  kWindows: number;
  kPerWindow: number;
  nBlocks: number;
  /** Batches packed (1 when B is shared). */
  batches: number;
}

function packLayout(call: GemmCall, t: SgTile): PackLayout {
  const kWindows = Math.ceil(call.K / windowRows(t));
  // Balance the windows and keep each a multiple of 4 rows.
  const kPerWindow = Math.ceil(call.K / kWindows / 4) * 4;
  return { kWindows, kPerWindow, nBlocks: Math.ceil(call.N / tileN(t)), batches: call.b.batched === false ? 1 : call.batch };
}

function genPack(call: GemmCall, t: SgTile): { code: string; fields: Field[] } {
  const WN = tileN(t);
  const fields: Field[] = [
    { name: 'K', type: 'u32' },
    { name: 'N', type: 'u32' },
    { name: 'kWindows', type: 'u32' },
    { name: 'kPerWindow', type: 'u32' },
    { name: 'nBlocks', type: 'u32' },
    { name: 'total', type: 'u32' },
    ...(call.b.params ?? []).map((p) => ({ name: p.name, type: p.type ?? 'u32' }) as Field),
  ];
  const decl = bindingDecls([call.b], 1);
  const code = `// gemm ${call.name}: pack B into ${WINDOW_BYTES}-byte uniform windows of ${WN} columns
${structOf(fields)}
@group(0) @binding(0) var<uniform> u: U;
${decl.code}
@group(0) @binding(${decl.next}) var<storage, read_write> packed: array<vec4<f32>>;
${call.b.code}
${has(call.b.code, 'batchB') ? '' : 'fn batchB(b: u32) -> u32 { return b; }'}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${touchBindings([call.b])}  // One thread per packed vec4 (window rows beyond kPerWindow are never read).
  let i = (wid.y * nwg.x + wid.x) * 256u + lid.x;
  if (i >= u.total) { return; }
  let c4 = i % ${WN / 4}u;
  var r = i / ${WN / 4}u;
  let kl = r % u.kPerWindow; r = r / u.kPerWindow;
  let kw = r % u.kWindows; r = r / u.kWindows;
  let nb = r % u.nBlocks; let bb = r / u.nBlocks;
  let window = (bb * u.nBlocks + nb) * u.kWindows + kw;
  let k = kw * u.kPerWindow + kl;
  let n = nb * ${WN}u + 4u * c4;
  let base = batchB(bb);
  var v = vec4<f32>(0.0);
  if (k < u.K) {
    v = vec4<f32>(
      select(0.0, loadB(base, k, min(n, u.N - 1u)), n < u.N),
      select(0.0, loadB(base, k, min(n + 1u, u.N - 1u)), n + 1u < u.N),
      select(0.0, loadB(base, k, min(n + 2u, u.N - 1u)), n + 2u < u.N),
      select(0.0, loadB(base, k, min(n + 3u, u.N - 1u)), n + 3u < u.N));
  }
  packed[window * ${WINDOW_VEC4}u + kl * ${WN / 4}u + c4] = v;
}
`;
  return { code, fields };
}

function runSubgroupUniform(call: GemmCall, t: SgTile): void {
  const L = packLayout(call, t);
  const WN = tileN(t);
  const windows = L.batches * L.nBlocks * L.kWindows;
  const packed = scratchBuffer('packed-b', windows * WINDOW_BYTES, 0x40 /* UNIFORM */ | 0x80 /* STORAGE */);
  const nA = call.a.bindings.length;
  const nB = call.b.bindings.length;
  {
    const { code, fields } = genPack(call, t);
    const kernel = getKernel(`gemm_${call.name}_pack`, code);
    const total = windows * L.kPerWindow * (WN / 4);
    const uni = fillUniforms(fields, { K: call.K, N: call.N, ...L, total, ...(call.params ?? {}) });
    dispatch(kernel, [...call.buffers.slice(nA, nA + nB), packed], uni, tileGrid(Math.ceil(total / 256)));
  }
  const { code, fields } = genSubgroup(call, { t, uniformB: true });
  const kernel = getKernel(`gemm_${call.name}_subgroup_uniform`, code);
  const tilesM = Math.ceil(call.M / t.rm);
  const zPer = L.batches === 1 ? call.batch : 1;
  checkBatchGrid(call, zPer);
  const part = scratchBuffer('partial', L.kWindows > 1 ? zPer * tilesM * t.rm * WN * 4 : 16, 0x80 /* STORAGE */);
  const [x, y] = tileGrid(tilesM);
  const rest = [...call.buffers.slice(0, nA), ...call.buffers.slice(nA + nB)];
  for (let bb = 0; bb < L.batches; bb++) {
    for (let nb = 0; nb < L.nBlocks; nb++) {
      for (let kw = 0; kw < L.kWindows; kw++) {
        const window = (bb * L.nBlocks + nb) * L.kWindows + kw;
        const kBegin = kw * L.kPerWindow;
        const kEnd = Math.min(call.K, kBegin + L.kPerWindow);
        const mode = L.kWindows === 1 ? 0 : kw === 0 ? 1 : kw === L.kWindows - 1 ? 3 : 2;
        const uni = fillUniforms(fields, {
          ...genValues(call),
          tilesN: 1,
          tilesM,
          kBegin,
          kEnd,
          nBase: nb * WN,
          zBase: L.batches === 1 ? 0 : bb,
          mode,
          nAcc: t.rm * t.cn,
          ...(call.params ?? {}),
        });
        dispatch(kernel, [...rest, { buffer: packed, offset: window * WINDOW_BYTES, size: WINDOW_BYTES }, part], uni, [x, y, zPer]);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point

/** Encodes C = epilogue(A·B) for every batch. Synchronous (only encodes dispatches). */
export function runGemm(call: GemmCall): GemmVariant {
  if (call.M < 1 || call.N < 1 || call.K < 1 || call.batch < 1) {
    throw new Error(`internal: gemm ${call.name} with empty shape ${call.M}x${call.N}x${call.K} (batch ${call.batch})`);
  }
  if (!call.variant) noteGemm(call);
  const v = call.variant ?? (forced ? null : tunedVariant(call)) ?? chooseGemmVariant(call.M, call.N, call.K, call.batch, call.b.batched !== false);
  const why = gemmVariantUnsupported(v);
  if (why) throw new TesseraError(`${call.name}: the GEMM variant '${v}' cannot run on this adapter: ${why}`);
  if (v === 'portable') runPortable(call);
  else if (v === 'subgroup') runSubgroup(call, sgTile);
  else runSubgroupUniform(call, sgTile);
  return v;
}

/** The WGSL a call would compile to (for inspection and tests). */
export function gemmSource(call: GemmCall, variant: GemmVariant): string {
  if (variant === 'portable') return genPortable(call).code;
  return genSubgroup(call, { t: sgTile, uniformB: variant === 'subgroup-uniform' }).code;
}

// ---------------------------------------------------------------------------------------------
// Default hooks: plain strided matrices (batched by up to MAX_BATCH_RANK coalesced dims).

export const MAX_BATCH_RANK = 3;

export interface StridedLayout {
  /**
   * 'rows': the second index (k for A, n for B) is contiguous (stride 1); 'cols': the
   * first index (m for A, k for B) is. Baked into the code.
   */
  contiguous: 'rows' | 'cols';
  /** Number of batch dims (after coalescing); baked. */
  batchRank: number;
  /** Bind the buffer a second time as array<vec4<f32>> (offset, leading dim and batch strides all multiples of 4). */
  vec4: boolean;
  /** M (for A) / N (for B) is a multiple of 4: lets vec4 runs along m / n be used (see OperandHook). */
  mnMultipleOf4?: boolean;
}

/** Uniform values of a strided operand: element offset, leading dimension, batch shape and strides. */
export interface StridedValues {
  offset: number;
  ld: number;
  batchShape: readonly number[];
  batchStrides: readonly number[];
}

function batchOffsetCode(p: string, rank: number): string {
  let s = `  var r = b; var o = u.${p}_off;\n`;
  for (let d = rank - 1; d >= 0; d--) {
    s += `  o += (r % u.${p}_bsh${d}) * u.${p}_bst${d};${d > 0 ? ` r = r / u.${p}_bsh${d};` : ''}\n`;
  }
  return s + '  return o;\n';
}

function stridedParams(p: string, rank: number): HookParam[] {
  const out: HookParam[] = [{ name: `${p}_off` }, { name: `${p}_ld` }];
  for (let d = 0; d < rank; d++) out.push({ name: `${p}_bsh${d}` }, { name: `${p}_bst${d}` });
  return out;
}

/** Values for `stridedParams`, keyed like the params. */
export function stridedParamValues(p: string, v: StridedValues): Record<string, number> {
  const out: Record<string, number> = { [`${p}_off`]: v.offset, [`${p}_ld`]: v.ld };
  v.batchShape.forEach((s, d) => {
    out[`${p}_bsh${d}`] = s;
    out[`${p}_bst${d}`] = v.batchStrides[d]!;
  });
  return out;
}

/**
 * A hook reading A (role 'A', element (m, k)) or B (role 'B', element (k, n)) from a
 * strided buffer named `<p>` (and `<p>4` for vec4 loads). With `contiguous: 'rows'`
 * element (i, j) is at base + i*ld + j; with 'cols' at base + j*ld + i — a transposed
 * operand read in place.
 */
export function stridedOperand(role: 'A' | 'B', layout: StridedLayout, batched = true): OperandHook {
  const p = role === 'A' ? 'a' : 'b';
  const [i, j] = role === 'A' ? ['m', 'k'] : ['k', 'n'];
  const idx = layout.contiguous === 'rows' ? `base + ${i} * u.${p}_ld + ${j}` : `base + ${j} * u.${p}_ld + ${i}`;
  const bindings: HookBinding[] = [{ name: p }];
  let code = `fn batch${role}(b: u32) -> u32 {\n${batchOffsetCode(p, layout.batchRank)}}
fn load${role}(base: u32, ${i}: u32, ${j}: u32) -> f32 { return ${p}[${idx}]; }
`;
  let vec4: 'k' | 'mn' | undefined;
  if (layout.vec4) {
    bindings.push({ name: `${p}4`, type: 'array<vec4<f32>>' });
    code += `fn load${role}4(base: u32, ${i}: u32, ${j}: u32) -> vec4<f32> { return ${p}4[(${idx}) >> 2u]; }\n`;
    // 'rows' runs along the second index (k for A, n for B); 'cols' along the first (m for A, k for B).
    vec4 = layout.contiguous === 'rows' ? (role === 'A' ? 'k' : 'mn') : role === 'A' ? 'mn' : 'k';
  }
  return {
    bindings,
    params: stridedParams(p, layout.batchRank),
    code,
    vec4,
    mnMultipleOf4: vec4 === 'mn' ? !!layout.mnMultipleOf4 : undefined,
    batched,
  };
}

export interface EpilogueOptions {
  batchRank: number;
  /** Add bias[n] (binding `bias`, param bias_off). */
  bias?: boolean;
  /** Add residual[b, m, n] read with the output's strides (binding `res`, param res_off). */
  residual?: boolean;
  /** Multiply v by scale[n] first (binding `scale`, param scale_off): a BatchNorm folded in eval mode. */
  scale?: boolean;
  relu?: boolean;
  /** LeakyReLU with this negative slope instead of ReLU (baked into the code). */
  leaky?: number;
  /** Add into the existing output instead of overwriting it (split-K / gradient accumulation). */
  accumulate?: boolean;
  /** Bind the output as array<vec4<f32>> too (offset, ldc, batch strides multiples of 4). */
  vec4?: boolean;
}

/**
 * The default epilogue: out[base + m*c_ld + n] = act(v·scale[n] + bias[n] + residual) (or +=),
 * act = ReLU, LeakyReLU or none. Buffers: `c` (read_write), then `bias`, `res`, `scale` when enabled.
 */
export function stridedEpilogue(o: EpilogueOptions): EpilogueHook {
  const bindings: HookBinding[] = [{ name: o.vec4 ? 'c4' : 'c', type: o.vec4 ? 'array<vec4<f32>>' : 'array<f32>', write: true }];
  const params = stridedParams('c', o.batchRank);
  if (o.bias) {
    bindings.push({ name: 'bias' });
    params.push({ name: 'bias_off' });
  }
  if (o.residual) {
    bindings.push({ name: 'res' });
    params.push({ name: 'res_off' });
  }
  if (o.scale) {
    bindings.push({ name: 'scale' });
    params.push({ name: 'scale_off' });
  }
  const value = (t: string, v: string, idx: string, n: string): string => {
    let e = v;
    const load = (buf: string, i: string) =>
      t === 'f32' ? `${buf}[${i}]` : `vec4<f32>(${buf}[${i}], ${buf}[${i} + 1u], ${buf}[${i} + 2u], ${buf}[${i} + 3u])`;
    if (o.scale) e = `${e} * ${load('scale', `u.scale_off + ${n}`)}`;
    if (o.bias) e = `${e} + ${load('bias', `u.bias_off + ${n}`)}`;
    if (o.residual) e = `${e} + ${load('res', `u.res_off - u.c_off + ${idx}`)}`;
    return e;
  };
  const act = (t: string, z: string): string =>
    o.leaky !== undefined ? `select(${t}(${o.leaky}) * ${z}, ${z}, ${z} > ${t}(0.0))` : o.relu ? `select(${z}, ${t}(0.0), ${z} < ${t}(0.0))` : z; // not max(z, 0): drivers may drop a NaN
  const cRead = o.vec4 ? 'c4[i >> 2u][i & 3u]' : 'c[i]';
  let code = `fn batchC(b: u32) -> u32 {\n${batchOffsetCode('c', o.batchRank)}}
fn epilogue(base: u32, m: u32, n: u32, v: f32) {
  let i = base + m * u.c_ld + n;
  let z = ${value('f32', 'v', 'i', 'n')};
  let r = ${act('f32', 'z')};
  ${o.vec4 ? `c4[i >> 2u][i & 3u] = ${o.accumulate ? `${cRead} + r` : 'r'};` : `c[i] = ${o.accumulate ? 'c[i] + r' : 'r'};`}
}
`;
  if (o.vec4) {
    code += `fn epilogue4(base: u32, m: u32, n: u32, v: vec4<f32>) {
  let i = base + m * u.c_ld + n;
  let z = ${value('vec4', 'v', 'i', 'n')};
  let r = ${act('vec4<f32>', 'z')};
  c4[i >> 2u] = ${o.accumulate ? 'c4[i >> 2u] + r' : 'r'};
}
`;
  }
  return { bindings, params, code };
}
