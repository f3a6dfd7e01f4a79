/**
 * Elementwise ops, each declared once: its WGSL expression, its CPU twin (used by
 * the tests) and its backward. Unary, scalar, binary (broadcasting), comparison and
 * where. Backward passes of activations use one fused kernel each (e.g. relu's
 * grad is a single select), never a chain of small ops.
 */
import { type DType } from '../dtype.js';
import { runMap } from '../kernels/elementwise.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { defineOp, type OpFn } from './registry.js';
import { newTensor, operand, requireDtype, requireSameDtype } from './util.js';
import { sumToShape } from './reduce.js';
import { TesseraError } from '../runtime/errors.js';

/** A map over one tensor with up to two f32 parameters. */
interface UnaryDecl {
  wgsl: string;
  cpu: (x: number, p0: number, p1: number) => number;
  /** Backward from (grad, input, output, params). */
  grad?: (g: Tensor, x: Tensor, y: Tensor, p: [number, number]) => Tensor;
  floatOnly?: boolean;
}

/** Runs a map kernel over broadcast inputs into a new tensor. */
export function mapKernel(name: string, expr: string, inputs: Tensor[], outType: DType, params: [number, number] = [0, 0]): Tensor {
  const shape = inputs.length > 1 ? broadcastShapes(name, ...inputs.map((t) => t.shape)) : [...inputs[0]!.shape];
  const out = newTensor(shape, outType, name);
  runMap({ name, expr, outType }, inputs.map((t) => operand(t, shape)), shape, out.buffer, params);
  return out;
}

// Fused backward kernels (two or three inputs → one output), not ops themselves.
const bw = (name: string, expr: string, ...ins: Tensor[]) => mapKernel(name, expr, ins, 'f32');

export const UNARY = {
  neg: { wgsl: '-x0', cpu: (x) => -x, grad: (g) => neg(g) },
  exp: { wgsl: 'exp(x0)', cpu: Math.exp, grad: (g, _x, y) => bw('exp_grad', 'x0 * x1', g, y), floatOnly: true },
  log: { wgsl: 'log(x0)', cpu: Math.log, grad: (g, x) => bw('log_grad', 'x0 / x1', g, x), floatOnly: true },
  sqrt: { wgsl: 'sqrt(x0)', cpu: Math.sqrt, grad: (g, _x, y) => bw('sqrt_grad', '0.5 * x0 / x1', g, y), floatOnly: true },
  rsqrt: {
    wgsl: 'inverseSqrt(x0)',
    cpu: (x) => 1 / Math.sqrt(x),
    grad: (g, _x, y) => bw('rsqrt_grad', '-0.5 * x0 * x1 * x1 * x1', g, y),
    floatOnly: true,
  },
  abs: { wgsl: 'abs(x0)', cpu: Math.abs, grad: (g, x) => bw('abs_grad', 'x0 * sign(x1)', g, x) },
  relu: {
    wgsl: 'max(x0, 0.0)',
    cpu: (x) => Math.max(x, 0),
    grad: (g, x) => bw('relu_grad', 'select(0.0, x0, x1 > 0.0)', g, x),
    floatOnly: true,
  },
  leakyRelu: {
    wgsl: 'select(x0 * p0, x0, x0 > 0.0)',
    cpu: (x, s) => (x > 0 ? x : x * s),
    grad: (g, x, _y, p) => mapKernel('leaky_relu_grad', 'select(x0 * p0, x0, x1 > 0.0)', [g, x], 'f32', p),
    floatOnly: true,
  },
  sigmoid: {
    // exp(-x) overflows to inf for x < -88, giving exactly 0: the right limit.
    wgsl: '1.0 / (1.0 + exp(-x0))',
    cpu: (x) => 1 / (1 + Math.exp(-x)),
    grad: (g, _x, y) => bw('sigmoid_grad', 'x0 * x1 * (1.0 - x1)', g, y),
    floatOnly: true,
  },
  tanh: {
    // Written with exp(-2|x|) so large |x| saturates instead of producing inf/inf.
    wgsl: 'sign(x0) * (1.0 - exp(-2.0 * abs(x0))) / (1.0 + exp(-2.0 * abs(x0)))',
    cpu: Math.tanh,
    grad: (g, _x, y) => bw('tanh_grad', 'x0 * (1.0 - x1 * x1)', g, y),
    floatOnly: true,
  },
  powScalar: {
    // pow() is undefined for negative bases in WGSL: use |x| and restore the sign for odd integer exponents.
    wgsl: 'select(select(pow(abs(x0), p0), -pow(abs(x0), p0), x0 < 0.0 && abs(p0 % 2.0) == 1.0), 1.0, p0 == 0.0)',
    cpu: (x, p) => x ** p,
    grad: (g, x, _y, p) =>
      mapKernel(
        'pow_scalar_grad',
        'x0 * p0 * select(select(pow(abs(x1), p0 - 1.0), -pow(abs(x1), p0 - 1.0), x1 < 0.0 && abs((p0 - 1.0) % 2.0) == 1.0), 1.0, p0 == 1.0)',
        [g, x],
        'f32',
        p,
      ),
    floatOnly: true,
  },
  addScalar: { wgsl: 'x0 + p0', cpu: (x, p) => x + p, grad: (g) => g },
  mulScalar: { wgsl: 'x0 * p0', cpu: (x, p) => x * p, grad: (g, _x, _y, p) => mulScalar(g, p[0]) },
  rsubScalar: { wgsl: 'p0 - x0', cpu: (x, p) => p - x, grad: (g) => neg(g) },
  rdivScalar: {
    wgsl: 'p0 / x0',
    cpu: (x, p) => p / x,
    grad: (g, x, _y, p) => mapKernel('rdiv_scalar_grad', '-x0 * p0 / (x1 * x1)', [g, x], 'f32', p),
    floatOnly: true,
  },
  clamp: {
    wgsl: 'clamp(x0, p0, p1)',
    cpu: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
    grad: (g, x, _y, p) => mapKernel('clamp_grad', 'select(0.0, x0, x1 >= p0 && x1 <= p1)', [g, x], 'f32', p),
    floatOnly: true,
  },
} satisfies Record<string, UnaryDecl>;

