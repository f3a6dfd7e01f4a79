/**
 * The GEMM generator: every matrix-multiply-shaped kernel (matmul, and later conv
 * forward / backward-input / backward-filter through implicit-im2col hooks) is
 * C[b] = epilogue(A[b] · B[b]) with A: M×K, B: K×N, generated from caller hooks.
 *
 * Hooks (WGSL snippets, see `OperandHook` / `EpilogueHook`):
 *  - A:  fn loadA(base: u32, m: u32, k: u32) -> f32           (required)
 *        fn loadA4(base: u32, m: u32, k: u32) -> vec4<f32>     (optional: 4 elements along `vec4`)
 *        fn batchA(b: u32) -> u32                              (optional: per-batch base, default b)
 *  - B:  fn loadB(base: u32, k: u32, n: u32) -> f32, loadB4, batchB — the same, for B.
 *  - C:  fn epilogue(base: u32, m: u32, n: u32, v: f32)        (required)
 *        fn epilogue4(base: u32, m: u32, n: u32, v: vec4<f32>) (optional: n..n+3)
 *        fn batchC(b: u32) -> u32                              (optional)
 * The generator only calls a load with in-range indices (m < M, k < K, n < N; all
 * four of a run for the *4 forms, whose run index is then a multiple of 4) and does
 * the zero padding itself, so hooks index freely (a conv hook still pads its own
 * image borders). Hooks read their uniform parameters as `u.<name>` and their
 * storage buffers by the names they declare. `batchX` is evaluated once per
 * workgroup, so per-batch address arithmetic stays out of the inner loop.
 *
 * Variants (`GemmVariant`), all computing the same thing:
 *  - 'portable':         64×64 workgroup tiles through workgroup memory, 4×4 register
 *                        blocking per thread; correct on every adapter.
 *  - 'subgroup':         one 8-lane subgroup per workgroup; each lane loads a different
 *                        vec4 of A and `subgroupBroadcast` shares it; each lane owns
 *                        16 rows × 4 columns; B rows come from storage as vec4.
 *  - 'subgroup-uniform': the same, but B is first packed (by a kernel generated from
 *                        the B hook) into 64 KiB windows that the GEMM reads as a
 *                        UNIFORM buffer (branch-free loads on lavapipe); one dispatch per
 *                        window, K split across windows through a partial-sum buffer.
 * The subgroup variants assume a subgroup size of exactly 8 (lavapipe on AVX2); they
 * are used only when the adapter reports subgroupMinSize === subgroupMaxSize === 8
 * (and a probe, when run, confirmed it). See `chooseGemmVariant`.
 *
 * Whatever changes the WGSL (variant, tile, hook code, layout flags) is the pipeline
 * cache key (getKernel keys by source); shapes and offsets travel in uniforms.
 */
import { gpu } from '../runtime/device.js';
import { TesseraError } from '../runtime/errors.js';
import { getKernel, type Kernel } from '../runtime/kernel.js';
import { dispatch, readBuffer, type BufferBinding } from '../runtime/queue.js';

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
   * straddles the edge. Baked into the code; without it the generator composes runs
   * from scalar loads at the edges.
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
/** Rows of A per lane and vec4 columns of B per lane in the subgroup variants. */
const RM = 16;
const SG = FAST_SUBGROUP_SIZE;
/** Columns per subgroup tile. */
const WN = 4 * SG;
/** 64 KiB of vec4s: one uniform window of packed B. */
const WINDOW_BYTES = 65536;
const WINDOW_VEC4 = WINDOW_BYTES / 16;
/** k rows per window. */
const KW = WINDOW_VEC4 / (WN / 4);

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
 * The variant for a problem: the forced one if set; else portable without a
 * (verified) subgroup size of 8; else the uniform-window variant when A is tall
 * enough to amortise packing B and the number of dispatches stays small; else the
 * storage-B subgroup variant.
 */
