/**
 * Weight initialisation, as PyTorch's defaults: kaiming-uniform(a=√5) for Conv2d and
 * Linear (bound 1/√fan_in, bias likewise), kaiming-normal for ResNet convolutions
 * (fan_out, ReLU gain) and fastai's head. Draws come from the seeded global generator.
 */
import { type Tensor, rand, randn } from '@tessera/tensor';

/** fan_in and fan_out of a weight: [out, in] for Linear, [out, kh, kw, in/groups] for Conv2d. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const out = shape[0]!;
  const receptive = shape.length === 4 ? shape[1]! * shape[2]! : 1;
  const inn = shape.length === 4 ? shape[3]! : shape[1]!;
  return { fanIn: inn * receptive, fanOut: out * receptive };
}

/** PyTorch's default for Conv2d/Linear weights: U(-1/√fan_in, 1/√fan_in). */
export function defaultUniform(shape: readonly number[], fanIn = fans(shape).fanIn): Tensor {
  const b = 1 / Math.sqrt(fanIn);
  return rand(shape, -b, b);
}

/** kaiming_normal_ with the ReLU gain √2, over fan_in or fan_out. */
export function kaimingNormal(shape: readonly number[], mode: 'fanIn' | 'fanOut' = 'fanIn'): Tensor {
  const f = fans(shape)[mode];
  return randn(shape, 0, Math.sqrt(2 / f));
}
