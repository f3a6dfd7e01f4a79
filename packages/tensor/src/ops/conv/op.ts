/**
 * conv2d on NHWC activations with OHWI weights ([out, kh, kw, in/groups]), bias
 * optional: forward, input gradient and filter gradient are the three implicit
 * GEMMs (or Winograd convolutions) of kernels/conv.ts; the bias gradient is a
 * reduction of dy. A Winograd forward whose weight wants a gradient keeps its
 * transform of x for the filter gradient (saved with the node).
 * PyTorch's NCHW/OIHW tensors are converted at the boundary (weight files, tests).
 */
import { conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, type ConvEpilogue, type ConvGeometry } from '../../kernels/conv.js';
import type { WinogradTile } from '../../kernels/winograd.js';
import { isGradEnabled } from '../../autograd/grad-mode.js';
import { runReduce } from '../../kernels/reduce.js';
import { TesseraError, fmtShape } from '../../runtime/errors.js';
import { Tensor } from '../../tensor.js';
import { defineOp } from '../registry.js';
import { tidy } from '../../autograd/scope.js';
import { requireDtype } from '../util.js';
import { add, mul } from '../elementwise/op.js';
import { contiguous } from '../views/op.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

interface ConvAttrs {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

export { setConvAlgorithm, type ConvAlgorithm } from '../../kernels/conv.js';

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;

function geometry(x: Tensor, w: Tensor, a: ConvAttrs): ConvGeometry {
  const op = 'conv2d';
  if (x.rank !== 4) throw new TesseraError(`${op}: input must be NHWC [N, H, W, C], got shape ${fmtShape(x.shape)}`);
  if (w.rank !== 4) throw new TesseraError(`${op}: weight must be OHWI [out, kh, kw, in/groups], got shape ${fmtShape(w.shape)}`);
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [O, KH, KW, CG] = w.shape as [number, number, number, number];
  const g = a.groups;
  if (!Number.isInteger(g) || g < 1) throw new TesseraError(`${op}: groups must be a positive integer, got ${g}`);
  if (C !== CG * g) {
    throw new TesseraError(`${op}: input ${fmtShape(x.shape)} has ${C} channels but weight ${fmtShape(w.shape)} expects ${CG}×${g} groups = ${CG * g}`);
  }
  if (O % g !== 0) throw new TesseraError(`${op}: ${O} output channels are not divisible by groups=${g}`);
  for (const [name, v] of [['stride', a.stride], ['dilation', a.dilation]] as const) {
    if (!v.every((s) => Number.isInteger(s) && s >= 1)) throw new TesseraError(`${op}: ${name} must be positive integers, got ${fmtShape(v)}`);
  }
  if (!a.padding.every((p) => Number.isInteger(p) && p >= 0)) throw new TesseraError(`${op}: padding must be non-negative integers, got ${fmtShape(a.padding)}`);
  const effH = a.dilation[0] * (KH - 1) + 1;
  const effW = a.dilation[1] * (KW - 1) + 1;
  if (effH > H + 2 * a.padding[0] || effW > W + 2 * a.padding[1]) {
    throw new TesseraError(
      `${op}: kernel ${KH}×${KW} (dilation ${a.dilation.join('×')}, ${effH}×${effW} effective) is larger than the padded input ` +
        `${H + 2 * a.padding[0]}×${W + 2 * a.padding[1]} (input ${fmtShape(x.shape)}, padding ${a.padding.join('×')})`,
    );
  }
  const OH = Math.floor((H + 2 * a.padding[0] - effH) / a.stride[0]) + 1;
  const OW = Math.floor((W + 2 * a.padding[1] - effW) / a.stride[1]) + 1;
  return {
    N, H, W, C, O, KH, KW, OH, OW,
    sh: a.stride[0], sw: a.stride[1], ph: a.padding[0], pw: a.padding[1], dh: a.dilation[0], dw: a.dilation[1],
    groups: g,
  };
}

/** The Winograd tile of each saved input transform (the forward's V, kept for the filter gradient). */
const savedTiles = new WeakMap<Tensor, WinogradTile>();

const conv2dOp = defineOp<ConvAttrs>({
  name: 'conv2d',
  forward(ctx, inputs, a) {
    const [x0, w0, b] = inputs;
    requireDtype('conv2d', x0!, 'f32');
    requireDtype('conv2d', w0!, 'f32');
    const g = geometry(x0!, w0!, a);
    if (b && (b.rank !== 1 || b.shape[0] !== g.O)) {
      throw new TesseraError(`conv2d: bias must have shape [${g.O}], got ${fmtShape(b.shape)}`);
    }
    const x = contiguous(x0!);
    const w = contiguous(w0!);
    const out = Tensor.empty([g.N, g.OH, g.OW, g.O], 'f32', 'conv2d');
    const fusedBias = b && g.groups === 1 ? contiguous(b) : null;
    // The filter gradient reuses a Winograd forward's transform of x: kept with the node
    // (ctx.save) when w will want a gradient, freed with it after the backward.
    let V: Tensor | null = null;
    const keep =
      ctx.needsGrad && w0!.requiresGrad
        ? (bytes: number) => {
            V = Tensor.empty([bytes / 4], 'f32', 'conv2d_winograd_V');
            ctx.save({ V });
            return V.buffer;
          }
        : undefined;
    const kept = conv2dForward(
      g,
      { buffer: x.buffer, offset: x.offset },
      { buffer: w.buffer, offset: w.offset },
      out.buffer,
      fusedBias && { buffer: fusedBias.buffer, offset: fusedBias.offset },
      undefined,
      {},
      keep,
    );
    if (V && kept) savedTiles.set(V, kept.tile);
    return b && !fusedBias ? add(out, b) : out;
  },
  backward(dy0, { inputs, attrs, saved }) {
    const [x0, w0, b] = inputs;
    const g = geometry(x0!, w0!, attrs);
    const dy = contiguous(dy0);
    const x = contiguous(x0!);
    const w = contiguous(w0!);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (x0!.requiresGrad) {
      dx = Tensor.empty(x0!.shape, 'f32', 'conv2d_dx');
      conv2dBackwardInput(g, { buffer: dy.buffer, offset: dy.offset }, { buffer: w.buffer, offset: w.offset }, dx.buffer);
    }
    if (w0!.requiresGrad) {
      dw = Tensor.empty(w0!.shape, 'f32', 'conv2d_dw');
      const V = saved.V;
      const savedInput = V ? { buffer: V.buffer, tile: savedTiles.get(V)! } : null;
      // Split-K partial sums: the backward's scope frees them (and the dense copies above).
      const partial = (bytes: number) => Tensor.empty([Math.ceil(bytes / 4)], 'f32', 'conv2d_dw_partial').buffer;
      conv2dBackwardFilter(g, { buffer: x.buffer, offset: x.offset }, { buffer: dy.buffer, offset: dy.offset }, dw.buffer, partial, undefined, savedInput);
    }
    if (b?.requiresGrad) {
      db = Tensor.empty([g.O], 'f32', 'conv2d_db');
      runReduce('sum', { buffer: dy.buffer, dtype: 'f32', shape: [g.N * g.OH * g.OW, g.O], strides: [g.O, 1], offset: dy.offset }, [0], db.buffer);
    }
    return [dx, dw, db];
  },
});

/**
 * 2-D convolution. x: NHWC [N, H, W, C]; w: OHWI [out, kh, kw, C/groups]; bias: [out].
 * Returns NHWC [N, OH, OW, out].
 */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const attrs: ConvAttrs = {
    stride: pair(opts.stride, 1),
    padding: pair(opts.padding, 0),
    dilation: pair(opts.dilation, 1),
    groups: opts.groups ?? 1,
  };
  return conv2dOp(bias ? [x, w, bias] : [x, w], attrs);
}

