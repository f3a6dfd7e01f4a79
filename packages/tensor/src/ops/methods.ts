/**
 * The Tensor methods that are not ops (autograd, in-place copies), and the ops the
 * autograd engine needs. Every op's method is declared with the op, in its folder's
 * api.ts (`defineApi` installs it).
 */
import { Tensor } from '../tensor.js';
import { registerEngineOps } from '../autograd/ops-hook.js';
import { backward, type BackwardOptions } from '../autograd/engine.js';
import { add, copy } from './elementwise/op.js';
import { onesLike } from './create.js';
import { copyInto, uploadInto } from './inplace.js';

declare module '../tensor.js' {
  interface Tensor {
    /** A tensor sharing storage but cut from the graph. */
    detach(): Tensor;
    backward(opts?: BackwardOptions): void;
    /** Copies another tensor's values into this one's storage (no autograd). */
    copyFrom(src: Tensor): Tensor;
    /** Uploads host values into this tensor's storage (no autograd). */
    load(data: Float32Array | Int32Array | Uint32Array): Tensor;
  }
}

const P = Tensor.prototype;
P.detach = function () { return this.view(this.shape, this.strides, this.offset); };
P.backward = function (opts) { backward(this, opts); };
P.copyFrom = function (src) { return copyInto(this, src); };
P.load = function (data) { return uploadInto(this, data); };

registerEngineOps({ add: (a, b) => add(a, b), onesLike, copy });
