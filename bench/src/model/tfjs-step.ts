/**
 * The whole-model race against TensorFlow.js: the same ResNet (torchvision's layout: 7×7/2
 * stem, 3×3/2 max-pool, basic blocks with 1×1 projection shortcuts, global average pool,
 * 1000-way dense), built with tfjs-layers on tfjs-backend-webgpu in this process and on
 * this adapter (baselines/tfjs.ts). The training step is ours: forward with train-mode
 * BatchNorm, softmax cross-entropy, backward, Adam; eval is a forward pass in inference
 * mode. Steps alternate with ours, each awaited, so both see the same machine load.
 */
import { sync } from '@tessera/tensor';
import type { Module } from '@tessera/nn';
import { loadTfjs, type TfjsHandle } from '../baselines/tfjs.js';
import { median } from '../harness.js';
import { evalStepper, trainStepper, type BenchModelName } from './step.js';

type Layers = typeof import('@tensorflow/tfjs-layers');
type LayersModel = import('@tensorflow/tfjs-layers').LayersModel;
type SymbolicTensor = import('@tensorflow/tfjs-layers').SymbolicTensor;

const BLOCKS: Partial<Record<BenchModelName, number[]>> = { resnet18: [2, 2, 2, 2], resnet34: [3, 4, 6, 3] };

export function tfjsSupports(name: BenchModelName): boolean {
  return BLOCKS[name] !== undefined;
}

function buildResNet(L: Layers, name: BenchModelName, size: number): LayersModel {
  const bn = (x: SymbolicTensor) => L.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }).apply(x) as SymbolicTensor;
  const conv = (x: SymbolicTensor, filters: number, k: number, stride: number) =>
    L.layers.conv2d({ filters, kernelSize: k, strides: stride, padding: 'same', useBias: false }).apply(x) as SymbolicTensor;
  const relu = (x: SymbolicTensor) => L.layers.reLU().apply(x) as SymbolicTensor;
  const input = L.input({ shape: [size, size, 3] });
  let x = relu(bn(conv(input, 64, 7, 2)));
  x = L.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(x) as SymbolicTensor;
  let channels = 64;
  BLOCKS[name]!.forEach((n, stage) => {
    const width = 64 << stage;
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && stage > 0 ? 2 : 1;
      const y = bn(conv(relu(bn(conv(x, width, 3, stride))), width, 3, 1));
      const shortcut = stride !== 1 || channels !== width ? bn(conv(x, width, 1, stride)) : x;
      x = relu(L.layers.add().apply([y, shortcut]) as SymbolicTensor);
      channels = width;
    }
  });
  x = L.layers.globalAveragePooling2d({}).apply(x) as SymbolicTensor;
  const out = L.layers.dense({ units: 1000 }).apply(x) as SymbolicTensor;
  return L.model({ inputs: input, outputs: out });
}

export interface TfjsRace {
  ours_ms: number;
  tfjs_ms: number;
  /** Most tensor memory tfjs held during one step (tf.profile's peakBytes). */
  tfjs_peak_bytes: number;
  /** tfjs's first step (it compiles its programs), its programs, and the ms its pipeline creation blocked in it. */
  tfjs_warmup_ms: number;
  tfjs_programs: number;
  tfjs_compile_ms: number;
}

/**
 * Times `steps` steps of ours and of tfjs, alternating, after one warm-up step of each.
 * A string says why tfjs could not run (naming the kernel when tfjs does).
 */
export async function raceTfjs(model: Module, name: BenchModelName, mode: 'train' | 'eval', batch: number, size: number, steps: number): Promise<TfjsRace | string> {
  if (!tfjsSupports(name)) return `no tfjs-layers version of ${name} in the bench`;
  const h = await loadTfjs();
  if (typeof h === 'string') return h;
  const L = (await import('@tensorflow/tfjs-layers')) as Layers;
  const { tf } = h;
  const net = buildResNet(L, name, size);
  const x = tf.randomNormal([batch, size, size, 3]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 37) % 1000), 'int32'), 1000);
  const opt = tf.train.adam(1e-4);
  const tfStep =
    mode === 'train'
      ? () => {
          tf.tidy(() => {
            opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.apply(x, { training: true }) as import('@tensorflow/tfjs-core').Tensor) as import('@tensorflow/tfjs-core').Scalar);
          });
        }
      : () => {
          tf.tidy(() => void net.predict(x));
        };
  const ours = mode === 'train' ? trainStepper(model, batch, size) : evalStepper(model, batch, size);
  try {
    const timeTf = async () => {
      const t0 = performance.now();
      tfStep();
      await (h as TfjsHandle).settle();
      return performance.now() - t0;
    };
    let warmup: number;
    try {
      warmup = await timeTf(); // warm-up: compiles tfjs's shaders
    } catch (e) {
      return `tfjs failed: ${(e as Error).message}`;
    }
    const compiled = h.compiled();
    ours.step();
    await sync();
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      ours.step();
      await sync();
      a.push(performance.now() - t0);
      b.push(await timeTf());
    }
    const prof = await tf.profile(async () => {
      tfStep();
      await (h as TfjsHandle).settle();
    });
    return {
      ours_ms: median(a),
      tfjs_ms: median(b),
      tfjs_peak_bytes: prof.peakBytes,
      tfjs_warmup_ms: warmup,
      tfjs_programs: compiled.programs,
      tfjs_compile_ms: compiled.createMs,
    };
  } finally {
    ours.dispose();
    x.dispose();
    labels.dispose();
    opt.dispose();
    net.dispose();
    await sync();
  }
}