export function chooseGemmVariant(M: number, N: number, K: number, batch: number, bBatched: boolean): GemmVariant {
  if (forced) return forced;
  if (gemmVariantUnsupported('subgroup') !== null) return 'portable';
  const windows = Math.ceil(N / WN) * Math.ceil(K / KW) * (bBatched ? batch : 1);
  const uniformOk = gemmVariantUnsupported('subgroup-uniform') === null;
  if (uniformOk && M * (bBatched ? 1 : batch) >= 128 && windows <= 4096 && M >= 32) return 'subgroup-uniform';
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
  for (let i = 0; i < P_R; i++) {
    epi += `  { let m = m0 + ly + ${i * P_T}u;\n    if (m < u.M) {\n`;
    for (let j = 0; j < P_R; j++) epi += `      { let n = n0 + lx + ${j * P_T}u; if (n < u.N) { epilogue(cB, m, n, c${i}_${j}); } }\n`;
    epi += `    }\n  }\n`;
  }
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
  const uni = fillUniforms(fields, { ...genValues(call), tilesN, tilesM, ...(call.params ?? {}) });
  const [x, y] = tileGrid(tilesN * tilesM);
  dispatch(kernel, call.buffers, uni, [x, y, call.batch]);
}

function genValues(call: GemmCall): Record<string, number> {
  return { M: call.M, N: call.N, K: call.K, batch: call.batch, tilesN: 0, tilesM: 0, kBegin: 0, kEnd: call.K, nBase: 0, zBase: 0, mode: 0 };
}

// ---------------------------------------------------------------------------------------------
// Subgroup variants

interface SgFlags {
  /** B comes from a packed uniform window instead of the B hook. */
  uniformB: boolean;
}

/** WGSL fetching the A fragment for k-chunk `kExpr` (4 wide) into lane registers, plus a per-row accessor. */
function aFragment(a: OperandHook, tail: boolean): { load: string; rows: (r: number) => string[] } {
  const nReg = RM / SG; // vec4 registers per lane
  // Runs along m need M % 4 == 0 (a run never straddles the edge); otherwise compose from scalars.
  const modeMn = a.vec4 === 'mn' && !!a.mnMultipleOf4 && !tail;
  if (modeMn) {
    // Runs along m: run j = kk * (RM/4) + g (rows m0+4g..m0+4g+3 at k + kk) lives in lane j % SG, register j / SG.
    let load = '';
    const runs = RM; // (RM/4 row groups) × 4 kk
    const regs = runs / SG;
    for (let i = 0; i < regs; i++) {
      // Lane l loads run j = i*SG + l: g = j % (RM/4), kk = j / (RM/4)
      load += `    let ar${i} = loadA4(aB, min(m0 + 4u * ((${i * SG}u + lane) % ${RM / 4}u), u.M - 4u), k + (${i * SG}u + lane) / ${RM / 4}u);\n`;
    }
    return {
      load,
      rows: (r) => {
        const g = Math.floor(r / 4);
        return [0, 1, 2, 3].map((kk) => {
          const j = kk * (RM / 4) + g;
          return `ab${Math.floor(j / SG)}_${j % SG}[${r % 4}]`;
        });
      },
    };
  }
  // Runs along k: register i of lane l holds A[m0 + i*SG + l, k..k+3].
  let load = '';
  for (let i = 0; i < nReg; i++) {
    const m = `min(m0 + ${i * SG}u + lane, u.M - 1u)`;
    if (tail) {
      load += `    let ar${i} = vec4<f32>(${[0, 1, 2, 3]
        .map((q) => `select(0.0, loadA(aB, ${m}, min(k + ${q}u, u.K - 1u)), k + ${q}u < kEnd)`)
        .join(', ')});\n`;
    } else if (a.vec4 === 'k') {
      load += `    let ar${i} = loadA4(aB, ${m}, k);\n`;
    } else {
      load += `    let ar${i} = vec4<f32>(${[0, 1, 2, 3].map((q) => `loadA(aB, ${m}, k + ${q}u)`).join(', ')});\n`;
    }
  }
  return { load, rows: (r) => [0, 1, 2, 3].map((kk) => `ab${Math.floor(r / SG)}_${r % SG}[${kk}]`) };
}

/** Broadcast statements for the registers used by `rows`. */
function broadcasts(nRegs: number): string {
  let s = '';
  for (let i = 0; i < nRegs; i++) {
    for (let l = 0; l < SG; l++) s += `    let ab${i}_${l} = subgroupBroadcast(ar${i}, ${l}u);\n`;
  }
  return s;
}

