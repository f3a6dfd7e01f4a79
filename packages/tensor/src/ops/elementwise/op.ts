/**
 * Elementwise ops, each declared once: its WGSL expression, its CPU twin (used by
 * the tests through reference/) and its backward. Unary, scalar, binary
 * (broadcasting), comparison and where. Backward passes of activations use one
 * fused kernel each (e.g. relu's grad is a single select), never a chain of small ops.
 *
 * Integer tensors: the ops listed with integer dtypes run on them with integer
 * semantics (wrapping arithmetic, division truncating toward zero, x / 0 = x as in
 * WGSL); their scalar parameters must then be integers and travel as exact integer
 * words. Everything else is f32 only and says so.
 */
import { type DType } from '../../dtype.js';
import { runMap } from '../../kernels/elementwise.js';
import { broadcastShapes } from '../../shape.js';
import { Tensor } from '../../tensor.js';
import { defineOp, type OpFn } from '../registry.js';
import { tidy } from '../../autograd/scope.js';
import { newTensor, operand, requireDtype, requireSameDtype } from '../util.js';
import { sumToShape } from '../reduce/op.js';
import { TesseraError, fmtShape } from '../../runtime/errors.js';
import { isNanWgsl, powfCpu, powfScalarCpu } from '../../kernels/wgsl-float.js';

const ALL: readonly DType[] = ['f32', 'i32', 'u32'];
const SIGNED: readonly DType[] = ['f32', 'i32'];

/** A map over one tensor with up to two scalar parameters. */
export interface UnaryDecl {
  wgsl: string;
  /** CPU twin (float semantics; the result is rounded to the output's dtype). */
  cpu: (x: number, p0: number, p1: number) => number;
  /** CPU twin for integer dtypes where it differs from `cpu` (e.g. wrapping multiply). */
  cpuInt?: (x: number, p0: number, p1: number) => number;
  /** Backward from (grad, input, output, params). */
  grad?: (g: Tensor, x: Tensor, y: Tensor, p: [number, number]) => Tensor;
  /** Dtypes the op accepts (default f32 only). */
  dtypes?: readonly DType[];
  /** The f32 expression where it differs from `wgsl` (NaN handling the integer types must not see). */
  wgslFloat?: string;
  /** A public function of one tensor: in UNARY_FUNCTIONS, a Tensor method and an OpSet entry (api.ts). */
  method?: true;
}

/**
 * Runs a map kernel over broadcast inputs into a new tensor. `paramType` is the
 * type of p0/p1 in the expression (f32 unless integer parameters are needed).
 */
export function mapKernel(
  name: string,
  expr: string,
  inputs: Tensor[],
  outType: DType,
  params: [number, number] = [0, 0],
  paramType: DType = 'f32',
): Tensor {
  const shape = inputs.length > 1 ? broadcastShapes(name, ...inputs.map((t) => t.shape)) : [...inputs[0]!.shape];
  const out = newTensor(shape, outType, name);
  runMap({ name, expr, outType, paramType }, inputs.map((t) => operand(t, shape)), shape, out.buffer, params);
  return out;
}

// Fused backward kernels (two or three inputs → one output), not ops themselves.
const bw = (name: string, expr: string, ...ins: Tensor[]) => mapKernel(name, expr, ins, 'f32');

// WGSL's pow is undefined for x ≤ 0: powf (kernels/wgsl-float.ts) has C's special cases, as torch.pow.
const isNan = isNanWgsl;
// x^y's gradients as PyTorch: d/dx = y·x^(y−1), 0 where y = 0; d/dy = x^y·ln x, 0 where x = 0 and y ≥ 0.
const powGradX = (g: string, x: string, y: string, fn = 'powf') => `select(${g} * (${y} * ${fn}(${x}, ${y} - 1.0)), 0.0, ${y} == 0.0)`;

// Typed, so that UNARY's type does not depend on neg's (derived from UNARY below).
const negGrad = (g: Tensor): Tensor => neg(g);