export type UnaryName = keyof typeof UNARY;

function defineUnary(name: UnaryName): (x: Tensor, p0?: number, p1?: number) => Tensor {
  const d: UnaryDecl = UNARY[name];
  const op: OpFn<[number, number]> = defineOp<[number, number]>({
    name,
    forward(_ctx, [x], p) {
      if (d.floatOnly) requireDtype(name, x!, 'f32');
      return mapKernel(name, d.wgsl, [x!], x!.dtype, p);
    },
    backward: d.grad ? (g, { inputs, output, attrs }) => [d.grad!(g, inputs[0]!, output, attrs)] : undefined,
  });
  return (x, p0 = 0, p1 = 0) => op([x], [p0, p1]);
}

export const neg = defineUnary('neg');
export const exp = defineUnary('exp');
export const log = defineUnary('log');
export const sqrt = defineUnary('sqrt');
export const rsqrt = defineUnary('rsqrt');
export const abs = defineUnary('abs');
export const relu = defineUnary('relu');
const leakyReluOp = defineUnary('leakyRelu');
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => leakyReluOp(x, slope);
export const sigmoid = defineUnary('sigmoid');
export const tanh = defineUnary('tanh');
const powScalarOp = defineUnary('powScalar');
const addScalarOp = defineUnary('addScalar');
const mulScalarOp = defineUnary('mulScalar');
const rsubScalarOp = defineUnary('rsubScalar');
const rdivScalarOp = defineUnary('rdivScalar');
const clampOp = defineUnary('clamp');
export const addScalar = (x: Tensor, s: number): Tensor => addScalarOp(x, s);
export const mulScalar = (x: Tensor, s: number): Tensor => mulScalarOp(x, s);
export const clamp = (x: Tensor, lo: number, hi: number): Tensor => clampOp(x, lo, hi);

/** A map over two broadcast tensors. */
interface BinaryDecl {
  wgsl: string;
  cpu: (a: number, b: number) => number;
  grad?: (g: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null];
}

export const BINARY = {
  add: { wgsl: 'x0 + x1', cpu: (a, b) => a + b, grad: (g) => [g, g] },
  sub: { wgsl: 'x0 - x1', cpu: (a, b) => a - b, grad: (g) => [g, neg(g)] },
  mul: { wgsl: 'x0 * x1', cpu: (a, b) => a * b, grad: (g, a, b) => [bw('mul_grad', 'x0 * x1', g, b), bw('mul_grad', 'x0 * x1', g, a)] },
  div: {
    wgsl: 'x0 / x1',
    cpu: (a, b) => a / b,
    grad: (g, a, b) => [bw('div_grad_a', 'x0 / x1', g, b), bw('div_grad_b', '-x0 * x1 / (x2 * x2)', g, a, b)],
  },
  maximum: {
    wgsl: 'max(x0, x1)',
    cpu: Math.max,
    // Ties split the gradient evenly, like PyTorch.
    grad: (g, a, b) => [
      bw('maximum_grad', 'x0 * select(select(0.0, 0.5, x1 == x2), 1.0, x1 > x2)', g, a, b),
      bw('maximum_grad', 'x0 * select(select(0.0, 0.5, x1 == x2), 1.0, x1 > x2)', g, b, a),
    ],
  },
  minimum: {
    wgsl: 'min(x0, x1)',
    cpu: Math.min,
    grad: (g, a, b) => [
      bw('minimum_grad', 'x0 * select(select(0.0, 0.5, x1 == x2), 1.0, x1 < x2)', g, a, b),
      bw('minimum_grad', 'x0 * select(select(0.0, 0.5, x1 == x2), 1.0, x1 < x2)', g, b, a),
    ],
  },
  pow: {
    wgsl: 'select(select(pow(abs(x0), x1), -pow(abs(x0), x1), x0 < 0.0 && abs(x1 % 2.0) == 1.0), 1.0, x1 == 0.0)',
    cpu: (a, b) => a ** b,
    grad: (g, a, b, y) => [
      bw('pow_grad_a', 'x0 * x2 * select(x3 / x1, pow(x1, x2 - 1.0), x1 == 0.0)', g, a, b, y),
      bw('pow_grad_b', 'x0 * x2 * log(x1)', g, a, y),
    ],
  },
} satisfies Record<string, BinaryDecl>;

