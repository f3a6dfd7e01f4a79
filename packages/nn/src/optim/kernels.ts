/**
 * Fused optimizer updates: one dispatch reads the gradient and the state once and
 * writes parameter and state once, over a dense range of elements — one parameter, or
 * many packed into one flat buffer (see flat-group.ts).
 * Variants: sgd (momentum, nesterov, coupled weight decay), adam (fastai's Adam:
 * decoupled weight decay, dampened first moment, debiased step); each as `vec4`
 * (4 elements per thread through vec4 accesses, when the count and every offset are
 * multiples of 4 — every packed range and every convolution weight — about 3× the
 * bandwidth on lavapipe) or scalar.
 * Elements before `decayEnd` get weight decay, the rest none: a packed range puts its
 * no-decay parameters (BatchNorm, biases) last, so one dispatch serves both kinds.
 */
import { dispatch, getKernel, grid1d, uniformWords, FLAT_INDEX } from '@tessera/tensor';

const WG = 256;

/** A buffer and the element offset the range starts at in it. */
export interface BufferRef {
  buffer: GPUBuffer;
  offset: number;
}

/** What one update dispatch covers: n elements of parameter, gradient and each state slot. */
export interface UpdateRange {
  n: number;
  param: BufferRef;
  grad: BufferRef;
  /** Optimizer state (momentum; Adam's m and v), one per slot. */
  state: BufferRef[];
  /** Elements [0, decayEnd) get weight decay, [decayEnd, n) none. */
  decayEnd: number;
}

/** Uniform words every update kernel starts with: count, offsets, decay boundary (in F units). */
const RANGE_WORDS = 5;
const RANGE_FIELDS = 'n: u32, pOff: u32, gOff: u32, sOff: u32, decayEnd: u32,';

/** The update body is written on `F` (f32 or vec4<f32>): every operation in it works on both. */
function kernelCode(name: string, nState: number, body: string, fields: string, vec4: boolean): string {
  const F = vec4 ? 'vec4<f32>' : 'f32';
  const states = Array.from({ length: nState }, (_, k) => `@group(0) @binding(${k + 3}) var<storage, read_write> s${k}: array<${F}>;`).join('\n');
  return `// ${name}${vec4 ? ' (vec4)' : ''}
alias F = ${F};
struct U { ${RANGE_FIELDS} ${fields} }
const WG = ${WG}u;
@group(0) @binding(0) var<uniform> u: U;
@group(0) @binding(1) var<storage, read_write> p: array<F>;
@group(0) @binding(2) var<storage, read> g: array<F>;
${states}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = ${FLAT_INDEX};
  if (i >= u.n) { return; }
  let pi = u.pOff + i;
  let si = u.sOff + i;
  let wd = select(0.0, u.wd, i < u.decayEnd);
${body}
}
`;
}

const sgdCode = (vec4: boolean) =>
  kernelCode(
    'sgd_step',
    1,
    `  var d = g[u.gOff + i] + wd * p[pi];
  if (u.mom != 0.0) {
    let b = u.mom * s0[si] + d;
    s0[si] = b;
    d = select(b, d + u.mom * b, u.nesterov != 0u);
  }
  p[pi] = p[pi] - u.lr * d;`,
    'lr: f32, mom: f32, wd: f32, nesterov: u32,',
    vec4,
  );

const adamCode = (vec4: boolean) =>
  kernelCode(
    'adam_step',
    2,
    `  let gi = g[u.gOff + i];
  let pd = p[pi] * (1.0 - u.lr * wd);
  let m = u.beta1 * s0[si] + (1.0 - u.beta1) * gi;
  let v = u.beta2 * s1[si] + (1.0 - u.beta2) * gi * gi;
  s0[si] = m;
  s1[si] = v;
  p[pi] = pd - (u.lr / u.debias1) * m / (sqrt(v / u.debias2) + F(u.eps));`,
    'lr: f32, beta1: f32, beta2: f32, eps: f32, wd: f32, debias1: f32, debias2: f32,',
    vec4,
  );

const SGD = [sgdCode(false), sgdCode(true)] as const;
const ADAM = [adamCode(false), adamCode(true)] as const;

/** Elements per thread: 4 when the count and every offset allow vec4 accesses. */
function lanes(r: UpdateRange): 1 | 4 {
  const offsets = [r.param.offset, r.grad.offset, ...r.state.map((s) => s.offset)];
  if (r.state.some((s) => s.offset !== r.state[0]!.offset)) {
    throw new Error('internal: optimizer state slots must share one layout');
  }
  return r.n % 4 === 0 && r.decayEnd % 4 === 0 && offsets.every((o) => o % 4 === 0) ? 4 : 1;
}

/** Uniform words: the range (in units of `l` elements), then `extra` hyper-parameter words. */
function rangeWords(r: UpdateRange, l: 1 | 4, extra: number) {
  const w = uniformWords(RANGE_WORDS + extra);
  w.u32[0] = r.n / l;
  w.u32[1] = r.param.offset / l;
  w.u32[2] = r.grad.offset / l;
  w.u32[3] = (r.state[0]?.offset ?? 0) / l;
  w.u32[4] = r.decayEnd / l;
  return w;
}

function run(name: string, codes: readonly [string, string], r: UpdateRange, l: 1 | 4, words: Uint32Array): void {
  const buffers = [r.param.buffer, r.grad.buffer, ...r.state.map((s) => s.buffer)];
  dispatch(getKernel(name, codes[l === 4 ? 1 : 0]), buffers, words, grid1d(r.n / l, WG));
}

export function sgdStep(r: UpdateRange, h: { lr: number; mom: number; wd: number; nesterov: boolean }): void {
  const l = lanes(r);
  const w = rangeWords(r, l, 4);
  w.f32[5] = h.lr;
  w.f32[6] = h.mom;
  w.f32[7] = h.wd;
  w.u32[8] = h.nesterov ? 1 : 0;
  run('sgd_step', SGD, r, l, w.u32);
}

export function adamStep(
  r: UpdateRange,
  h: { lr: number; beta1: number; beta2: number; eps: number; wd: number; step: number },
): void {
  const l = lanes(r);
  const w = rangeWords(r, l, 7);
  w.f32[5] = h.lr;
  w.f32[6] = h.beta1;
  w.f32[7] = h.beta2;
  w.f32[8] = h.eps;
  w.f32[9] = h.wd;
  w.f32[10] = 1 - h.beta1 ** h.step;
  w.f32[11] = 1 - h.beta2 ** h.step;
  run('adam_step', ADAM, r, l, w.u32);
}