export const UNARY = {
  neg: { wgsl: '-x0', cpu: (x) => -x, grad: negGrad, dtypes: SIGNED, method: true },
  // expf/logf: NaN in, NaN out, log(x < 0) = NaN on every adapter (kernels/wgsl-float.ts).
  exp: { wgsl: 'expf(x0)', cpu: Math.exp, grad: (g, _x, y) => bw('exp_grad', 'x0 * x1', g, y), method: true },
  log: { wgsl: 'logf(x0)', cpu: Math.log, grad: (g, x) => bw('log_grad', 'x0 / x1', g, x), method: true },
  sqrt: { wgsl: 'sqrt(x0)', cpu: Math.sqrt, grad: (g, _x, y) => bw('sqrt_grad', '0.5 * x0 / x1', g, y), method: true },
  rsqrt: {
    wgsl: 'inverseSqrt(x0)',
    cpu: (x) => 1 / Math.sqrt(x),
    grad: (g, _x, y) => bw('rsqrt_grad', '-0.5 * x0 * x1 * x1 * x1', g, y),
    method: true,
  },
  abs: { wgsl: 'abs(x0)', cpu: Math.abs, grad: (g, x) => bw('abs_grad', 'x0 * sign(x1)', g, x), dtypes: ALL, method: true },
  relu: {
    // Written so NaN propagates (max(NaN, 0) is 0 on some drivers): a diverging run must reach the loss.
    wgsl: 'select(x0, 0.0, x0 < 0.0)',
    cpu: (x) => Math.max(x, 0),
    // PyTorch zeroes the gradient where relu(x) <= 0, so a NaN input passes it on.
    grad: (g, x) => bw('relu_grad', `select(0.0, x0, x1 > 0.0 || ${isNan('x1')})`, g, x),
    method: true,
  },
  leakyRelu: {
    wgsl: 'select(x0 * p0, x0, x0 > 0.0)',
    cpu: (x, s) => (x > 0 ? x : x * s),
    grad: (g, x, _y, p) => mapKernel('leaky_relu_grad', 'select(x0 * p0, x0, x1 > 0.0)', [g, x], 'f32', p),
  },
  sigmoid: {
    // exp(-x) overflows to inf for x < -88, giving exactly 0: the right limit.
    wgsl: '1.0 / (1.0 + expf(-x0))',
    cpu: (x) => 1 / (1 + Math.exp(-x)),
    grad: (g, _x, y) => bw('sigmoid_grad', 'x0 * x1 * (1.0 - x1)', g, y),
    method: true,
  },
  tanh: {
    // |x| ≥ 0.25: with exp(-2|x|), so large |x| saturates instead of producing inf/inf.
    // Below, 1 − exp(−2|x|) cancels (tanh(1e-6) was 1.3% off): the Taylor series to x⁹,
    // whose next term is under 1e-8 of tanh there.
    wgsl:
      'select(sign(x0) * (1.0 - exp(-2.0 * abs(x0))) / (1.0 + exp(-2.0 * abs(x0))), ' +
      'x0 + x0 * (x0 * x0) * (-0.33333333 + (x0 * x0) * (0.13333333 + (x0 * x0) * (-0.053968254 + (x0 * x0) * 0.021869488))), ' +
      'abs(x0) < 0.25)',
    cpu: Math.tanh,
    grad: (g, _x, y) => bw('tanh_grad', 'x0 * (1.0 - x1 * x1)', g, y),
    method: true,
  },
  powScalar: {
    // torch.pow(x, ±0.5) is sqrt/rsqrt, which differ from C's pow at −0 and −∞ (powfScalar).
    wgsl: 'powfScalar(x0, p0)',
    cpu: powfScalarCpu,
    grad: (g, x, _y, p) => mapKernel('pow_scalar_grad', powGradX('x0', 'x1', 'p0', 'powfScalar'), [g, x], 'f32', p),
  },
  addScalar: { wgsl: 'x0 + p0', cpu: (x, p) => x + p, grad: (g) => g, dtypes: ALL },
  mulScalar: {
    wgsl: 'x0 * p0',
    cpu: (x, p) => x * p,
    cpuInt: (x, p) => Math.imul(x, p),
    grad: (g, _x, _y, p) => mulScalar(g, p[0]),
    dtypes: ALL,
  },
  rsubScalar: { wgsl: 'p0 - x0', cpu: (x, p) => p - x, grad: negGrad, dtypes: ALL },
  rdivScalar: {
    wgsl: 'p0 / x0',
    cpu: (x, p) => p / x,
    grad: (g, x, _y, p) => mapKernel('rdiv_scalar_grad', '-x0 * p0 / (x1 * x1)', [g, x], 'f32', p),
  },
  clamp: {
    // min(max()) rather than clamp(): WGSL's clamp is undefined for lo > hi. NaN stays NaN (as
    // PyTorch); WGSL's max/min may drop it. Integer tensors have no NaN to test.
    wgsl: 'min(max(x0, p0), p1)',
    wgslFloat: `select(min(max(x0, p0), p1), x0, ${isNan('x0')})`,
    cpu: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
    grad: (g, x, _y, p) => mapKernel('clamp_grad', 'select(0.0, x0, x1 >= p0 && x1 <= p1)', [g, x], 'f32', p),
    dtypes: ALL,
  },
} satisfies Record<string, UnaryDecl>;

