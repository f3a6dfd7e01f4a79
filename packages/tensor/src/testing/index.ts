/** Test helpers: tolerant comparison with readable failures, seeded inputs, gradient checks, the two-backend op set. */
export * from './check.js';
export * from './random.js';
export * from './ops.js';
export * from './gradcheck.js';
export * from './profiled.js';