/** WGSL producing b0..b3: B[k+kk, n..n+3] for this lane (storage B). */
function bFragment(b: OperandHook, tail: boolean): string {
  const col = (q: number) => `min(n + ${q}u, u.N - 1u)`;
  let s = '';
  if (tail) {
    for (let kk = 0; kk < 4; kk++) {
      s += `    let b${kk} = select(vec4<f32>(0.0), vec4<f32>(${[0, 1, 2, 3].map((q) => `loadB(bB, min(k + ${kk}u, u.K - 1u), ${col(q)})`).join(', ')}), k + ${kk}u < kEnd);\n`;
    }
    return s;
  }
  if (b.vec4 === 'mn' && b.mnMultipleOf4) {
    for (let kk = 0; kk < 4; kk++) s += `    let b${kk} = loadB4(bB, k + ${kk}u, min(n, u.N - 4u));\n`;
    return s;
  }
  if (b.vec4 === 'k') {
    for (let q = 0; q < 4; q++) s += `    let t${q} = loadB4(bB, k, ${col(q)});\n`;
    for (let kk = 0; kk < 4; kk++) s += `    let b${kk} = vec4<f32>(t0[${kk}], t1[${kk}], t2[${kk}], t3[${kk}]);\n`;
    return s;
  }
  for (let kk = 0; kk < 4; kk++) {
    s += `    let b${kk} = vec4<f32>(${[0, 1, 2, 3].map((q) => `loadB(bB, k + ${kk}u, ${col(q)})`).join(', ')});\n`;
  }
  return s;
}

function fmaBlock(rows: (r: number) => string[]): string {
  let s = '';
  for (let r = 0; r < RM; r++) {
    const [x, y, z, w] = rows(r);
    s += `    acc${r} = acc${r} + ${x} * b0 + ${y} * b1 + ${z} * b2 + ${w} * b3;\n`;
  }
  return s;
}

function genSubgroup(call: GemmCall, flags: SgFlags): { code: string; fields: Field[]; bindings: number } {
  const fields = [...GEN_FIELDS, ...hookFields(call)];
  // With packed B the B hook is only used by the pack kernel: its bindings are left out here.
  const hooks = flags.uniformB ? [call.a, call.c] : [call.a, call.b, call.c];
  const decl = bindingDecls(hooks, 1);
  let extra = '';
  let next = decl.next;
  if (flags.uniformB) {
    extra += `@group(0) @binding(${next++}) var<uniform> bw: array<vec4<f32>, ${WINDOW_VEC4}>;\n`;
    extra += `@group(0) @binding(${next++}) var<storage, read_write> part: array<vec4<f32>>;\n`;
  }
  const main = aFragment(call.a, false);
  const tail = aFragment(call.a, true);
  const nRegs = RM / SG;
  let accDecl = '';
  for (let r = 0; r < RM; r++) accDecl += `  var acc${r} = vec4<f32>(0.0);\n`;
  const bMain = flags.uniformB
    ? [0, 1, 2, 3].map((kk) => `    let b${kk} = bw[wi + ${kk * (WN / 4)}u];\n`).join('')
    : bFragment(call.b, false);
  const bTail = flags.uniformB
    ? [0, 1, 2, 3].map((kk) => `    let b${kk} = bw[wi + ${kk * (WN / 4)}u];\n`).join('')
    : bFragment(call.b, true);
  const step = flags.uniformB ? `    k += 4u; wi += ${WN}u;\n` : `    k += 4u;\n`;
  // Output: acc r is row m0 + r, columns n..n+3.
  let store = '';
  for (let r = 0; r < RM; r++) store += `    { let m = m0 + ${r}u; if (m < u.M) { out4(cB, m, n, acc${r}); } }\n`;
  let partial = '';
  if (flags.uniformB) {
    // Split-K over windows: mode 1 writes the partial sums, 2 adds to them, 3 adds them and runs the epilogue.
    let pl = '';
    for (let r = 0; r < RM; r++) {
      pl += `    { let p = (pz + m0 + ${r}u) * ${WN / 4}u + lane;\n      if (u.mode == 1u) { part[p] = acc${r}; } else { acc${r} = acc${r} + part[p]; if (u.mode == 2u) { part[p] = acc${r}; } } }\n`;
    }
    partial = `  if (u.mode != 0u) {
    let pz = wid.z * u.tilesM * ${RM}u;
${pl}    if (u.mode != 3u) { return; }
  }
`;
  }
  const code = `// gemm ${call.name} (${flags.uniformB ? 'subgroup-uniform' : 'subgroup'}: ${SG} lanes x ${RM} rows x 4 cols, A ${call.a.vec4 ?? 'scalar'}${call.a.vec4 === 'mn' && call.a.mnMultipleOf4 ? '4' : ''}, B ${flags.uniformB ? 'packed' : (call.b.vec4 ?? 'scalar') + (call.b.vec4 === 'mn' && call.b.mnMultipleOf4 ? '4' : '')})
enable subgroups;
${structOf(fields)}
@group(0) @binding(0) var<uniform> u: U;
${decl.code}
${extra}${call.a.code}
${flags.uniformB ? '' : call.b.code}
${call.c.code}
${hookPrelude(call.a, flags.uniformB ? { ...call.b, code: '' } : call.b, call.c)}
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
  let m0 = (tile / u.tilesN) * ${RM}u;
  let zb = u.zBase + wid.z;
  let aB = batchA(zb); let bB = batchB(zb); let cB = batchC(zb);
  let kEnd = u.kEnd;
${accDecl}  var k = u.kBegin;
${flags.uniformB ? `  var wi = ((tile % u.tilesN) * ${WN / 4}u) + lane;\n` : ''}  loop {
    if (k + 4u > kEnd) { break; }
${main.load}${bMain}${broadcasts(nRegs)}${fmaBlock(main.rows)}${step}  }
  if (k < kEnd) {
${tail.load}${bTail}${broadcasts(nRegs)}${fmaBlock(tail.rows)}  }
${partial}${store}}
`;
  return { code, fields, bindings: next };
}

