/**
 * Dropout's one kernel: out[i] = keep(i) ? in[i] · scale : 0, where keep(i) is
 * unit(pcg(i ^ pcg(seed))) ≥ p — the same counter-based draw as `rand(shape, 0, 1,
 * { seed })` (kernels/random.ts), so the mask is a pure function of (seed, i).
 * The forward applies it to x, the backward to the incoming gradient with the same
 * seed: the mask is regenerated, never stored.
 */
import { defineKernel, run } from '../../../kernels/define.js';
import { FLAT_INDEX, grid1d } from '../../../kernels/grid.js';
import { HASH_WGSL } from '../../../kernels/random.js';

const WG = 256;

const DROPOUT = defineKernel({
  name: 'dropout_mask_scale',
  uniforms: { n: 'u32', seed: 'u32', p: 'f32', scale: 'f32', inOff: 'u32' },
  inputs: { x: 'array<f32>' },
  outputs: { out: 'array<f32>' },
  workgroupSize: WG,
  body: `// dropout_mask_scale
${HASH_WGSL}
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let keep = unit(pcg(i ^ pcg(u.seed))) >= u.p;
  out[i] = select(0.0, x[u.inOff + i] * u.scale, keep);
}
`,
});

/** out = mask(seed, p) · in · scale over n dense elements (in at element offset inOff). */
export function runDropout(input: GPUBuffer, inOff: number, out: GPUBuffer, n: number, p: number, seed: number, scale: number): void {
  run(DROPOUT, { x: input, out }, { n, seed: seed >>> 0, p, scale, inOff }, grid1d(n, WG));
}
