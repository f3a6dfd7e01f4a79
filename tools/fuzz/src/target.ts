/**
 * What a fuzz target is, and the property every case must satisfy.
 *
 * A target wraps one parser's public entry point. An input is one or more byte parts (a
 * TF.js model is model.json plus its shards; everything else is one file). The property:
 * the parser returns a result that passes the target's own sanity check, or throws the
 * project's own error class with a message naming the input. Anything else fails the case:
 * a foreign exception (TypeError, RangeError, "Invalid typed array length", a JSON
 * SyntaxError...), an own error that does not name the input, a result that is not what
 * it claims, allocating past the budget, or running past the time bound.
 */

/** A valid input the mutator starts from. */
export interface Seed {
  /** Where it came from, for reports ("cat.jpg", "16x16 palette PNG"). */
  name: string;
  parts: Uint8Array[];
  /** Offsets of structure boundaries per part (markers, chunk starts, length fields). */
  boundaries?: number[][];
  /** Per part, the byte range most edits should land in (e.g. a header). */
  focus?: ([number, number] | undefined)[];
  /** How often each part is the one mutated (default: equally). */
  partWeights?: number[];
}

/** One case's input. */
export interface Sample {
  parts: Uint8Array[];
  /** How it was made, for reports. */
  note: string;
}

export interface Target {
  name: string;
  /** One line: which public function, with what. */
  description: string;
  /** Names of the parts (one for single-file targets). */
  partNames: string[];
  /** Start a fresh worker after this many cases (default: one worker for the whole run). */
  casesPerWorker?: number;
  /** One-time preparation in the thread that runs the cases (e.g. a GPU device). */
  setup?(): Promise<void>;
  /** Valid inputs made by code, plus real files when present (see seeds/real-files.ts). */
  seeds(): Promise<Seed[]>;
  /** Runs the parser; returns its result or throws. `label` is the name the input goes by. */
  run(parts: Uint8Array[], label: string): unknown;
  /** The project's own error for bad input from this parser. */
  isOwnError(err: unknown): boolean;
  /** A check after every case, thrown or not (e.g. GPU memory left behind); returns what is wrong, or null. */
  afterCase?(): string | null;
  /** Extra check of a result; returns what is wrong, or null. */
  checkResult?(result: unknown, parts: Uint8Array[]): string | null;
  /** Makes a mutated input pass a checksum (most random cases get it), so edits reach the code behind it. */
  repair?(parts: Uint8Array[]): Uint8Array[];
  /** Bytes the case may allocate through ArrayBuffers and typed arrays (see alloc-guard.ts). */
  budget(parts: Uint8Array[]): number;
}

export type Outcome =
  | { kind: 'result' }
  | { kind: 'rejected'; message: string }
  | { kind: 'failure'; reason: string; detail: string };

export const MiB = 2 ** 20;

/** Total bytes of an input. */
export function inputSize(parts: readonly Uint8Array[]): number {
  return parts.reduce((n, p) => n + p.byteLength, 0);
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `non-Error thrown: ${String(err)}`;
}

/** The property, applied to what one case did (before time and allocation, which the runner adds). */
export function judge(target: Target, label: string, parts: Uint8Array[], outcome: { result?: unknown; error?: unknown; threw: boolean }): Outcome {
  if (!outcome.threw) {
    const problem = target.checkResult?.(outcome.result, parts) ?? null;
    return problem ? { kind: 'failure', reason: 'bad result', detail: problem } : { kind: 'result' };
  }
  const err = outcome.error;
  if (!target.isOwnError(err)) {
    const stack = err instanceof Error ? (err.stack ?? '').split('\n').slice(0, 6).join('\n') : '';
    return { kind: 'failure', reason: 'foreign exception', detail: `${describeError(err)}\n${stack}` };
  }
  const message = (err as Error).message;
  if (!message.includes(label)) return { kind: 'failure', reason: 'error does not name the input', detail: describeError(err) };
  return { kind: 'rejected', message };
}
