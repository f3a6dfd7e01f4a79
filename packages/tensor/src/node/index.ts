/** @tessera/tensor/node — Node-only helpers (file system): the GEMM tuning cache. */
export { loadGemmTuningCache, saveGemmTuningCache, tuningCachePath } from './tuning-cache.js';