export type UnaryName = keyof typeof UNARY;

function checkIntParams(name: string, x: Tensor, p: [number, number], used: number): void {
  for (let k = 0; k < used; k++) {
    if (!Number.isInteger(p[k])) {
      throw new TesseraError(`${name}: scalar ${p[k]} is not an integer, but the tensor ${fmtShape(x.shape)} is ${x.dtype}; cast it to f32 first`);
    }
  }
}

function defineUnary(name: UnaryName, nParams = 0): (x: Tensor, p0?: number, p1?: number) => Tensor {
  const d: UnaryDecl = UNARY[name];
  const dtypes = d.dtypes ?? ['f32'];
  const op: OpFn<[number, number]> = defineOp<[number, number]>({
    name,
    forward(_ctx, [x], p) {
      requireDtype(name, x!, ...dtypes);
      if (x!.dtype !== 'f32') checkIntParams(name, x!, p, nParams);
      return mapKernel(name, x!.dtype === 'f32' ? (d.wgslFloat ?? d.wgsl) : d.wgsl, [x!], x!.dtype, p, x!.dtype);
    },
    backward: d.grad ? (g, { inputs, output, attrs }) => [d.grad!(g, inputs[0]!, output, attrs)] : undefined,
  });
  return (x, p0 = 0, p1 = 0) => op([x], [p0, p1]);
}

/** The UNARY rows with `method: true`. */
export type UnaryFunctionName = { [K in UnaryName]: (typeof UNARY)[K] extends { method: true } ? K : never }[UnaryName];
/** Their public functions, one per row: a new row is an op, a function here, a Tensor method and an OpSet entry (api.ts). */
export const UNARY_FUNCTIONS = Object.fromEntries(
  (Object.keys(UNARY) as UnaryName[])
    .filter((name) => (UNARY[name] as UnaryDecl).method)
    .map((name) => {
      const op = defineUnary(name);
      return [name, (x: Tensor): Tensor => op(x)];
    }),
) as Record<UnaryFunctionName, (x: Tensor) => Tensor>;
export const { neg, exp, log, sqrt, rsqrt, abs, relu, sigmoid, tanh } = UNARY_FUNCTIONS;
const leakyReluOp = defineUnary('leakyRelu', 1);
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => leakyReluOp(x, slope);
const powScalarOp = defineUnary('powScalar', 1);
const addScalarOp = defineUnary('addScalar', 1);
const mulScalarOp = defineUnary('mulScalar', 1);
const rsubScalarOp = defineUnary('rsubScalar', 1);
const rdivScalarOp = defineUnary('rdivScalar', 1);
const clampOp = defineUnary('clamp', 2);
export const addScalar = (x: Tensor, s: number): Tensor => addScalarOp(x, s);
export const mulScalar = (x: Tensor, s: number): Tensor => mulScalarOp(x, s);
export const clamp = (x: Tensor, lo: number, hi: number): Tensor => {
  if (!(lo <= hi)) throw new TesseraError(`clamp: lo ${lo} is above hi ${hi}`);
  return clampOp(x, lo, hi);
};

