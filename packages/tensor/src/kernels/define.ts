/**
 * The one place a kernel's WGSL interface is written. A kernel declares its uniforms by
 * name and type, its storage inputs (read) and outputs (read_write), its workgroup size
 * and its body; `defineKernel` generates the header — the uniform struct `U` bound as
 * `u`, one binding per buffer — and the uniform layout, and `run` binds buffers and
 * packs uniforms by name:
 *
 *   const k = defineKernel({ name: 'scale', uniforms: { n: 'u32', s: 'f32' },
 *     inputs: { x: 'array<f32>' }, outputs: { y: 'array<f32>' }, workgroupSize: 64,
 *     body: 'fn main(…) { … u.s * x[i] … }' });
 *   run(k, { x, y }, { n, s }, grid1d(n, 64));
 *
 * Definitions are cached by their generated WGSL (so a generator may call defineKernel
 * on every dispatch, and a fixed kernel may be defined at module load, without a
 * device), and the pipeline cache (runtime/kernel.ts) is keyed by that WGSL
 * and nothing else. Uniforms are packed into one shared scratch block that `dispatch`
 * copies into the uniform arena at once: no allocation per dispatch but the view.
 */
import { getKernel } from '../runtime/kernel.js';
import { type BufferBinding, dispatch } from '../runtime/queue.js';
import { MAX_RANK } from './grid.js';

/**
 * Uniform field types. `dims` is MAX_RANK u32 values (a shape or strides, last
 * dimension last) as `array<vec4<u32>, 2>`; read element d with `dimRef`.
 */
export type UniformType = 'u32' | 'i32' | 'f32' | 'vec4<u32>' | 'vec4<i32>' | 'vec4<f32>' | 'dims';

/** A value for a field: a number for scalars, up to 4 (vec4) or MAX_RANK (dims) numbers. */
export type UniformValue = number | readonly number[];

/** A range of a buffer, in elements: the one buffer-view type kernels take. */
export interface BufferView {
  buffer: GPUBuffer;
  /** Offset in elements. */
  offset: number;
}

export interface KernelSpec<U extends Record<string, UniformType>, B extends string> {
  /** Label for the pipeline and for error messages. */
  name: string;
  /** Uniform fields in declaration order (the struct follows WGSL's layout rules). */
  uniforms?: U;
  /** Storage buffers read by the kernel: name → WGSL type (e.g. 'array<f32>'). */
  inputs?: { readonly [K in B]?: string };
  /** Storage buffers written (read_write): name → WGSL type. */
  outputs?: { readonly [K in B]?: string };
  /** Buffers bound in the uniform address space (e.g. a window of packed weights): name → type. */
  uniformBuffers?: { readonly [K in B]?: string };
  /**
   * Threads per workgroup. A number also declares `const WG = <n>u;` for the body;
   * a tuple is emitted as is.
   */
  workgroupSize: number | readonly [number, number?, number?];
  /** Directives that must open the module (e.g. 'enable subgroups;'). */
  enable?: string;
  /**
   * Helper functions, workgroup variables and `fn main(…)`; `@compute
   * @workgroup_size(…)` is put in front of `fn main`.
   */
  body: string;
}

interface Slot {
  name: string;
  type: UniformType;
  /** Offset in 4-byte words. */
  word: number;
}

export interface KernelDef<U extends Record<string, UniformType> = Record<string, UniformType>, B extends string = string> {
  readonly name: string;
  readonly code: string;
  /** Buffer names in binding order (after the uniform block at binding 0, when there is one). */
  readonly bindings: readonly B[];
  readonly slots: readonly Slot[];
  /** Uniform block size in words (a multiple of 4), 0 when the kernel has no uniforms. */
  readonly words: number;
  /** Phantom: the uniform declaration, for typing `run`. */
  readonly _u?: U;
}

const ALIGN: Record<UniformType, number> = { u32: 1, i32: 1, f32: 1, 'vec4<u32>': 4, 'vec4<i32>': 4, 'vec4<f32>': 4, dims: 4 };
const SIZE: Record<UniformType, number> = { u32: 1, i32: 1, f32: 1, 'vec4<u32>': 4, 'vec4<i32>': 4, 'vec4<f32>': 4, dims: MAX_RANK };
const WGSL_TYPE = (t: UniformType): string => (t === 'dims' ? `array<vec4<u32>, ${MAX_RANK / 4}>` : t);

const defs = new Map<string, KernelDef<never, never>>();

