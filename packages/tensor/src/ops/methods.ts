/**
 * Tensor methods, derived from the functional ops (nothing about an op is written
 * here beyond the forwarding), and the ops the autograd engine needs.
 */
import { Tensor } from '../tensor.js';
import { registerEngineOps } from '../autograd/ops-hook.js';
import { backward, type BackwardOptions } from '../autograd/engine.js';
import type { DType } from '../dtype.js';
import * as ew from './elementwise/op.js';
import * as red from './reduce/op.js';
import * as views from './views/op.js';
import * as idx from './gather/op.js';
import * as sm from './softmax/op.js';
import { matmul } from './matmul/op.js';
import { onesLike } from './create.js';
import { copyInto, uploadInto } from './inplace.js';

type Operand = Tensor | number;
type Axes = number | number[] | undefined;

declare module '../tensor.js' {
  interface Tensor {
    add(b: Operand): Tensor;
    sub(b: Operand): Tensor;
    mul(b: Operand): Tensor;
    div(b: Operand): Tensor;
    pow(b: Operand): Tensor;
    maximum(b: Tensor): Tensor;
    minimum(b: Tensor): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    abs(): Tensor;
    relu(): Tensor;
    leakyRelu(slope?: number): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    clamp(lo: number, hi: number): Tensor;
    eq(b: Operand): Tensor;
    ne(b: Operand): Tensor;
    lt(b: Operand): Tensor;
    le(b: Operand): Tensor;
    gt(b: Operand): Tensor;
    ge(b: Operand): Tensor;
    cast(to: DType): Tensor;
    sum(axes?: Axes, keepdim?: boolean): Tensor;
    mean(axes?: Axes, keepdim?: boolean): Tensor;
    max(axes?: Axes, keepdim?: boolean): Tensor;
    min(axes?: Axes, keepdim?: boolean): Tensor;
    argmax(axis?: number, keepdim?: boolean): Tensor;
    argmin(axis?: number, keepdim?: boolean): Tensor;
    var(axes?: Axes, keepdim?: boolean, correction?: number): Tensor;
    reshape(shape: readonly number[]): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(d0?: number, d1?: number): Tensor;
    expand(shape: readonly number[]): Tensor;
    slice(axis: number, start: number, end?: number, step?: number): Tensor;
    squeeze(axis?: number): Tensor;
    unsqueeze(axis: number): Tensor;
    flatten(startDim?: number): Tensor;
    matmul(b: Tensor): Tensor;
    clone(): Tensor;
    /** A tensor sharing storage but cut from the graph. */
    detach(): Tensor;
    backward(opts?: BackwardOptions): void;
    gather(axis: number, index: Tensor): Tensor;
    indexSelect(axis: number, index: Tensor): Tensor;
    /** One-hot rows for integer labels (f32, one more dimension). */
    oneHot(nClasses: number): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    /** Copies another tensor's values into this one's storage (no autograd). */
    copyFrom(src: Tensor): Tensor;
    /** Uploads host values into this tensor's storage (no autograd). */
    load(data: Float32Array | Int32Array | Uint32Array): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (b) { return ew.add(this, b); };
P.sub = function (b) { return ew.sub(this, b); };
P.mul = function (b) { return ew.mul(this, b); };
P.div = function (b) { return ew.div(this, b); };
P.pow = function (b) { return ew.pow(this, b); };
P.maximum = function (b) { return ew.maximum(this, b); };
P.minimum = function (b) { return ew.minimum(this, b); };
P.neg = function () { return ew.neg(this); };
P.exp = function () { return ew.exp(this); };
P.log = function () { return ew.log(this); };
P.sqrt = function () { return ew.sqrt(this); };
P.rsqrt = function () { return ew.rsqrt(this); };
P.abs = function () { return ew.abs(this); };
P.relu = function () { return ew.relu(this); };
P.leakyRelu = function (s) { return ew.leakyRelu(this, s); };
P.sigmoid = function () { return ew.sigmoid(this); };
P.tanh = function () { return ew.tanh(this); };
P.clamp = function (lo, hi) { return ew.clamp(this, lo, hi); };
for (const name of Object.keys(ew.COMPARE) as ew.CompareName[]) {
  P[name] = function (this: Tensor, b: Operand) { return ew.compare(name, this, b); };
}
P.cast = function (to) { return ew.cast(this, to); };
P.sum = function (a, k) { return red.sum(this, a, k); };
P.mean = function (a, k) { return red.mean(this, a, k); };
P.max = function (a, k) { return red.max(this, a, k); };
P.min = function (a, k) { return red.min(this, a, k); };
P.argmax = function (a, k) { return red.argmax(this, a, k); };
P.argmin = function (a, k) { return red.argmin(this, a, k); };
P.var = function (a, k, c) { return red.variance(this, a, k, c); };
P.reshape = function (s) { return views.reshape(this, s); };
P.permute = function (d) { return views.permute(this, d); };
P.transpose = function (a, b) { return views.transpose(this, a, b); };
P.expand = function (s) { return views.expand(this, s); };
P.slice = function (a, s, e, st) { return views.slice(this, a, s, e, st); };
P.squeeze = function (a) { return views.squeeze(this, a); };
P.unsqueeze = function (a) { return views.unsqueeze(this, a); };
P.flatten = function (s) { return views.flatten(this, s); };
P.matmul = function (b) { return matmul(this, b); };
P.contiguous = function () { return views.contiguous(this); };
P.clone = function () { return ew.copy(this); };
P.detach = function () { return this.view(this.shape, this.strides, this.offset); };
P.backward = function (opts) { backward(this, opts); };
P.gather = function (a, i) { return idx.gather(this, a, i); };
P.indexSelect = function (a, i) { return idx.indexSelect(this, a, i); };
P.oneHot = function (n) { return idx.oneHot(this, n); };
P.softmax = function (a) { return sm.softmax(this, a); };
P.logSoftmax = function (a) { return sm.logSoftmax(this, a); };
P.copyFrom = function (src) { return copyInto(this, src); };
P.load = function (data) { return uploadInto(this, data); };

registerEngineOps({ add: (a, b) => ew.add(a, b), onesLike, copy: ew.copy });