/** A map over two broadcast tensors. */
export interface BinaryDecl {
  wgsl: string;
  cpu: (a: number, b: number) => number;
  /** CPU twin for integer dtypes where it differs from `cpu`. */
  cpuInt?: (a: number, b: number) => number;
  /** Gradients before un-broadcasting; `need` says which inputs want one. */
  grad?: (g: Tensor, a: Tensor, b: Tensor, y: Tensor, need: readonly boolean[]) => [Tensor | null, Tensor | null];
  /** Dtypes the op accepts (default: all). */
  dtypes?: readonly DType[];
  /** The f32 expression where it differs from `wgsl` (NaN handling the integer types must not see). */
  wgslFloat?: string;
}

// maximum/minimum's gradient for x1 against x2, as PyTorch: all of it where x1 wins or either
// is NaN (the NaN is the result), half on a tie, none where x1 loses.
const tieGrad = (cmp: '>' | '<') => `x0 * select(select(0.0, 0.5, x1 == x2), 1.0, x1 ${cmp} x2 || ${isNan('x1')} || ${isNan('x2')})`;
// WGSL's max/min may return the other operand for a NaN; x0 + x1 is NaN then.
const nanOr = (e: string) => `select(${e}, x0 + x1, ${isNan('x0')} || ${isNan('x1')})`;

export const BINARY = {
  add: { wgsl: 'x0 + x1', cpu: (a, b) => a + b, grad: (g) => [g, g] },
  sub: { wgsl: 'x0 - x1', cpu: (a, b) => a - b, grad: (g, _a, _b, _y, need) => [g, need[1] ? neg(g) : null] },
  mul: {
    wgsl: 'x0 * x1',
    cpu: (a, b) => a * b,
    cpuInt: (a, b) => Math.imul(a, b),
    grad: (g, a, b, _y, need) => [need[0] ? bw('mul_grad', 'x0 * x1', g, b) : null, need[1] ? bw('mul_grad', 'x0 * x1', g, a) : null],
  },
  div: {
    wgsl: 'x0 / x1',
    cpu: (a, b) => a / b,
    // WGSL integer division truncates, and gives the dividend for x / 0 and INT_MIN / -1.
    cpuInt: (a, b) => (b === 0 || (a === -2147483648 && b === -1) ? a : Math.trunc(a / b)),
    grad: (g, a, b, _y, need) => [
      need[0] ? bw('div_grad_a', 'x0 / x1', g, b) : null,
      // (a / b) / b as PyTorch, not a / b², which overflows for |b| > 1.8e19.
      need[1] ? bw('div_grad_b', '-x0 * ((x1 / x2) / x2)', g, a, b) : null,
    ],
  },
  maximum: {
    wgsl: 'max(x0, x1)',
    wgslFloat: nanOr('max(x0, x1)'),
    cpu: Math.max,
    // Ties split the gradient evenly, like PyTorch.
    grad: (g, a, b, _y, need) => [
      need[0] ? bw('maximum_grad', tieGrad('>'), g, a, b) : null,
      need[1] ? bw('maximum_grad', tieGrad('>'), g, b, a) : null,
    ],
  },
  minimum: {
    wgsl: 'min(x0, x1)',
    wgslFloat: nanOr('min(x0, x1)'),
    cpu: Math.min,
    grad: (g, a, b, _y, need) => [
      need[0] ? bw('minimum_grad', tieGrad('<'), g, a, b) : null,
      need[1] ? bw('minimum_grad', tieGrad('<'), g, b, a) : null,
    ],
  },
  pow: {
    wgsl: 'powf(x0, x1)',
    cpu: powfCpu,
    grad: (g, a, b, y, need) => [
      need[0] ? bw('pow_grad_a', powGradX('x0', 'x1', 'x2'), g, a, b) : null,
      need[1] ? bw('pow_grad_b', `x0 * select(x2 * logf(x1), 0.0, x1 == 0.0 && x3 >= 0.0)`, g, a, y, b) : null,
    ],
    dtypes: ['f32'],
  },
} satisfies Record<string, BinaryDecl>;