function header<U extends Record<string, UniformType>, B extends string>(
  spec: KernelSpec<U, B>,
): { code: string; bindings: B[]; slots: Slot[]; words: number } {
  const slots: Slot[] = [];
  let word = 0;
  for (const [name, type] of Object.entries(spec.uniforms ?? {}) as [string, UniformType][]) {
    word = Math.ceil(word / ALIGN[type]) * ALIGN[type];
    slots.push({ name, type, word });
    word += SIZE[type];
  }
  const words = Math.ceil(word / 4) * 4;
  const lines: string[] = [];
  if (spec.enable) lines.push(spec.enable);
  let b = 0;
  if (slots.length) {
    lines.push(`struct U {\n${slots.map((s) => `  ${s.name}: ${WGSL_TYPE(s.type)},`).join('\n')}\n}`);
    lines.push(`@group(0) @binding(${b++}) var<uniform> u: U;`);
  }
  const bindings: B[] = [];
  const groups: [Partial<Record<B, string>> | undefined, string][] = [
    [spec.inputs, 'storage, read'],
    [spec.outputs, 'storage, read_write'],
    [spec.uniformBuffers, 'uniform'],
  ];
  for (const [group, space] of groups) {
    for (const [name, type] of Object.entries(group ?? {}) as [B, string][]) {
      if (bindings.includes(name)) throw new Error(`internal: kernel ${spec.name} declares buffer ${name} twice`);
      if (name === 'U' || name === 'u') throw new Error(`internal: kernel ${spec.name}: the buffer name ${name} is the uniform block's`);
      bindings.push(name);
      lines.push(`@group(0) @binding(${b++}) var<${space}> ${name}: ${type};`);
    }
  }
  const wg = spec.workgroupSize;
  if (typeof wg === 'number') lines.push(`const WG = ${wg}u;`);
  const at = spec.body.search(/\bfn main\s*\(/);
  if (at < 0) throw new Error(`internal: kernel ${spec.name} has no fn main`);
  const attr = `@compute @workgroup_size(${typeof wg === 'number' ? 'WG' : wg.filter((d) => d !== undefined).join(', ')})\n`;
  const body = spec.body.slice(0, at) + attr + spec.body.slice(at);
  return { code: `${lines.join('\n')}\n${body}`, bindings, slots, words };
}

/**
 * Generates (or finds) a kernel's WGSL and uniform layout. Needs no device: the
 * pipeline is made (or found) by `run`.
 */
export function defineKernel<U extends Record<string, UniformType>, B extends string>(spec: KernelSpec<U, B>): KernelDef<U, B> {
  const h = header(spec);
  const hit = defs.get(h.code);
  if (hit) return hit as unknown as KernelDef<U, B>;
  const def: KernelDef<U, B> = { name: spec.name, ...h };
  defs.set(h.code, def as unknown as KernelDef<never, never>);
  return def;
}

const SCRATCH_WORDS = 1024;
const scratch = new ArrayBuffer(SCRATCH_WORDS * 4);
const u32 = new Uint32Array(scratch);
const i32 = new Int32Array(scratch);
const f32 = new Float32Array(scratch);

function pack(def: KernelDef, values: Readonly<Record<string, UniformValue | undefined>>): Uint32Array {
  if (def.words > SCRATCH_WORDS) throw new Error(`internal: kernel ${def.name} has ${def.words} uniform words`);
  u32.fill(0, 0, def.words);
  for (const s of def.slots) {
    const v = values[s.name];
    if (v === undefined) continue; // zero
    const view = s.type === 'f32' || s.type === 'vec4<f32>' ? f32 : s.type === 'i32' || s.type === 'vec4<i32>' ? i32 : u32;
    if (typeof v === 'number') {
      view[s.word] = v;
    } else {
      if (v.length > SIZE[s.type]) throw new Error(`internal: kernel ${def.name} uniform ${s.name} takes ${SIZE[s.type]} values, got ${v.length}`);
      for (let i = 0; i < v.length; i++) view[s.word + i] = v[i]!;
    }
  }
  return u32.subarray(0, def.words);
}

/** The uniform block `run` would upload, as words (for tests). */
export function packUniforms<U extends Record<string, UniformType>>(def: KernelDef<U>, values: { readonly [K in keyof U]?: UniformValue }): Uint32Array {
  return pack(def as unknown as KernelDef, values).slice();
}

/**
 * Encodes one dispatch of `def`: each declared buffer bound by name (a whole buffer or a
 * byte range), uniforms packed by name (a field left out is zero).
 */
export function run<U extends Record<string, UniformType>, B extends string>(
  def: KernelDef<U, B>,
  buffers: { readonly [K in B]: GPUBuffer | BufferBinding },
  uniforms: { readonly [K in keyof U]?: UniformValue },
  workgroups: readonly [number, number?, number?],
): void {
  const list: (GPUBuffer | BufferBinding)[] = [];
  for (const name of def.bindings) {
    const b = buffers[name];
    if (!b) throw new Error(`internal: kernel ${def.name} has no buffer for ${name}`);
    list.push(b);
  }
  // def.code is one string object whose hash V8 has cached: the lookup is cheap.
  dispatch(getKernel(def.name, def.code, def.words > 0), list, def.words ? pack(def as unknown as KernelDef, uniforms) : null, workgroups);
}
