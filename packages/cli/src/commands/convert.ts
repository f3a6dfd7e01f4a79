/** `tessera convert <in> <out.safetensors> [--arch NAME] [--labels FILE]` */
import { basename } from 'node:path';
import { initDevice } from '@tessera/tensor';
import { readFileChecked } from '@tessera/tensor/node';
import { buildModel, checkArch, darknetKeysFromKeras, decodeMeta, loadStateDict, type ModelMeta } from '@tessera/nn';
import { io, saveModel, saveStateDictAsModel } from '@tessera/nn/node';
import { convertOnnx } from '../graph-pretrained.js';
import { saveCheckedClassifier } from '../save-classifier.js';
import { UsageError, parseArgs, type OptionTable } from '../args.js';
import type { Command } from './index.js';

export const CONVERT_OPTIONS = {
  arch: { kind: 'string', metavar: 'NAME', help: 'the architecture of the input: resnet18, resnet34, resnet50 or darknet-tiny', defaultText: 'guessed from the weight names' },
  labels: { kind: 'string', metavar: 'FILE', help: 'class names, one per line', defaultText: "a model file's own names, else 0..N-1" },
} as const satisfies OptionTable;

/** Guesses the architecture from the keys and shapes, when --arch is not given. */
function guessArch(sd: io.StateDict, input: string): string {
  if (sd.has('conv2d_1.weight') || basename(input) === 'model.json') return 'darknet-tiny';
  if (sd.has('layer1.0.conv3.weight')) return 'resnet50';
  if (sd.has('layer3.5.conv1.weight')) return 'resnet34';
  if (sd.has('layer1.0.conv1.weight')) return 'resnet18';
  throw new UsageError(`convert: cannot tell the architecture of ${input}; pass --arch (resnet18, resnet34, resnet50, darknet-tiny)`);
}

async function readLabels(file: string, n: number): Promise<string[]> {
  const text = new TextDecoder().decode(await readFileChecked(file, { what: 'labels file', maxBytes: 16 * 2 ** 20 }));
  const classes = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (classes.length !== n) throw new UsageError(`convert: ${file} lists ${classes.length} labels but the model has ${n} outputs`);
  return classes;
}

async function rewriteModelFile(input: string, output: string, sd: io.StateDict, meta: ModelMeta, options: Record<string, unknown>): Promise<number> {
  if (options.arch !== undefined && options.arch !== meta.arch) {
    throw new UsageError(`convert: ${input} is a Tessera ${meta.arch} model file; --arch ${String(options.arch)} does not match it`);
  }
  const classes = options.labels ? await readLabels(String(options.labels), meta.classes.length) : meta.classes;
  await initDevice();
  const model = buildModel(meta);
  loadStateDict(model, sd, { source: input });
  model.dispose();
  await saveStateDictAsModel(output, sd, { ...meta, classes });
  console.log(`wrote ${output}: ${meta.arch}, ${sd.size} tensors, ${classes.length} classes (${options.labels ? `names from ${String(options.labels)}` : `names kept from ${input}`})`);
  return 0;
}

/** An ONNX classifier becomes a model file that keeps its graph (arch 'graph'): predict and train --pretrained read it. */
async function convertOnnxCommand(input: string, output: string, options: Record<string, unknown>): Promise<number> {
  if (options.arch !== undefined) throw new UsageError(`convert: ${input} is an ONNX model, which brings its own structure; leave --arch out`);
  await initDevice();
  const labels = options.labels ? (await readFileChecked(String(options.labels), { what: 'labels file', maxBytes: 16 * 2 ** 20 })) : null;
  const names = labels ? new TextDecoder().decode(labels).split('\n').map((l) => l.trim()).filter(Boolean) : null;
  const { module, encoded, meta } = await convertOnnx(input, names);
  await saveModel(output, module, { arch: 'graph', graph: encoded, kind: 'classifier', classes: meta.classes, preprocess: meta.preprocess });
  module.dispose();
  if (!names && meta.note.startsWith('no')) console.log(`note: ${meta.note}`);
  console.log(`wrote ${output}: an imported ONNX network, ${module.parameters().length} weight tensors, ${meta.classes.length} classes, ${meta.preprocess.size}px`);
  return 0;
}

export const convertCommand: Command = {
  summary: 'convert PyTorch .pth / safetensors / TF.js weights into a Tessera model file',
  async run(argv) {
    const { positional, options } = parseArgs('convert', argv, CONVERT_OPTIONS);
    const [input, output] = positional;
    if (!input || !output) throw new UsageError('convert: usage: convert <in> <out.safetensors> [--arch NAME] [--labels FILE]');
    if (!output.endsWith('.safetensors')) throw new UsageError(`convert: the output '${output}' must end in .safetensors`);
    if (input.endsWith('.onnx')) return convertOnnxCommand(input, output, options);
    // A Tessera model file (e.g. converted before) already says its architecture, head and class
    // names: keep them, instead of renaming its classes 0..N-1.
    let sd: io.StateDict;
    let modelMeta: ModelMeta | null = null;
    if ((await io.detectWeightFormat(input)) === 'safetensors') {
      const st = await io.readSafetensors(input);
      sd = st.tensors;
      if (st.metadata.format === 'tessera-model-1') modelMeta = decodeMeta(st.metadata, input);
    } else {
      sd = await io.readStateDict(input);
    }
    if (modelMeta) return rewriteModelFile(input, output, sd, modelMeta, options);
    const arch = checkArch(String(options.arch ?? guessArch(sd, input)));
    if (arch === 'darknet-tiny') sd = darknetKeysFromKeras(sd);
    const classifierKey = arch === 'darknet-tiny' ? 'classifier.weight' : 'fc.weight';
    const nClasses = sd.get(classifierKey)?.shape[0];
    if (!nClasses) throw new UsageError(`convert: ${input} has no '${classifierKey}': is it a ${arch}?`);
    let classes: string[];
    if (options.labels) {
      classes = await readLabels(String(options.labels), nClasses);
    } else {
      classes = Array.from({ length: nClasses }, (_, i) => String(i));
      console.log(`note: no --labels file; classes are named 0..${nClasses - 1}`);
    }
    await saveCheckedClassifier(output, sd, arch, classes, input);
    console.log(`wrote ${output}: ${arch}, ${sd.size} tensors, ${nClasses} classes`);
    return 0;
  },
};
