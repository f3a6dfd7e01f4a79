import { initDevice, gpuObject } from '@tessera/tensor';
await initDevice();
Object.defineProperty(globalThis, 'navigator', { value: { gpu: gpuObject() }, configurable: true, writable: true });
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
await tf.setBackend('webgpu'); await tf.ready();
const be = tf.backend();
const settle = async () => { be.endComputePassEncoder(); if (be.commandEncoder) be.submitQueue(); await be.device.queue.onSubmittedWorkDone(); };
const [M, N, K] = (process.argv[2] ?? '1024x1024x1024').split('x').map(Number);
const a = tf.randomUniform([M, K]); const b = tf.randomUniform([K, N]);
let c = tf.matMul(a, b); await settle();
for (let r = 0; r < 6; r++) { const c0 = process.cpuUsage(); const t0 = performance.now(); c.dispose(); c = tf.matMul(a, b); await settle(); const t = performance.now() - t0; const cu = process.cpuUsage(c0); console.log('tfjs', t.toFixed(0), 'ms', (2*M*N*K/t/1e6).toFixed(2), 'GFLOP/s cpu', ((cu.user+cu.system)/1000).toFixed(0)); }
process.exit(0);
