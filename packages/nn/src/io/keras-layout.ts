// Keras → PyTorch weight layouts. Keras stores conv kernels HWIO and dense kernels
// [in, out]; Tessera's modules follow PyTorch (OIHW, [out, in]) so that torchvision
// checkpoints load unchanged. These conversions are the only place the two meet.

import { WeightFileError } from './errors.js';
import { gatherStrided, contiguousStrides } from './strided.js';
import type { RawTensor, StateDict } from './types.js';
import type { TfjsModel } from './tfjs.js';

/** Reorders dimensions: result dimension i is source dimension perm[i]. */
export function permute(t: RawTensor, perm: readonly number[]): RawTensor {
  if (perm.length !== t.shape.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new RangeError(`permutation ${JSON.stringify(perm)} does not fit shape ${JSON.stringify(t.shape)}`);
  }
  const strides = contiguousStrides(t.shape);
  const shape = perm.map((p) => t.shape[p]!);
  return { dtype: t.dtype, shape, data: gatherStrided(t.data, 0, shape, perm.map((p) => strides[p]!)) };
}

/** Conv2D kernel: Keras [H, W, in, out] → PyTorch [out, in, H, W]. */
export function hwioToOihw(t: RawTensor): RawTensor {
  expectRank(t, 4, 'HWIO conv kernel');
  return permute(t, [3, 2, 0, 1]);
}

/** Dense kernel: Keras [in, out] → PyTorch Linear weight [out, in]. */
export function inOutToOutIn(t: RawTensor): RawTensor {
  expectRank(t, 2, 'dense kernel');
  return permute(t, [1, 0]);
}

/**
 * DepthwiseConv2D kernel: Keras [H, W, C, M] → PyTorch grouped-conv weight [C·M, 1, H, W]
 * (output channel c·M + m, the order both frameworks use).
 */
export function depthwiseToOihw(t: RawTensor): RawTensor {
  expectRank(t, 4, 'depthwise kernel');
  const [h, w, c, m] = t.shape as [number, number, number, number];
  const p = permute(t, [2, 3, 0, 1]);
  return { ...p, shape: [c * m, 1, h, w] };
}

// Keras weight name → [PyTorch parameter, layout conversion], per layer class.
const MAPPINGS: Record<string, Record<string, [string, (t: RawTensor) => RawTensor]>> = {
  Conv2D: { kernel: ['weight', hwioToOihw], bias: ['bias', same] },
  DepthwiseConv2D: { depthwise_kernel: ['weight', depthwiseToOihw], bias: ['bias', same] },
  Dense: { kernel: ['weight', inOutToOutIn], bias: ['bias', same] },
  BatchNormalization: {
    gamma: ['weight', same], beta: ['bias', same], moving_mean: ['running_mean', same], moving_variance: ['running_var', same],
  },
};

/**
 * Renames and re-lays a TF.js model's weights PyTorch-style: `conv2d_1/kernel` →
 * `conv2d_1.weight` (OIHW), BatchNorm gamma/beta/moving_* → weight/bias/running_*.
 * Hyper-parameters stay in the layer configs: note Keras' BatchNorm epsilon defaults to
 * 1e-3, not PyTorch's 1e-5. A layer class with weights but no mapping is an error.
 */
export function kerasToTorch(model: TfjsModel): StateDict {
  const out: StateDict = new Map();
  const used = new Set<string>();
  for (const layer of model.layers) {
    const owned = [...model.weights.keys()].filter((k) => k.startsWith(`${layer.name}/`));
    if (owned.length === 0) continue;
    const mapping = MAPPINGS[layer.className];
    if (!mapping) throw new WeightFileError(model.source, `layer '${layer.name}' (${layer.className}) has weights but no PyTorch mapping`);
    for (const key of owned) {
      const param = key.slice(layer.name.length + 1).replace(/:\d+$/, '');
      const target = mapping[param];
      if (!target) throw new WeightFileError(model.source, `layer '${layer.name}' (${layer.className}): unexpected weight '${param}'`);
      let converted: RawTensor;
      try {
        converted = target[1](model.weights.get(key)!);
      } catch (err) {
        // The layout helpers throw RangeError for a wrong rank: here that is the file's fault.
        if (!(err instanceof RangeError)) throw err;
        throw new WeightFileError(model.source, `layer '${layer.name}' (${layer.className}) weight '${param}': ${err.message}`);
      }
      out.set(`${layer.name}.${target[0]}`, converted);
      used.add(key);
    }
  }
  const orphans = [...model.weights.keys()].filter((k) => !used.has(k));
  if (orphans.length) throw new WeightFileError(model.source, `weights belong to no layer: ${orphans.slice(0, 5).join(', ')}`);
  return out;
}

function same(t: RawTensor): RawTensor {
  return t;
}

function expectRank(t: RawTensor, rank: number, what: string): void {
  if (t.shape.length !== rank) throw new RangeError(`${what} must have ${rank} dimensions, got shape ${JSON.stringify(t.shape)}`);
}