export type BinaryName = keyof typeof BINARY;

function defineBinary(name: BinaryName): OpFn<undefined> {
  const d: BinaryDecl = BINARY[name];
  return defineOp({
    name,
    forward(_ctx, [a, b]) {
      const dt = requireSameDtype(name, a!, b!);
      if (name === 'pow') requireDtype(name, a!, 'f32');
      return mapKernel(name, d.wgsl, [a!, b!], dt);
    },
    backward: (g, { inputs, output }) => {
      const [ga, gb] = d.grad!(g, inputs[0]!, inputs[1]!, output);
      return [ga && sumToShape(ga, inputs[0]!.shape), gb && sumToShape(gb, inputs[1]!.shape)];
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
  if (typeof b === 'number') return mulScalar(a, 1 / b);
  return divOp([a, b], undefined);
}
export function pow(a: Tensor, b: Operand): Tensor {
  return typeof b === 'number' ? powScalarOp(a, b) : powOp([a, b], undefined);
}
export const maximum = (a: Tensor, b: Tensor): Tensor => maximumOp([a, b], undefined);
export const minimum = (a: Tensor, b: Tensor): Tensor => minimumOp([a, b], undefined);

/** Comparisons give u32 masks (1 where true), which where() and mul() accept after a cast. */
export const COMPARE = {
  eq: { wgsl: 'x0 == x1', cpu: (a: number, b: number) => a === b },
  ne: { wgsl: 'x0 != x1', cpu: (a: number, b: number) => a !== b },
  lt: { wgsl: 'x0 < x1', cpu: (a: number, b: number) => a < b },
  le: { wgsl: 'x0 <= x1', cpu: (a: number, b: number) => a <= b },
  gt: { wgsl: 'x0 > x1', cpu: (a: number, b: number) => a > b },
  ge: { wgsl: 'x0 >= x1', cpu: (a: number, b: number) => a >= b },
};
export type CompareName = keyof typeof COMPARE;

const compareOps = Object.fromEntries(
  (Object.keys(COMPARE) as CompareName[]).map((name) => [
    name,
    defineOp<undefined>({
      name,
      forward(_ctx, [a, b]) {
        requireSameDtype(name, a!, b!);
        return mapKernel(name, `select(0u, 1u, ${COMPARE[name].wgsl})`, [a!, b!], 'u32');
      },
    }),
  ]),
) as Record<CompareName, OpFn<undefined>>;

export function compare(name: CompareName, a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') {
    const s = mapKernel(`${name}_scalar`, `select(0u, 1u, ${COMPARE[name].wgsl.replace('x1', `${a.dtype}(p0)`)})`, [a], 'u32', [b, 0]);
    return s;
  }
  return compareOps[name]([a, b], undefined);
}

const whereOp = defineOp<undefined>({
  name: 'where',
  forward(_ctx, [c, a, b]) {
    const dt = requireSameDtype('where', a!, b!);
    return mapKernel('where', 'select(x2, x1, x0 != 0)', [c!, a!, b!], dt);
  },
  backward: (g, { inputs: [c, a, b] }) => [
    null,
    sumToShape(mapKernel('where_grad_a', 'select(0.0, x1, x0 != 0)', [c!, g], 'f32'), a!.shape),
    sumToShape(mapKernel('where_grad_b', 'select(x1, 0.0, x0 != 0)', [c!, g], 'f32'), b!.shape),
  ],
});

/** Elementwise select: a where cond is non-zero, else b (all broadcast). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (cond.dtype === 'f32') throw new TesseraError('where: the condition must be an integer mask (u32/i32), e.g. from gt()');
  return whereOp([cond, a, b], undefined);
}

const castOp = defineOp<DType>({
  name: 'cast',
  forward(_ctx, [x], to) {
    return mapKernel(`cast_${to}`, `${to}(x0)`, [x!], to);
  },
  backward: (g, { inputs: [x] }) => [x!.dtype === 'f32' ? g : null],
});

export function cast(x: Tensor, to: DType): Tensor {
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
