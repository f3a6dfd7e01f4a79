/**
 * Fused optimizer updates: one dispatch per parameter reads the gradient and the
 * state once and writes parameter and state once.
 * Variants: sgd (momentum, nesterov, coupled weight decay), adam (fastai's Adam:
 * decoupled weight decay, dampened first moment, debiased step); each as `vec4`
 * (4 elements per thread through vec4 accesses, for sizes divisible by 4 — every
 * convolution weight — about 3× the bandwidth on lavapipe) or scalar.
 */
import { type Tensor, dispatch, getKernel, grid1d, uniformWords, FLAT_INDEX } from '@tessera/tensor';

const WG = 256;

/** The update body is written on `F` (f32 or vec4<f32>): every operation in it works on both. */
function kernelCode(name: string, nState: number, body: string, fields: string, vec4: boolean): string {
  const F = vec4 ? 'vec4<f32>' : 'f32';
  const states = Array.from({ length: nState }, (_, k) => `@group(0) @binding(${k + 3}) var<storage, read_write> s${k}: array<${F}>;`).join('\n');
  return `// ${name}${vec4 ? ' (vec4)' : ''}
alias F = ${F};
struct U { n: u32, ${fields} }
const WG = ${WG}u;
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read_write> p: array<F>;
@group(0) @binding(2) var<storage, read> g: array<F>;
${states}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
${body}
}
`;
}

/** Elements per thread for a parameter of `size` elements. */
const lanes = (size: number): 1 | 4 => (size % 4 === 0 ? 4 : 1);

const sgdCode = (vec4: boolean) =>
  kernelCode(
    'sgd_step',
    1,
    `  var d = g[i] + u.wd * p[i];
  if (u.mom != 0.0) {
    let b = u.mom * s0[i] + d;
    s0[i] = b;
    d = select(b, d + u.mom * b, u.nesterov != 0u);
  }
  p[i] = p[i] - u.lr * d;`,
    'lr: f32, mom: f32, wd: f32, nesterov: u32,',
    vec4,
  );

const adamCode = (vec4: boolean) =>
  kernelCode(
    'adam_step',
    2,
    `  let gi = g[i];
  let pi = p[i] * (1.0 - u.lr * u.wd);
  let m = u.beta1 * s0[i] + (1.0 - u.beta1) * gi;
  let v = u.beta2 * s1[i] + (1.0 - u.beta2) * gi * gi;
  s0[i] = m;
  s1[i] = v;
  p[i] = pi - (u.lr / u.debias1) * m / (sqrt(v / u.debias2) + F(u.eps));`,
    'lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, debias1: f32, debias2: f32,',
    vec4,
  );

const SGD = [sgdCode(false), sgdCode(true)] as const;
const ADAM = [adamCode(false), adamCode(true)] as const;

function check(p: Tensor, g: Tensor): void {
  if (!p.isContiguous || !g.isContiguous || p.offset !== 0 || g.offset !== 0) {
    throw new Error(`internal: optimizer expects dense parameters and gradients (${p.name ?? p.id})`);
  }
}

export function sgdStep(p: Tensor, g: Tensor, buf: Tensor, h: { lr: number; mom: number; wd: number; nesterov: boolean }): void {
  check(p, g);
  const l = lanes(p.size);
  const w = uniformWords(5);
  w.u32[0] = p.size / l;
  w.f32[1] = h.lr;
  w.f32[2] = h.mom;
  w.f32[3] = h.wd;
  w.u32[4] = h.nesterov ? 1 : 0;
  dispatch(getKernel('sgd_step', SGD[l === 4 ? 1 : 0]), [p.buffer, g.buffer, buf.buffer], w.u32, grid1d(p.size / l, WG));
}

export function adamStep(
  p: Tensor,
  g: Tensor,
  m: Tensor,
  v: Tensor,
  h: { lr: number; beta1: number; beta2: number; eps: number; wd: number; step: number },
): void {
  check(p, g);
  const l = lanes(p.size);
  const w = uniformWords(8);
  w.u32[0] = p.size / l;
  w.f32[1] = h.lr;
  w.f32[2] = h.beta1;
  w.f32[3] = h.beta2;
  w.f32[4] = h.eps;
  w.f32[5] = h.wd;
  w.f32[6] = 1 - h.beta1 ** h.step;
  w.f32[7] = 1 - h.beta2 ** h.step;
  dispatch(getKernel('adam_step', ADAM[l === 4 ? 1 : 0]), [p.buffer, g.buffer, m.buffer, v.buffer], w.u32, grid1d(p.size / l, WG));
}
