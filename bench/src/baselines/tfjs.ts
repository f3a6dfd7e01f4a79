/**
 * Baseline: TensorFlow.js with its WebGPU backend (`tfjs-backend-webgpu`), on the
 * same adapter as Tessera in the same process: `navigator.gpu` is pointed at the GPU
 * object Tessera's device came from before the backend is imported. tfjs makes its
 * own device on that adapter; timing waits for its queue.
 */
import { gpuObject } from '@tessera/tensor';

export type Tf = typeof import('@tensorflow/tfjs-core');

export interface TfjsHandle {
  tf: Tf;
  /** Submits tfjs's pending commands and waits until its device has finished them. */
  settle(): Promise<void>;
  /** The programs (pipelines) tfjs has compiled so far, and the ms its pipeline-creation calls blocked. */
  compiled(): { programs: number; createMs: number };
}

let loading: Promise<TfjsHandle | string> | undefined;
let config: { disabled?: string; flags?: Record<string, unknown> } = {};

/** Before the first loadTfjs(): disable the baseline (with the reason cases print) or set tfjs env flags. */
export function configureTfjs(c: { disabled?: string; flags?: Record<string, unknown> }): void {
  config = c;
}

interface WebGpuBackendLike {
  endComputePassEncoder?(): void;
  submitQueue?(): void;
  commandEncoder?: GPUCommandEncoder | null;
  device?: GPUDevice;
  /** shaderKey → pipeline: one entry per program tfjs compiled (its keys carry ranks, not shapes). */
  pipelineCache?: Record<string, unknown>;
}

/** Loads tfjs on the WebGPU backend once; a string says why it is unavailable. */
export function loadTfjs(): Promise<TfjsHandle | string> {
  loading ??= (async () => {
    if (config.disabled) return config.disabled;
    const gpu = gpuObject();
    if (!gpu) return 'no GPU object (initDevice() first)';
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (!g.navigator?.gpu) {
      // Node 20 has no navigator; newer Node has a read-only getter.
      Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true, writable: true });
    }
    // tfjs-core suggests installing its Node backend; that is not what is measured here.
    const warn = console.warn;
    console.warn = () => {};
    try {
      const tf = (await import('@tensorflow/tfjs-core')) as Tf;
      await import('@tensorflow/tfjs-backend-webgpu');
      const ok = await tf.setBackend('webgpu');
      await tf.ready();
      if (!ok || tf.getBackend() !== 'webgpu') return 'tfjs could not initialise its webgpu backend';
      for (const [k, v] of Object.entries(config.flags ?? {})) tf.env().set(k, v as never);
      const backend = tf.backend() as unknown as WebGpuBackendLike;
      // Time tfjs's pipeline creation: on lavapipe it blocks while the driver compiles.
      let createMs = 0;
      const device = backend.device;
      if (device) {
        const create = device.createComputePipeline.bind(device);
        device.createComputePipeline = (d) => {
          const t0 = performance.now();
          try {
            return create(d);
          } finally {
            createMs += performance.now() - t0;
          }
        };
      }
      return {
        compiled: () => ({ programs: Object.keys(backend.pipelineCache ?? {}).length, createMs }),
        tf,
        async settle() {
          // As tfjs does before a readback: close its open pass, submit its encoder.
          backend.endComputePassEncoder?.();
          if (backend.commandEncoder) backend.submitQueue?.();
          await backend.device?.queue.onSubmittedWorkDone();
        },
      };
    } catch (e) {
      return `tfjs-backend-webgpu failed to load: ${(e as Error).message}`;
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}
