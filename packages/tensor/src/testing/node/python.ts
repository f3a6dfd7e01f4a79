/**
 * The one bridge to Python for tests and benchmarks that compare against PyTorch: which
 * interpreter, whether it has the modules a comparison needs (and the one printed reason when
 * it has not), running a script, and a scratch folder for the JSON and raw binary that cross.
 *
 * Why /usr/bin/python3 and not `python3` on PATH: Debian's python3-torch, -torchvision and
 * -onnx (scripts/setup.sh --with-torch) are importable only by Debian's interpreter; a pyenv or
 * venv python3 earlier on PATH would not see them. TESSERA_PYTHON overrides it (another
 * interpreter with torch, or a missing one to try the skip path).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** The interpreter every bridge call uses unless told otherwise. */
export const PYTHON = process.env.TESSERA_PYTHON ?? '/usr/bin/python3';

/** What `findPython` found: module versions when `ok`, else the reason, ready to print. */
export interface PythonCheck {
  ok: boolean;
  python: string;
  /** Module name → `__version__`, for the modules that imported. */
  versions: Record<string, string>;
  /** `torch 1.13.0, torchvision 0.14.1` when ok; what is missing and how to install it when not. */
  reason: string;
}

// Imports each module and reports versions or the first failure as JSON; exits 0 either way,
// so a non-zero status means the interpreter itself could not run.
const PROBE = `
import importlib, json, sys
out = {'versions': {}, 'missing': None}
for name in sys.argv[1:]:
    try:
        out['versions'][name] = str(getattr(importlib.import_module(name), '__version__', '?'))
    except Exception as e:
        out['missing'] = {'name': name, 'error': type(e).__name__ + ': ' + str(e)}
        break
print(json.dumps(out))
`;

const INSTALL = 'scripts/setup.sh --with-torch installs them';
const probed = new Map<string, PythonCheck>();

/**
 * Whether `python` can import every one of `modules` (default torch). Probed once per
 * interpreter and module list in this process (an import of torch takes seconds). No time
 * limit: on a loaded machine importing torch + torchvision + onnx has taken over two minutes,
 * and a probe that gave up would skip a comparison that should have run.
 */
export function findPython(modules: readonly string[] = ['torch'], python = PYTHON): PythonCheck {
  const key = `${python}\0${modules.join(',')}`;
  const known = probed.get(key);
  if (known) return known;
  const r = spawnSync(python, ['-c', PROBE, ...modules], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  let check: PythonCheck;
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? lastLine(r.stderr) ?? `exit ${r.status}`;
    check = { ok: false, python, versions: {}, reason: `${python} could not run (${why}); ${INSTALL}, or set TESSERA_PYTHON` };
  } else {
    const out = JSON.parse(r.stdout) as { versions: Record<string, string>; missing: { name: string; error: string } | null };
    check = out.missing
      ? { ok: false, python, versions: out.versions, reason: `${python} cannot import ${out.missing.name} (${out.missing.error}); ${INSTALL}` }
      : { ok: true, python, versions: out.versions, reason: Object.entries(out.versions).map(([m, v]) => `${m} ${v}`).join(', ') };
  }
  probed.set(key, check);
  return check;
}

/**
 * `findPython`, printing `[label] skipped: <reason>` when the modules are missing: the one
 * skip line every PyTorch comparison prints (pass `check.ok` to `describe.skipIf(!…)`).
 */
export function torchOrSkip(label: string, modules: readonly string[] = ['torch']): PythonCheck {
  const check = findPython(modules);
  if (!check.ok) console.log(`[${label}] skipped: ${check.reason}`);
  return check;
}

export interface RunPythonOptions {
  /** Arguments after the script (numbers are written as decimal). */
  args?: readonly (string | number)[];
  /** OMP_NUM_THREADS for the run (default 1: tests share the machine's cores with the GPU adapter). */
  threads?: number;
  /** Killed after this long (default 10 minutes). */
  timeoutMs?: number;
  python?: string;
}

/**
 * Runs a script file (or `{ code }`, a short inline program) and resolves to its stdout.
 * Asynchronous, so Tessera can work while Python does. Rejects with the script's name, exit
 * status and the end of its stderr.
 */
export function runPython(script: string | { code: string }, opts: RunPythonOptions = {}): Promise<string> {
  const { args = [], threads = 1, timeoutMs = 600_000, python = PYTHON } = opts;
  const name = typeof script === 'string' ? basename(script) : 'inline Python';
  const argv = [...(typeof script === 'string' ? [script] : ['-c', script.code]), ...args.map(String)];
  return new Promise((resolve, reject) => {
    const p = spawn(python, argv, { env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${name}: ${python} could not run (${e.message})`));
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(stdout);
      const how = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` after ${timeoutMs / 1000} s` : ''}` : `exit ${code}`;
      reject(new Error(`${name} failed (${how}):\n${stderr.trim().split('\n').slice(-20).join('\n')}`));
    });
  });
}

function lastLine(s: string | null | undefined): string | undefined {
  const line = s?.trim().split('\n').pop();
  return line || undefined;
}

/** Raw little-endian numbers as they cross to and from Python (numpy's tofile / fromfile). */
export type RawArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/**
 * A temporary folder for what a script reads and writes, made on first use (so a skipped
 * suite leaves nothing behind); `remove()` in afterAll.
 */
export interface Scratch {
  readonly dir: string;
  path(name: string): string;
  /** Writes text as is, a typed array as its raw bytes, anything else as JSON; returns the path. */
  write(name: string, data: string | RawArray | object): string;
  json<T>(name: string): T;
  bytes(name: string): Uint8Array;
  f32(name: string): Float32Array;
  f64(name: string): Float64Array;
  remove(): void;
}

export function scratchDir(prefix: string): Scratch {
  let made: string | undefined;
  const dir = () => (made ??= mkdtempSync(join(tmpdir(), `tessera-${prefix}-`)));
  const path = (name: string) => join(dir(), name);
  // A copy: Node's small-file buffers share a pool and may sit at an unaligned offset.
  const bytes = (name: string) => Uint8Array.from(readFileSync(path(name)));
  return {
    get dir() {
      return dir();
    },
    path,
    write(name, data) {
      const raw = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : typeof data === 'string' ? data : JSON.stringify(data);
      writeFileSync(path(name), raw);
      return path(name);
    },
    json: <T>(name: string) => JSON.parse(readFileSync(path(name), 'utf8')) as T,
    bytes,
    f32: (name) => new Float32Array(bytes(name).buffer),
    f64: (name) => new Float64Array(bytes(name).buffer),
    remove() {
      if (made) rmSync(made, { recursive: true, force: true });
      made = undefined;
    },
  };
}
