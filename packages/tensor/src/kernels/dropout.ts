/**
 * Dropout's one kernel: out[i] = keep(i) ? in[i] · scale : 0, where keep(i) is
 * unit(pcg(i ^ pcg(seed))) ≥ p — the same counter-based draw as `rand(shape, 0, 1,
 * { seed })` (kernels/random.ts), so the mask is a pure function of (seed, i).
 * The forward applies it to x, the backward to the incoming gradient with the same
 * seed: the mask is regenerated, never stored.
 */
import { getKernel } from '../runtime/kernel.js';
import { dispatch } from '../runtime/queue.js';
import { FLAT_INDEX, grid1d, uniformWords } from './grid.js';
import { HASH_WGSL } from './random.js';

const WG = 256;

const CODE = `// dropout_mask_scale
struct U { n: u32, seed: u32, p: f32, scale: f32, inOff: u32, p0: u32, p1: u32, p2: u32 }
const WG = ${WG}u;
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${HASH_WGSL}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let keep = unit(pcg(i ^ pcg(u.seed))) >= u.p;
  out[i] = select(0.0, x[u.inOff + i] * u.scale, keep);
}
`;

/** out = mask(seed, p) · in · scale over n dense elements (in at element offset inOff). */
export function runDropout(input: GPUBuffer, inOff: number, out: GPUBuffer, n: number, p: number, seed: number, scale: number): void {
  const w = uniformWords(8);
  w.u32[0] = n;
  w.u32[1] = seed >>> 0;
  w.f32[2] = p;
  w.f32[3] = scale;
  w.u32[4] = inOff;
  dispatch(getKernel('dropout_mask_scale', CODE), [input, out], w.u32, grid1d(n, WG));
}
