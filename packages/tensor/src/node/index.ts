/**
 * Node-only helpers (file system): the GEMM tuning cache, checked file reads, atomic writes.
 * @module @tessera/tensor/node
 */
export { loadGemmTuningCache, saveGemmTuningCache, tuningCachePath } from './tuning-cache.js';
export { FileReadError, FileWriteError, MAX_READ_BYTES, formatBytes, fsErrorReason, makeFolder, readFileChecked } from './files.js';
export { removeStaleTemps, tempFileOwner, writeAtomic } from './atomic-write.js';
export { tesseraCacheDir } from './cache-dir.js';
export { readWarmupPlan, warmupPlanPath, writeWarmupPlan, type WarmupPlanRead } from './warmup-plan.js';
export { compileAhead, shareOut, type CompileAheadResult } from './compile-ahead.js';