function runSubgroup(call: GemmCall): void {
  const { code, fields } = genSubgroup(call, { uniformB: false });
  const kernel = getKernel(`gemm_${call.name}_subgroup`, code);
  const tilesN = Math.ceil(call.N / WN);
  const tilesM = Math.ceil(call.M / RM);
  checkBatchGrid(call, call.batch);
  const uni = fillUniforms(fields, { ...genValues(call), tilesN, tilesM, ...(call.params ?? {}) });
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
  // Commands already encoded keep the old buffer alive until they ran; destroy() is deferred by WebGPU semantics
  // only for submitted work, so let the GC/driver reclaim it instead of destroying it here.
  const size = Math.max(bytes, Math.ceil((have?.size ?? 0) * 1.25), 1 << 16);
  const buf = gpu().device.createBuffer({ size: Math.ceil(size / 256) * 256, usage, label: `gemm-${role}` });
  scratch.set(role, buf);
  return buf;
}

/** Frees the generator's scratch buffers (they are re-created on demand). */
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

function packLayout(call: GemmCall): PackLayout {
  const kWindows = Math.ceil(call.K / KW);
  // Balance the windows and keep each a multiple of 4 rows.
  const kPerWindow = Math.ceil(call.K / kWindows / 4) * 4;
  return { kWindows, kPerWindow, nBlocks: Math.ceil(call.N / WN), batches: call.b.batched === false ? 1 : call.batch };
}

function genPack(call: GemmCall): { code: string; fields: Field[] } {
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
  const code = `// gemm ${call.name}: pack B into ${WINDOW_BYTES}-byte uniform windows
${structOf(fields)}
@group(0) @binding(0) var<uniform> u: U;
${decl.code}
@group(0) @binding(${decl.next}) var<storage, read_write> packed: array<vec4<f32>>;
${call.b.code}
${has(call.b.code, 'batchB') ? '' : 'fn batchB(b: u32) -> u32 { return b; }'}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // One thread per packed vec4 that holds data (window rows beyond kPerWindow stay unwritten and unread).
${touchBindings([call.b])}  let i = (wid.y * nwg.x + wid.x) * 256u + lid.x;
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
    let kc = min(k, u.K - 1u);
    v = vec4<f32>(
      select(0.0, loadB(base, kc, min(n, u.N - 1u)), n < u.N),
      select(0.0, loadB(base, kc, min(n + 1u, u.N - 1u)), n + 1u < u.N),
      select(0.0, loadB(base, kc, min(n + 2u, u.N - 1u)), n + 2u < u.N),
      select(0.0, loadB(base, kc, min(n + 3u, u.N - 1u)), n + 3u < u.N));
  }
  packed[window * ${WINDOW_VEC4}u + kl * ${WN / 4}u + c4] = v;
}
`;
  return { code, fields };
}

