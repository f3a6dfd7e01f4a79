/** A worker thread of compileAhead: its own device compiles its share of the plan (see runtime/warmup.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { initDevice } from '../runtime/device.js';
import type { KernelSource } from '../runtime/kernel.js';
import { warmKernels } from '../runtime/warmup.js';

await initDevice();
parentPort!.postMessage(await warmKernels((workerData as { kernels: KernelSource[] }).kernels));
