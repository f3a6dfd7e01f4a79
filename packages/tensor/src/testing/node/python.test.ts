// The Python bridge itself: the skip reasons name what is missing and how to get it, raw
// numbers and JSON cross both ways, and a failing script says which one and why.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, findPython, runPython, scratchDir } from './python.js';

const python = findPython([]);
if (!python.ok) console.log(`[python bridge] round trips skipped: ${python.reason}`);

describe('findPython', () => {
  it('names a missing interpreter and how to install one', () => {
    const c = findPython(['torch'], '/nonexistent/python3');
    expect(c.ok).toBe(false);
    expect(c.reason).toMatch(/^\/nonexistent\/python3 could not run \(.*ENOENT.*\); scripts\/setup\.sh --with-torch installs them, or set TESSERA_PYTHON$/);
  });

  it.skipIf(!python.ok)('names the module that does not import, and only probes once', () => {
    const c = findPython(['json', 'tessera_no_such_module']);
    expect(c.ok).toBe(false);
    expect(c.versions).toEqual({ json: expect.any(String) });
    expect(c.reason).toBe(`${PYTHON} cannot import tessera_no_such_module (ModuleNotFoundError: No module named 'tessera_no_such_module'); scripts/setup.sh --with-torch installs them`);
    expect(findPython(['json', 'tessera_no_such_module'])).toBe(c);
  });
});

describe.skipIf(!python.ok)('runPython', () => {
  const scratch = scratchDir('python-bridge');
  afterAll(() => scratch.remove());

  it('passes JSON and raw f32 in, reads f64 and JSON back, with OMP_NUM_THREADS set', async () => {
    scratch.write('in.json', { scale: 3 });
    scratch.write('x.f32', Float32Array.from([1.5, -2, 0.25]));
    const code = [
      'import array, json, os, sys',
      'd = sys.argv[1]',
      "cfg = json.load(open(d + '/in.json'))",
      "x = array.array('f'); x.frombytes(open(d + '/x.f32', 'rb').read())",
      "array.array('d', [v * cfg['scale'] for v in x]).tofile(open(d + '/y.f64', 'wb'))",
      "json.dump({'n': len(x)}, open(d + '/out.json', 'w'))",
      "print(os.environ['OMP_NUM_THREADS'])",
    ].join('\n');
    const stdout = await runPython({ code }, { args: [scratch.dir], threads: 3 });
    expect(stdout.trim()).toBe('3');
    expect(Array.from(scratch.f64('y.f64'))).toEqual([4.5, -6, 0.75]);
    expect(scratch.json<{ n: number }>('out.json')).toEqual({ n: 3 });
  });

  it('makes its folder on first use and removes it', () => {
    const s = scratchDir('python-bridge-lazy');
    s.remove(); // nothing made yet: nothing to do
    const file = s.write('a.txt', 'x');
    expect(existsSync(file)).toBe(true);
    s.remove();
    expect(existsSync(dirname(file))).toBe(false);
  });

  it("rejects with the script's name, exit status and last stderr line", async () => {
    const script = scratch.write('fails.py', "import sys\nprint('working', file=sys.stderr)\nsys.exit('bad input: x.f32 is empty')\n");
    await expect(runPython(script)).rejects.toThrow(/^fails\.py failed \(exit 1\):\nworking\nbad input: x\.f32 is empty$/);
  });

  it('rejects when the interpreter cannot start', async () => {
    await expect(runPython({ code: 'pass' }, { python: '/nonexistent/python3' })).rejects.toThrow(/inline Python: \/nonexistent\/python3 could not run \(.*ENOENT/);
  });
});
