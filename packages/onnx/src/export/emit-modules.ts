/**
 * Tessera modules as ONNX nodes (opset 17, NCHW like every ONNX consumer expects). Each
 * emitter takes the module, its state-dict prefix and the input value's name, and returns the
 * output value's name. Convolution weights come from the PyTorch-layout state dict
 * (`exportStateDict`: OIHW), which is already ONNX's layout, so nothing is transposed here.
 * Dropout and BatchNorm export their inference behaviour (Dropout is ONNX's identity outside
 * training, BatchNormalization uses the running statistics).
 */
import {
  AdaptiveAvgPool2d, AdaptiveConcatPool2d, BasicBlock, BatchNorm1d, BatchNorm2d, Bottleneck, Conv2d, DarknetTiny, Dropout,
  Flatten, LeakyReLU, Linear, MaxPool2d, ReLU, ResNet, Sequential, type Module, type io,
} from '@tessera/nn';
import { TesseraError } from '@tessera/tensor';
import type { GraphBuilder } from './graph-builder.js';
import { OnnxGraphModule } from '../import/graph-module.js';
import { emitGraph } from './emit-graph.js';

export interface EmitContext {
  g: GraphBuilder;
  sd: io.StateDict;
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

function weight(ctx: EmitContext, key: string): string {
  const t = ctx.sd.get(key);
  if (!t) throw new TesseraError(`ONNX export: the model has no tensor '${key}'`);
  if (!(t.data instanceof Float32Array)) throw new TesseraError(`ONNX export: '${key}' is ${t.dtype}, expected f32`);
  return ctx.g.weight(key, t.shape, t.data);
}

function conv(ctx: EmitContext, m: Conv2d, prefix: string, x: string): string {
  const inputs = [x, weight(ctx, join(prefix, 'weight'))];
  if (m.bias) inputs.push(weight(ctx, join(prefix, 'bias')));
  const p = m.padding;
  return ctx.g.node('Conv', inputs, {
    kernel_shape: [m.kernelSize, m.kernelSize],
    strides: [m.stride, m.stride],
    pads: [p, p, p, p],
    dilations: [m.dilation, m.dilation],
    group: m.groups,
  }, prefix || undefined);
}

function batchNorm(ctx: EmitContext, m: BatchNorm1d | BatchNorm2d, prefix: string, x: string): string {
  const names = ['weight', 'bias', 'running_mean', 'running_var'].map((n) => weight(ctx, join(prefix, n)));
  return ctx.g.node('BatchNormalization', [x, ...names], { epsilon: { float: m.eps }, momentum: { float: 1 - m.momentum } }, prefix || undefined);
}

function linear(ctx: EmitContext, m: Linear, prefix: string, x: string): string {
  const inputs = [x, weight(ctx, join(prefix, 'weight'))];
  if (m.bias) inputs.push(weight(ctx, join(prefix, 'bias')));
  return ctx.g.node('Gemm', inputs, { transB: 1 }, prefix || undefined);
}

/** Runs `children` in order, each under its own name below `prefix`. */
function chain(ctx: EmitContext, children: [string, Module][], prefix: string, x: string): string {
  let y = x;
  for (const [name, child] of children) y = emitModule(ctx, child, join(prefix, name), y);
  return y;
}

function residualBlock(ctx: EmitContext, m: BasicBlock | Bottleneck, prefix: string, x: string): string {
  const convs = m instanceof BasicBlock ? ['conv1', 'conv2'] : ['conv1', 'conv2', 'conv3'];
  const byName = new Map(m.children());
  let y = x;
  convs.forEach((c, i) => {
    y = emitModule(ctx, byName.get(c)!, join(prefix, c), y);
    y = emitModule(ctx, byName.get(`bn${i + 1}`)!, join(prefix, `bn${i + 1}`), y);
    if (i < convs.length - 1) y = ctx.g.node('Relu', [y]);
  });
  const identity = m.downsample ? emitModule(ctx, m.downsample, join(prefix, 'downsample'), x) : x;
  return ctx.g.node('Relu', [ctx.g.node('Add', [y, identity])]);
}

function onePixelPool(m: AdaptiveAvgPool2d | AdaptiveConcatPool2d, prefix: string): void {
  // Tessera's activations are NHWC and ONNX's NCHW: flattening a 1×1 map gives the same order
  // in both, a larger one would not (and ONNX has no adaptive pooling to other sizes).
  if (m.size !== 1) throw new TesseraError(`ONNX export: ${prefix || 'the model'} pools to ${m.size}×${m.size}; only 1×1 adaptive pooling exports`);
}

/** Emits `m` (state-dict prefix `prefix`) on value `x`; returns its output value. */
export function emitModule(ctx: EmitContext, m: Module, prefix: string, x: string): string {
  const { g } = ctx;
  if (m instanceof Conv2d) return conv(ctx, m, prefix, x);
  if (m instanceof BatchNorm2d || m instanceof BatchNorm1d) return batchNorm(ctx, m, prefix, x);
  if (m instanceof Linear) return linear(ctx, m, prefix, x);
  if (m instanceof ReLU) return g.node('Relu', [x]);
  if (m instanceof LeakyReLU) return g.node('LeakyRelu', [x], { alpha: { float: m.slope } });
  if (m instanceof MaxPool2d) {
    const p = m.padding;
    return g.node('MaxPool', [x], { kernel_shape: [m.kernel, m.kernel], strides: [m.stride, m.stride], pads: [p, p, p, p] });
  }
  if (m instanceof AdaptiveAvgPool2d) {
    onePixelPool(m, prefix);
    return g.node('GlobalAveragePool', [x]);
  }
  if (m instanceof AdaptiveConcatPool2d) {
    onePixelPool(m, prefix);
    // fastai's order: max first, then average.
    return g.node('Concat', [g.node('GlobalMaxPool', [x]), g.node('GlobalAveragePool', [x])], { axis: 1 });
  }
  if (m instanceof Flatten) return g.node('Flatten', [x], { axis: 1 });
  if (m instanceof Dropout) return g.node('Dropout', [x]);
  if (m instanceof BasicBlock || m instanceof Bottleneck) return residualBlock(ctx, m, prefix, x);
  if (m instanceof ResNet) {
    const named = new Map(m.children());
    const order = ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4', 'avgpool', 'flatten', 'fc'];
    return chain(ctx, order.map((n) => [n, named.get(n)!]), prefix, x);
  }
  if (m instanceof DarknetTiny) {
    const named = new Map(m.children());
    return chain(ctx, ['features', 'classifier', 'pool', 'flatten'].map((n) => [n, named.get(n)!]), prefix, x);
  }
  if (m instanceof OnnxGraphModule) return emitGraph(ctx, m, prefix, x);
  // Sequential last: VisionModel and the bodies are Sequentials of the modules above.
  if (m instanceof Sequential) return chain(ctx, m.children(), prefix, x);
  throw new TesseraError(`ONNX export: ${prefix || 'the model'} is a ${m.constructor.name}, which has no ONNX form here (known: ResNet, Tiny Darknet, fastai's head and their layers)`);
}
