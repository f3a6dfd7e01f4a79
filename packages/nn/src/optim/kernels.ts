/**
 * Fused optimizer updates: one dispatch reads the gradient and the state once and
 * writes parameter and state once, over a dense range of elements — one parameter, or
 * many packed into one flat buffer (see flat-chunk.ts).
 * Variants: sgd (momentum, nesterov, coupled weight decay), adam (fastai's Adam:
 * decoupled weight decay, dampened first moment, debiased step); each as `vec4`
 * (4 elements per thread through vec4 accesses, when the count and every offset are
 * multiples of 4 — every packed range and every convolution weight — about 3× the
 * bandwidth on lavapipe) or scalar.
 * Elements before `decayEnd` get weight decay, the rest none: a packed range puts its
 * no-decay parameters (BatchNorm, biases) last, so one dispatch serves both kinds.
 */
import { type BufferView, type UniformType, FLAT_INDEX, defineKernel, grid1d, runKernel } from '@tessera/tensor';

const WG = 256;

/** What one update dispatch covers: n elements of parameter, gradient and each state slot. */
export interface UpdateRange {
  n: number;
  param: BufferView;
  grad: BufferView;
  /** Optimizer state (momentum; Adam's m and v), one per slot. */
  state: BufferView[];
  /** Elements [0, decayEnd) get weight decay, [decayEnd, n) none. */
  decayEnd: number;
}

/** Uniforms every update kernel starts with: count, offsets, decay boundary (in F units). */
const RANGE_FIELDS = { n: 'u32', pOff: 'u32', gOff: 'u32', sOff: 'u32', decayEnd: 'u32' } as const;

/** The update body is written on `F` (f32 or vec4<f32>): every operation in it works on both. */
function kernel<H extends Record<string, UniformType>>(name: string, nState: number, body: string, fields: H, vec4: boolean) {
  const F = vec4 ? 'vec4<f32>' : 'f32';
  const states = Object.fromEntries(Array.from({ length: nState }, (_, k) => [`s${k}`, 'array<F>']));
  return defineKernel({
    name,
    uniforms: { ...RANGE_FIELDS, ...fields },
    inputs: { g: 'array<F>' },
    outputs: { p: 'array<F>', ...states },
    workgroupSize: WG,
    body: `// ${name}${vec4 ? ' (vec4)' : ''}
alias F = ${F};
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let pi = u.pOff + i;
  let si = u.sOff + i;
  let wd = select(0.0, u.wd, i < u.decayEnd);
${body}
}
`,
  });
}

const sgdKernel = (vec4: boolean) =>
  kernel(
    'sgd_step',
    1,
    `  var d = g[u.gOff + i] + wd * p[pi];
  if (u.mom != 0.0) {
    let b = u.mom * s0[si] + d;
    s0[si] = b;
    d = select(b, d + u.mom * b, u.nesterov != 0u);
  }
  p[pi] = p[pi] - u.lr * d;`,
    { lr: 'f32', mom: 'f32', wd: 'f32', nesterov: 'u32' } as const,
    vec4,
  );

const adamKernel = (vec4: boolean) =>
  kernel(
    'adam_step',
    2,
    `  let gi = g[u.gOff + i];
  let pd = p[pi] * (1.0 - u.lr * wd);
  let m = u.beta1 * s0[si] + (1.0 - u.beta1) * gi;
  let v = u.beta2 * s1[si] + (1.0 - u.beta2) * gi * gi;
  s0[si] = m;
  s1[si] = v;
  p[pi] = pd - (u.lr / u.debias1) * m / (sqrt(v / u.debias2) + F(u.eps));`,
    { lr: 'f32', beta1: 'f32', beta2: 'f32', eps: 'f32', wd: 'f32', debias1: 'f32', debias2: 'f32' } as const,
    vec4,
  );

const SGD = [sgdKernel(false), sgdKernel(true)] as const;
const ADAM = [adamKernel(false), adamKernel(true)] as const;

/** Elements per thread: 4 when the count and every offset allow vec4 accesses. */
function lanes(r: UpdateRange): 1 | 4 {
  const offsets = [r.param.offset, r.grad.offset, ...r.state.map((s) => s.offset)];
  if (r.state.some((s) => s.offset !== r.state[0]!.offset)) {
    throw new Error('internal: optimizer state slots must share one layout');
  }
  return r.n % 4 === 0 && r.decayEnd % 4 === 0 && offsets.every((o) => o % 4 === 0) ? 4 : 1;
}

/** The range's uniforms and buffers (offsets and counts in units of `l` elements). */
function range(r: UpdateRange, l: 1 | 4) {
  const uniforms = { n: r.n / l, pOff: r.param.offset / l, gOff: r.grad.offset / l, sOff: (r.state[0]?.offset ?? 0) / l, decayEnd: r.decayEnd / l };
  const buffers: Record<string, GPUBuffer> & { p: GPUBuffer; g: GPUBuffer } = { p: r.param.buffer, g: r.grad.buffer };
  r.state.forEach((s, k) => (buffers[`s${k}`] = s.buffer));
  return { uniforms, buffers, grid: grid1d(r.n / l, WG) };
}

export function sgdStep(r: UpdateRange, h: { lr: number; mom: number; wd: number; nesterov: boolean }): void {
  const l = lanes(r);
  const { uniforms, buffers, grid } = range(r, l);
  runKernel(SGD[l === 4 ? 1 : 0], buffers, { ...uniforms, lr: h.lr, mom: h.mom, wd: h.wd, nesterov: h.nesterov ? 1 : 0 }, grid);
}

export function adamStep(
  r: UpdateRange,
  h: { lr: number; beta1: number; beta2: number; eps: number; wd: number; step: number },
): void {
  const l = lanes(r);
  const { uniforms, buffers, grid } = range(r, l);
  const hyper = { lr: h.lr, beta1: h.beta1, beta2: h.beta2, eps: h.eps, wd: h.wd, debias1: 1 - h.beta1 ** h.step, debias2: 1 - h.beta2 ** h.step };
  runKernel(ADAM[l === 4 ? 1 : 0], buffers, { ...uniforms, ...hyper }, grid);
}
