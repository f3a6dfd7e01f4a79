/**
 * Node-only test helpers: the bridge to Python and PyTorch that every package's reference
 * comparisons (and the benchmark's PyTorch column) go through.
 * @module @tessera/tensor/testing/node
 */
export { PYTHON, findPython, runPython, scratchDir, torchOrSkip, type PythonCheck, type RawArray, type RunPythonOptions, type Scratch } from './python.js';
