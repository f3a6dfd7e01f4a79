/**
 * One training step and one eval step of a whole network, as the Learner runs them:
 * forward → cross-entropy → backward → Adam step → zeroGrad inside one tidy(), and
 * no readback inside the step (the loss stays on the device). Random NHWC images and
 * labels are uploaded once; the data pipeline is benchmarked separately.
 */
import { type Tensor, noGrad, randn, softmaxCrossEntropy, tidy } from '@tessera/tensor';
import { Adam, DarknetTiny, type Module, ResNet } from '@tessera/nn';

export type BenchModelName = 'resnet18' | 'resnet34' | 'resnet50' | 'darknet-tiny';
export const BENCH_MODELS: readonly BenchModelName[] = ['resnet18', 'resnet34', 'resnet50', 'darknet-tiny'];

export function buildNetwork(name: BenchModelName): Module {
  return name === 'darknet-tiny' ? new DarknetTiny(1000) : new ResNet(name);
}

export interface Stepper {
  /** Encodes one step (no await: the work is queued on the device). */
  step(): void;
  dispose(): void;
}

export function trainStepper(model: Module, batch: number, size: number): Stepper {
  model.train();
  const x = randn([batch, size, size, 3]).keep();
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 37) % 1000);
  const opt = new Adam(model.parameters(), { lr: 1e-4 });
  return {
    step() {
      tidy(() => {
        const loss = softmaxCrossEntropy(model.call(x), labels);
        loss.backward();
        opt.step();
        opt.zeroGrad();
      });
    },
    dispose() {
      x.dispose();
      opt.dispose();
    },
  };
}

export function evalStepper(model: Module, batch: number, size: number): Stepper {
  model.eval();
  const x: Tensor = randn([batch, size, size, 3]).keep();
  return {
    step() {
      noGrad(() => tidy(() => void model.call(x)));
    },
    dispose() {
      x.dispose();
    },
  };
}