export type BinaryName = keyof typeof BINARY;

/**
 * One input's gradient: made by `grad` and summed down to the input's (broadcast) shape in
 * its own scope, so the unreduced one is freed before the next input's is made.
 */
function unbroadcast(shape: readonly number[], grad: () => Tensor | null): Tensor | null {
  return tidy(() => {
    const gi = grad();
    return gi && sumToShape(gi, shape);
  });
}

function defineBinary(name: BinaryName): OpFn<undefined> {
  const d: BinaryDecl = BINARY[name];
  return defineOp({
    name,
    forward(_ctx, [a, b]) {
      const dt = requireSameDtype(name, a!, b!);
      if (d.dtypes) requireDtype(name, a!, ...d.dtypes);
      return mapKernel(name, dt === 'f32' ? (d.wgslFloat ?? d.wgsl) : d.wgsl, [a!, b!], dt);
    },
    backward: (g, { inputs, output, needsInputGrad }) => {
      const [a, b] = inputs as [Tensor, Tensor];
      const only = (i: number) => (needsInputGrad[i] ? unbroadcast(inputs[i]!.shape, () => d.grad!(g, a, b, output, [i === 0, i === 1])[i]!) : null);
      return [only(0), only(1)];
    },
  });
}

const addOp = defineBinary('add');
const subOp = defineBinary('sub');
const mulOp = defineBinary('mul');
const divOp = defineBinary('div');
const maximumOp = defineBinary('maximum');
const minimumOp = defineBinary('minimum');
const powOp = defineBinary('pow');

type Operand = Tensor | number;

export function add(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return addScalar(b as Tensor, a);
  if (typeof b === 'number') return addScalar(a, b);
  return addOp([a, b], undefined);
}
export function sub(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return rsubScalarOp(b as Tensor, a);
  if (typeof b === 'number') return addScalar(a, -b);
  return subOp([a, b], undefined);
}
export function mul(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return mulScalar(b as Tensor, a);
  if (typeof b === 'number') return mulScalar(a, b);
  return mulOp([a, b], undefined);
}
export function div(a: Operand, b: Operand): Tensor {
  if (typeof a === 'number') return rdivScalarOp(b as Tensor, a);
  if (typeof b === 'number') {
    // x * (1/b) is not x / b for integers (and differs in the last bit for floats, which is fine).
    if (a.dtype !== 'f32') throw new TesseraError(`div: dividing the ${a.dtype} tensor ${fmtShape(a.shape)} by a scalar; cast it to f32 first`);
    return mulScalar(a, 1 / b);
  }
  return divOp([a, b], undefined);
}
export function pow(a: Tensor, b: Operand): Tensor {
  return typeof b === 'number' ? powScalarOp(a, b) : powOp([a, b], undefined);
}
export const maximum = (a: Tensor, b: Tensor): Tensor => maximumOp([a, b], undefined);
export const minimum = (a: Tensor, b: Tensor): Tensor => minimumOp([a, b], undefined);

/** Comparisons give u32 masks (1 where true), which where() accepts and cast() turns into numbers. */
export const COMPARE = {
  eq: { wgsl: 'x0 == x1', cpu: (a: number, b: number) => a === b },
  // lavapipe folds a NaN's x != x to false: NaN is tested on its bits (f32 only).
  ne: { wgsl: 'x0 != x1', wgslFloat: `x0 != x1 || ${isNan('x0')} || ${isNan('x1')}`, cpu: (a: number, b: number) => a !== b },
  lt: { wgsl: 'x0 < x1', cpu: (a: number, b: number) => a < b },
  le: { wgsl: 'x0 <= x1', cpu: (a: number, b: number) => a <= b },
  gt: { wgsl: 'x0 > x1', cpu: (a: number, b: number) => a > b },
  ge: { wgsl: 'x0 >= x1', cpu: (a: number, b: number) => a >= b },
};
export type CompareName = keyof typeof COMPARE;
/** The WGSL of a comparison for operands of dtype dt. */
const compareWgsl = (name: CompareName, dt: DType): string => {
  const c: { wgsl: string; wgslFloat?: string } = COMPARE[name];
  return dt === 'f32' ? (c.wgslFloat ?? c.wgsl) : c.wgsl;
};

