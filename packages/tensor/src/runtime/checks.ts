/**
 * Checks that only the GPU can make: an index tensor's values live on the device,
 * so gather/oneHot cannot validate them when the op is called without a readback
 * (which would stall every training step). Instead each such dispatch gets a slot
 * in a small flag buffer; the kernel clamps a bad index (so it never reads out of
 * bounds) and records it in its slot. The next readback or sync() copies the used
 * slots along with its data and throws a TesseraError naming the op, the shapes and
 * the offending value. So a bad label is reported at the next `item()`/`toArray()`,
 * not at the op call — the one place an asynchronous device can report it.
 */
import { gpu } from './device.js';
import { TesseraError } from './errors.js';

/** Two u32 words per slot: [flag, offending value]. */
const SLOTS = 256;
export const CHECK_WORDS = SLOTS * 2;

let buffer: GPUBuffer | null = null;
let messages: ((bad: number) => string)[] = [];
let overflowCount = 0;
const overflowOps = new Set<string>();

function flagBuffer(): GPUBuffer {
  buffer ??= gpu().device.createBuffer({
    size: CHECK_WORDS * 4,
    usage: 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8 /* COPY_DST */,
    label: 'index-checks',
  });
  return buffer;
}

/**
 * Reserves a slot for one dispatch. `describe` turns the recorded bad value (already
 * reinterpreted as the index dtype) into the error message.
 */
export function checkSlot(op: string, describe: (bad: number) => string): { buffer: GPUBuffer; slot: number } {
  const buf = flagBuffer();
  if (messages.length < SLOTS - 1) {
    messages.push(describe);
    return { buffer: buf, slot: messages.length - 1 };
  }
  // Out of slots before a readback: the last slot is shared, and its message says so.
  overflowCount++;
  overflowOps.add(op);
  const n = overflowCount;
  const ops = [...overflowOps].join(', ');
  messages[SLOTS - 1] = (bad) => `${ops}: an index was out of range (value ${bad}) in one of the last ${n} index ops run before the readback`;
  return { buffer: buf, slot: SLOTS - 1 };
}

/** Slots in use since the last check (0: nothing to read back). */
export function usedCheckWords(): number {
  if (overflowCount > 0) return CHECK_WORDS;
  return messages.length * 2;
}

export function checkBuffer(): GPUBuffer {
  return flagBuffer();
}

/**
 * Takes the messages of the slots in use and resets the CPU side; the caller has
 * already encoded a copy of the flag words and clears the buffer after submitting.
 */
export function takeCheckMessages(): (((bad: number) => string) | undefined)[] {
  const m: (((bad: number) => string) | undefined)[] = [...messages];
  messages = [];
  overflowCount = 0;
  overflowOps.clear();
  return m;
}

/** Throws the first recorded failure, if any, from the copied flag words. */
export function throwIfFlagged(words: Uint32Array, msgs: (((bad: number) => string) | undefined)[]): void {
  const failures: string[] = [];
  for (let s = 0; s < msgs.length; s++) {
    if (words[2 * s] !== 0 && msgs[s]) failures.push(msgs[s]!(words[2 * s + 1]! | 0));
  }
  if (failures.length === 0) return;
  const more = failures.length > 1 ? ` (and ${failures.length - 1} more index errors)` : '';
  throw new TesseraError(`${failures[0]}${more}. Out-of-range indices were clamped, so results computed since are wrong.`);
}
