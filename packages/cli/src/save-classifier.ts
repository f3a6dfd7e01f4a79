/**
 * Writes published ImageNet weights (PyTorch names and layouts) as a Tessera model file of
 * kind 'classifier', after checking every key and shape against the architecture, so a
 * file that does not fit is never written. Shared by `convert` and `weights get`.
 */
import { initDevice } from '@tessera/tensor';
import { type Arch, createNetwork, defaultPreprocess, io, loadStateDict } from '@tessera/nn';
import { saveStateDictAsModel } from '@tessera/nn/node';

export async function saveCheckedClassifier(output: string, sd: io.StateDict, arch: Arch, classes: string[], source: string): Promise<void> {
  await initDevice();
  const net = createNetwork(arch, classes.length);
  try {
    loadStateDict(net, sd, { source });
  } finally {
    net.dispose();
  }
  await saveStateDictAsModel(output, sd, { arch, kind: 'classifier', classes, preprocess: defaultPreprocess(arch) });
}