export interface ConvEpilogueOptions {
  /** Per-output-channel factor applied before the bias: a BatchNorm folded in eval mode. */
  scale?: Tensor | null;
  /** Added to the output (same shape), e.g. a residual block's identity. */
  residual?: Tensor | null;
  act?: 'relu' | { leaky: number } | null;
}

/**
 * act(conv2d(x, w) · scale + bias + residual): one kernel when nothing needs a gradient
 * (inference, eval-mode BatchNorm folded into scale and bias) and groups = 1; otherwise
 * the same composition of differentiable primitives, so gradients are exact either way.
 */
export function conv2dFused(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions & ConvEpilogueOptions = {}): Tensor {
  const { scale = null, residual = null, act = null } = opts;
  const attrs: ConvAttrs = { stride: pair(opts.stride, 1), padding: pair(opts.padding, 0), dilation: pair(opts.dilation, 1), groups: opts.groups ?? 1 };
  const inputs = [x, w, bias, scale, residual].filter((t): t is Tensor => t !== null);
  const needsGrad = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  if (needsGrad || attrs.groups !== 1) return composeEpilogue(x, w, bias, attrs, scale, residual, act);
  for (const t of inputs) requireDtype('conv2d', t, 'f32');
  const g = geometry(x, w, attrs);
  for (const [name, t] of [['bias', bias], ['scale', scale]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== g.O)) throw new TesseraError(`conv2d: ${name} must have shape [${g.O}], got ${fmtShape(t.shape)}`);
  }
  const outShape = [g.N, g.OH, g.OW, g.O];
  if (residual && fmtShape(residual.shape) !== fmtShape(outShape)) {
    throw new TesseraError(`conv2d: residual must have the output's shape ${fmtShape(outShape)}, got ${fmtShape(residual.shape)}`);
  }
  // Dense copies of strided operands are freed with the scope.
  return tidy(() => {
    const [xc, wc, bc, sc, rc] = [x, w, bias, scale, residual].map((t) => (t ? contiguous(t) : null));
    const out = Tensor.empty(outShape, 'f32', 'conv2d');
    const ref = (t: Tensor | null) => (t ? { buffer: t.buffer, offset: t.offset } : undefined);
    const fused: ConvEpilogue = { scale: ref(sc!), residual: ref(rc!), act: act ?? undefined };
    conv2dForward(g, ref(xc!)!, ref(wc!)!, out.buffer, ref(bc!) ?? null, undefined, fused);
    return out;
  });
}

function composeEpilogue(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  attrs: ConvAttrs,
  scale: Tensor | null,
  residual: Tensor | null,
  act: ConvEpilogueOptions['act'],
): Tensor {
  // The epilogue's steps as ops (each differentiable); the intermediates are freed with the scope.
  return tidy(() => {
    let y = conv2dOp(bias && !scale ? [x, w, bias] : [x, w], attrs);
    if (scale) y = mul(y, scale);
    if (bias && scale) y = add(y, bias);
    if (residual) y = add(y, residual);
    if (act === 'relu') y = y.relu();
    else if (act) y = y.leakyRelu(act.leaky);
    return y;
  });
}
