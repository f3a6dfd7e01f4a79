/** `tessera convert <in> <out.safetensors> [--arch NAME] [--labels FILE]` */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkArch, darknetKeysFromKeras } from '@tessera/nn';
import { io } from '@tessera/nn/node';
import { saveCheckedClassifier } from '../save-classifier.js';
import { UsageError, parseArgs } from '../args.js';
import type { Command } from './index.js';

/** Guesses the architecture from the keys and shapes, when --arch is not given. */
function guessArch(sd: io.StateDict, input: string): string {
  if (sd.has('conv2d_1.weight') || basename(input) === 'model.json') return 'darknet-tiny';
  if (sd.has('layer1.0.conv3.weight')) return 'resnet50';
  if (sd.has('layer3.5.conv1.weight')) return 'resnet34';
  if (sd.has('layer1.0.conv1.weight')) return 'resnet18';
  throw new UsageError(`convert: cannot tell the architecture of ${input}; pass --arch (resnet18, resnet34, resnet50, darknet-tiny)`);
}

export const convertCommand: Command = {
  summary: 'convert PyTorch .pth / safetensors / TF.js weights into a Tessera model file',
  async run(argv) {
    const { positional, options } = parseArgs('convert', argv, { arch: { kind: 'string' }, labels: { kind: 'string' } });
    const [input, output] = positional;
    if (!input || !output) throw new UsageError('convert: usage: convert <in> <out.safetensors> [--arch NAME] [--labels FILE]');
    if (!output.endsWith('.safetensors')) throw new UsageError(`convert: the output '${output}' must end in .safetensors`);
    let sd = await io.readStateDict(input);
    const arch = checkArch(String(options.arch ?? guessArch(sd, input)));
    if (arch === 'darknet-tiny') sd = darknetKeysFromKeras(sd);
    const classifierKey = arch === 'darknet-tiny' ? 'classifier.weight' : 'fc.weight';
    const nClasses = sd.get(classifierKey)?.shape[0];
    if (!nClasses) throw new UsageError(`convert: ${input} has no '${classifierKey}': is it a ${arch}?`);
    let classes: string[];
    if (options.labels) {
      classes = (await readFile(String(options.labels), 'utf8')).split('\n').map((l) => l.trim()).filter(Boolean);
      if (classes.length !== nClasses) {
        throw new UsageError(`convert: ${options.labels} lists ${classes.length} labels but the model has ${nClasses} outputs`);
      }
    } else {
      classes = Array.from({ length: nClasses }, (_, i) => String(i));
      console.log(`note: no --labels file; classes are named 0..${nClasses - 1}`);
    }
    await saveCheckedClassifier(output, sd, arch, classes, input);
    console.log(`wrote ${output}: ${arch}, ${sd.size} tensors, ${nClasses} classes`);
    return 0;
  },
};