function runSubgroupUniform(call: GemmCall): void {
  const L = packLayout(call);
  const windows = L.batches * L.nBlocks * L.kWindows;
  const packed = scratchBuffer('packed-b', windows * WINDOW_BYTES, 0x40 /* UNIFORM */ | 0x80 /* STORAGE */);
  const nA = call.a.bindings.length;
  const nB = call.b.bindings.length;
  const bBuffers = call.buffers.slice(nA, nA + nB);
  {
    const { code, fields } = genPack(call);
    const kernel = getKernel(`gemm_${call.name}_pack`, code);
    const total = windows * L.kPerWindow * (WN / 4);
    const uni = fillUniforms(fields, { K: call.K, N: call.N, ...L, total, ...(call.params ?? {}) });
    dispatch(kernel, [...bBuffers, packed], uni, tileGrid(Math.ceil(total / 256)));
  }
  const { code, fields } = genSubgroup(call, { uniformB: true });
  const kernel = getKernel(`gemm_${call.name}_subgroup_uniform`, code);
  const tilesM = Math.ceil(call.M / RM);
  const zPer = L.batches === 1 ? call.batch : 1;
  checkBatchGrid(call, zPer);
  const part =
    L.kWindows > 1
      ? scratchBuffer('partial', zPer * tilesM * RM * WN * 4, 0x80 /* STORAGE */)
      : scratchBuffer('partial', 16, 0x80);
  const [x, y] = tileGrid(tilesM);
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
          ...(call.params ?? {}),
        });
        dispatch(
          kernel,
          [...call.buffers.slice(0, nA), ...call.buffers.slice(nA + nB), { buffer: packed, offset: window * WINDOW_BYTES, size: WINDOW_BYTES }, part],
          uni,
          [x, y, zPer],
        );
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
  const v = call.variant ?? chooseGemmVariant(call.M, call.N, call.K, call.batch, call.b.batched !== false);
  const why = gemmVariantUnsupported(v);
  if (why) throw new TesseraError(`${call.name}: the GEMM variant '${v}' cannot run on this adapter: ${why}`);
  if (v === 'portable') runPortable(call);
  else if (v === 'subgroup') runSubgroup(call);
  else runSubgroupUniform(call);
  return v;
}

/** The WGSL a call would compile to (for inspection and tests). */
export function gemmSource(call: GemmCall, variant: GemmVariant): string {
  if (variant === 'portable') return genPortable(call).code;
  return genSubgroup(call, { uniformB: variant === 'subgroup-uniform' }).code;
}

// ---------------------------------------------------------------------------------------------
// Default hooks: plain strided matrices (batched by up to MAX_BATCH_RANK coalesced dims).

export const MAX_BATCH_RANK = 4;

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
  relu?: boolean;
  /** Add into the existing output instead of overwriting it (split-K / gradient accumulation). */
  accumulate?: boolean;
  /** Bind the output as array<vec4<f32>> too (offset, ldc, batch strides multiples of 4). */
  vec4?: boolean;
}

/**
 * The default epilogue: out[base + m*c_ld + n] = act(v + bias[n] + residual) (or +=).
 * Buffers: `c` (read_write), then `bias`, then `res` when enabled.
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
  const value = (t: string, v: string, idx: string, n: string): string => {
    let e = v;
    const load = (buf: string, i: string) =>
      t === 'f32' ? `${buf}[${i}]` : `vec4<f32>(${buf}[${i}], ${buf}[${i} + 1u], ${buf}[${i} + 2u], ${buf}[${i} + 3u])`;
    if (o.bias) e = `${e} + ${load('bias', `u.bias_off + ${n}`)}`;
    if (o.residual) e = `${e} + ${load('res', `u.res_off - u.c_off + ${idx}`)}`;
    if (o.relu) e = `max(${e}, ${t}(0.0))`;
    return e;
  };
  const cRead = o.vec4 ? 'c4[i >> 2u][i & 3u]' : 'c[i]';
  let code = `fn batchC(b: u32) -> u32 {\n${batchOffsetCode('c', o.batchRank)}}
fn epilogue(base: u32, m: u32, n: u32, v: f32) {
  let i = base + m * u.c_ld + n;
  let r = ${value('f32', 'v', 'i', 'n')};
  ${o.vec4 ? `c4[i >> 2u][i & 3u] = ${o.accumulate ? `${cRead} + r` : 'r'};` : `c[i] = ${o.accumulate ? 'c[i] + r' : 'r'};`}
}
`;
  if (o.vec4) {
    code += `fn epilogue4(base: u32, m: u32, n: u32, v: vec4<f32>) {
  let i = base + m * u.c_ld + n;
  let r = ${value('vec4', 'v', 'i', 'n')};
  c4[i >> 2u] = ${o.accumulate ? 'c4[i >> 2u] + r' : 'r'};
}
`;
  }
  return { bindings, params, code };
}