const compareOps = Object.fromEntries(
  (Object.keys(COMPARE) as CompareName[]).map((name) => [
    name,
    defineOp<undefined>({
      name,
      forward(_ctx, [a, b]) {
        const dt = requireSameDtype(name, a!, b!);
        return mapKernel(name, `select(0u, 1u, ${compareWgsl(name, dt)})`, [a!, b!], 'u32');
      },
    }),
  ]),
) as Record<CompareName, OpFn<undefined>>;

/** Tensor-scalar comparisons: exact integer scalars for integer tensors, else compared as f32. */
const compareScalarOps = Object.fromEntries(
  (Object.keys(COMPARE) as CompareName[]).map((name) => [
    name,
    defineOp<number>({
      name: `${name}Scalar`,
      forward(_ctx, [a], s) {
        // Integer tensors compare exactly with integer scalars in their range, else as f32.
        const lo = a!.dtype === 'u32' ? 0 : -2147483648;
        const hi = a!.dtype === 'u32' ? 4294967295 : 2147483647;
        const exact = a!.dtype === 'f32' || (Number.isInteger(s) && s >= lo && s <= hi);
        const x = exact ? 'x0' : 'f32(x0)';
        const expr = `select(0u, 1u, ${compareWgsl(name, exact ? a!.dtype : 'f32').replace(/x0/g, x).replace(/x1/g, 'p0')})`;
        return mapKernel(`${name}_scalar`, expr, [a!], 'u32', [s, 0], exact ? a!.dtype : 'f32');
      },
    }),
  ]),
) as Record<CompareName, OpFn<number>>;

export function compare(name: CompareName, a: Tensor, b: Operand): Tensor {
  return typeof b === 'number' ? compareScalarOps[name]([a], b) : compareOps[name]([a, b], undefined);
}

const whereOp = defineOp<undefined>({
  name: 'where',
  forward(_ctx, [c, a, b]) {
    if (c!.dtype === 'f32') {
      throw new TesseraError(`where: the condition ${fmtShape(c!.shape)} is f32; it must be an integer mask (u32/i32), e.g. from gt()`);
    }
    const dt = requireSameDtype('where', a!, b!);
    return mapKernel('where', 'select(x2, x1, x0 != 0)', [c!, a!, b!], dt);
  },
  backward: (g, { inputs: [c, a, b], needsInputGrad: need }) => [
    null,
    need[1] ? unbroadcast(a!.shape, () => mapKernel('where_grad_a', 'select(0.0, x1, x0 != 0)', [c!, g], 'f32')) : null,
    need[2] ? unbroadcast(b!.shape, () => mapKernel('where_grad_b', 'select(x1, 0.0, x0 != 0)', [c!, g], 'f32')) : null,
  ],
});

/** Elementwise select: a where cond is non-zero, else b (all broadcast). cond is a u32/i32 mask, e.g. from gt(). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return whereOp([cond, a, b], undefined);
}

const castOp = defineOp<DType>({
  name: 'cast',
  forward(_ctx, [x], to) {
    // WGSL converts f32 → integer by truncating toward zero and saturating at the
    // type's range; i32 ↔ u32 reinterpret the bits (wrap).
    return mapKernel(`cast_${to}`, `${to}(x0)`, [x!], to);
  },
  backward: (g, { inputs: [x] }) => [x!.dtype === 'f32' ? g : null],
});

export function cast(x: Tensor, to: DType): Tensor {
  if (!ALL.includes(to)) throw new TesseraError(`cast: unknown dtype ${String(to)}`);
  return castOp([x], to);
}

const copyOp = defineOp<undefined>({
  name: 'copy',
  forward(_ctx, [x]) {
    return mapKernel('copy', 'x0', [x!], x!.dtype);
  },
  backward: (g) => [g],
});

/** A dense copy with fresh storage. */
export function copy(x: Tensor): Tensor {
  return copyOp([x], undefined);
}
