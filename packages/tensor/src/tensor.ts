/**
 * The Tensor: a strided view of a reference-counted GPU storage. Views
 * (reshape/transpose/permute/expand/slice) share storage; ops that need dense input
 * call `contiguous()`. Memory is released by `dispose()`, by the `tidy()` scope that
 * created the tensor, or (as a backstop) when the garbage collector finds it.
 * Ops are attached to the prototype by the op modules (see ops/).
 */
import { type DType, BYTES_PER_ELEMENT, arrayFor } from './dtype.js';
import { acquireBuffer, reclaimBuffer, releaseBuffer } from './runtime/pool.js';
import { copyBuffer, readBuffer } from './runtime/queue.js';
import { TesseraError, fmtShape } from './runtime/errors.js';
import { type Shape, contiguousStrides, isContiguous, numel } from './shape.js';
import type { Node } from './autograd/node.js';
import { track, untrack } from './autograd/scope.js';
import { inBackward } from './autograd/grad-mode.js';

export class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly elements: number,
  ) {}
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) releaseBuffer(this.buffer);
  }
  /** A reference dropped by the garbage collector (counted separately: it signals a missing dispose). */
  releaseFromGC(): void {
    if (--this.refs === 0) reclaimBuffer(this.buffer);
  }
}

const finalizer = new FinalizationRegistry<Storage>((s) => s.releaseFromGC());
let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  private _offset: number;
  readonly dtype: DType;
  private _storage: Storage | null;
  requiresGrad = false;
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor (null for leaves). */
  node: Node | null = null;
  /** Kept tensors survive the tidy() scope they were created in. */
  kept = false;
  private holds = 0;
  private disposeRequested = false;
  name?: string;

  constructor(storage: Storage, shape: Shape, dtype: DType, strides?: readonly number[], offset = 0) {
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this._offset = offset;
    this.dtype = dtype;
    finalizer.register(this, storage, this);
    track(this);
  }

  /** A new tensor with fresh (uninitialised) storage. */
  static empty(shape: Shape, dtype: DType = 'f32', label?: string): Tensor {
    const n = numel(shape);
    return new Tensor(new Storage(acquireBuffer(n * BYTES_PER_ELEMENT, label), n), shape, dtype);
  }

  /** A view sharing this tensor's storage. */
  view(shape: Shape, strides: readonly number[] | undefined, offset: number): Tensor {
    const s = this.storage;
    s.retain();
    return new Tensor(s, shape, this.dtype, strides, offset);
  }

  /**
   * The storage. A tensor the user disposed while the graph still holds it keeps
   * its storage for the backward pass only; anywhere else that is a use after dispose.
   */
  get storage(): Storage {
    if (!this._storage || (this.disposeRequested && !inBackward())) throw this.disposedError();
    return this._storage;
  }

  /** Throws the use-after-dispose error (naming `op`) if this tensor was disposed. */
  assertAlive(op: string): void {
    if (!this._storage || (this.disposeRequested && !inBackward())) throw this.disposedError(op);
  }

  private disposedError(op?: string): TesseraError {
    return new TesseraError(
      `${op ? `${op}: ` : ''}tensor #${this.id}${this.name ? ` (${this.name})` : ''} of shape ${fmtShape(this.shape)} ` +
        `(${this.dtype}) was used after it was disposed`,
    );
  }

  get buffer(): GPUBuffer {
    return this.storage.buffer;
  }

  /** Offset of element [0,…,0] in the storage, in elements (changes only through moveInto). */
  get offset(): number {
    return this._offset;
  }

  /**
   * Copies this dense tensor's elements into `flat` (dense, same dtype) at element `at`
   * and makes this tensor, the same object, a view there from now on. Optimizers use it
   * to pack a group's parameters into one buffer that a single kernel updates; modules
   * keep their parameter objects. The old storage is released (its other views, if any,
   * keep it and the values it had); the new one is retained, so it lives while any of
   * the tensors moved into it, or `flat` itself, does.
   */
  moveInto(flat: Tensor, at: number): void {
    this.assertAlive('moveInto');
    if (!this.isContiguous || !flat.isContiguous || flat.dtype !== this.dtype || at < 0 || at + this.size > flat.size) {
      throw new TesseraError(
        `moveInto: cannot place dense ${fmtShape(this.shape)} (${this.dtype}, contiguous: ${this.isContiguous}) ` +
          `at element ${at} of ${fmtShape(flat.shape)} (${flat.dtype}, contiguous: ${flat.isContiguous})`,
      );
    }
    const target = flat.storage;
    const to = flat.offset + at;
    if (target === this._storage) {
      if (to === this._offset) return;
      throw new TesseraError('moveInto: the target is this tensor\'s own storage at another offset (an overlapping copy)');
    }
    copyBuffer(this.buffer, this._offset * BYTES_PER_ELEMENT, target.buffer, to * BYTES_PER_ELEMENT, this.size * BYTES_PER_ELEMENT);
    target.retain();
    const old = this._storage!;
    // The finalizer backstop must release the storage this tensor now holds.
    finalizer.unregister(this);
    finalizer.register(this, target, this);
    this._storage = target;
    this._offset = to;
    old.release();
  }

  /** True once dispose() was called (even if graph references still keep the storage alive). */
  get isDisposed(): boolean {
    return this._storage === null || this.disposeRequested;
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return numel(this.shape);
  }

  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  get isLeaf(): boolean {
    return this.node === null;
  }

  /**
   * Frees the storage. While autograd nodes still need this tensor (it is an input
   * of a recorded op whose backward has not run), freeing waits until they release it.
   */
  dispose(): void {
    if (!this._storage) return;
    untrack(this);
    this.disposeRequested = true;
    if (this.holds > 0) return;
    finalizer.unregister(this);
    const s = this._storage;
    this._storage = null;
    const node = this.node;
    this.node = null;
    s.release();
    node?.release();
  }

  /** Graph references: a recorded op that has this tensor as input holds it until its backward ran. */
  hold(): void {
    this.holds++;
  }

  unhold(): void {
    if (--this.holds === 0 && this.disposeRequested) this.dispose();
  }

  /** Marks this tensor to survive enclosing tidy() scopes. Returns this. */
  keep(): this {
    this.kept = true;
    untrack(this);
    return this;
  }

  /** Sets requiresGrad (leaves only) and returns this. */
  requireGrad(flag = true): this {
    if (!this.isLeaf) throw new TesseraError('requireGrad: only leaf tensors can be marked; use detach() first');
    if (flag && this.dtype !== 'f32') throw new TesseraError(`requireGrad: only f32 tensors can require gradients (got ${this.dtype})`);
    this.requiresGrad = flag;
    return this;
  }

  /** Copies the elements to the CPU in logical (row-major) order. The only async step. */
  async toArray(): Promise<Float32Array | Int32Array | Uint32Array> {
    this.assertAlive('toArray');
    const src = this.isContiguous ? this : this.contiguous();
    const bytes = src.size * BYTES_PER_ELEMENT;
    const data = await readBuffer(src.buffer, src.offset * BYTES_PER_ELEMENT, bytes);
    if (src !== this) src.dispose();
    return arrayFor(this.dtype, data);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    this.assertAlive('item');
    if (this.size !== 1) throw new TesseraError(`item: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return (await this.toArray())[0]!;
  }

  toString(): string {
    return `Tensor(${fmtShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

// Declarations of the methods the op modules attach to Tensor.prototype.
export interface Tensor {
  contiguous(): Tensor;
}
