/**
 * A group's parameters packed into one flat buffer (a chunk, see flat-layout.ts), with
 * optimizer state in flat buffers of the same layout, so that one dispatch updates
 * many parameters. This file owns the device side: moving the parameters in, the
 * state and its per-parameter views (what checkpoints export), and gathering a run's
 * gradients into one range with buffer copies (copies, not dispatches).
 */
import { BYTES_PER_ELEMENT as BYTES, Tensor, clearBuffer, copyBuffer, gpu } from '@tessera/tensor';
import { type Chunk, type Run, ALIGN, padded, planLayout, runSpan } from './flat-layout.js';
import type { BufferView } from '@tessera/tensor';
import type { UpdateRange } from './kernels.js';

export class FlatChunk {
  /** Optimizer state, one flat tensor per slot; created on first use, freed by disposeState(). */
  private state: Tensor[] | null = null;

  private constructor(
    readonly layout: Chunk,
    /** The parameters in slot order. */
    readonly members: readonly Tensor[],
    /** The flat parameter buffer and the element where the chunk starts in it. */
    private readonly home: BufferView,
  ) {}

  /**
   * Moves `members` (in the layout's slot order) into a fresh zeroed buffer. The
   * chunk keeps no reference of its own: the members keep the buffer alive, and
   * intact() tells whether they still live there.
   */
  static pack(layout: Chunk, members: readonly Tensor[]): FlatChunk {
    const flat = zeroed(layout.length, 'optimizer-params');
    members.forEach((p, s) => p.moveInto(flat, layout.slots[s]!.offset));
    const chunk = new FlatChunk(layout, members, { buffer: flat.buffer, offset: flat.offset });
    flat.dispose();
    return chunk;
  }

  /**
   * True while every member is alive and where pack() put it. Another optimizer over
   * the same parameters may have moved them; the caller then updates them one by one.
   */
  intact(): boolean {
    return this.members.every(
      (p, s) => !p.isDisposed && p.buffer === this.home.buffer && p.offset === this.home.offset + this.layout.slots[s]!.offset,
    );
  }

  /** Views of member `s`'s state, shaped like it: the optimizer's per-parameter state. */
  stateViews(s: number, slots: number): Tensor[] {
    const slot = this.layout.slots[s]!;
    this.state ??= Array.from({ length: slots }, () => zeroed(this.layout.length, 'optimizer-state').keep());
    return this.state.map((t) => t.view(this.members[s]!.shape, undefined, t.offset + slot.offset).keep());
  }

  /**
   * Calls `update` with the range of one run. A single parameter reads its gradient
   * where autograd left it; a longer run's gradients are copied into one temporary
   * range first, padding zeroed so that the padding of parameters and state stays 0.
   * The state must exist (stateViews() creates it).
   */
  withRange(run: Run, update: (r: UpdateRange) => void): void {
    const span = runSpan(this.layout, run);
    const single = run.end - run.first === 1;
    const n = single ? this.layout.slots[run.first]!.size : span.end - span.start;
    const gathered = single ? null : this.gather(run, span.start, n);
    const grad = gathered ?? this.members[run.first]!.grad!;
    update({
      n,
      param: { buffer: this.home.buffer, offset: this.home.offset + span.start },
      grad: { buffer: grad.buffer, offset: grad.offset },
      state: this.state!.map((t) => ({ buffer: t.buffer, offset: t.offset + span.start })),
      decayEnd: Math.min(n, Math.max(0, this.layout.decayEnd - span.start)),
    });
    gathered?.dispose();
  }

  /** Copies the run's gradients into one range of n elements that starts at `start`. */
  private gather(run: Run, start: number, n: number): Tensor {
    const out = Tensor.empty([n], 'f32', 'optimizer-grads');
    for (let s = run.first; s < run.end; s++) {
      const { offset, size } = this.layout.slots[s]!;
      const g = this.members[s]!.grad!;
      const at = (offset - start) * BYTES;
      copyBuffer(g.buffer, g.offset * BYTES, out.buffer, at, size * BYTES);
      if (padded(size) > size) clearBuffer(out.buffer, at + size * BYTES, (padded(size) - size) * BYTES);
    }
    return out;
  }

  disposeState(): void {
    this.state?.forEach((t) => t.dispose());
    this.state = null;
  }
}

/** A flat f32 tensor of n elements, zero-filled by a clear command (no dispatch). */
function zeroed(n: number, label: string): Tensor {
  const t = Tensor.empty([n], 'f32', label);
  clearBuffer(t.buffer, t.offset * BYTES, n * BYTES);
  return t;
}

/** A group's packed chunks, and the parameters left to update one by one. */
export interface GroupPack {
  chunks: FlatChunk[];
  loose: Tensor[];
}

/**
 * Packs a group's parameters. Left loose: parameters that are not dense or already
 * disposed, and those `placed` already holds (one listed twice, or in two groups,
 * lives in its first chunk; its later listings update it one by one, as before).
 */
export function packGroup(params: readonly Tensor[], noDecay: (p: Tensor) => boolean, placed: Set<Tensor>): GroupPack {
  const packable = (p: Tensor) => !p.isDisposed && p.isContiguous && !placed.has(p);
  const members: Tensor[] = [];
  const loose: Tensor[] = [];
  for (const p of params) {
    if (packable(p)) {
      placed.add(p);
      members.push(p);
    } else {
      loose.push(p);
    }
  }
  const maxElements = Math.floor(gpu().limits.maxStorageBufferBindingSize / BYTES / ALIGN) * ALIGN;
  const layouts = planLayout(members.map((p, index) => ({ index, size: p.size, noDecay: noDecay(p) })), maxElements);
  const chunks = layouts.map((l) => FlatChunk.pack(l, l.slots.map((s) => members[s.index]!)));
  return { chunks, loose };
}
