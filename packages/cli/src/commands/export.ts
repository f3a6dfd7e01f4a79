/** `tessera export <run-folder | model.safetensors> <model.onnx>`: a Tessera model as a standard ONNX file. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { initDevice } from '@tessera/tensor';
import { loadModel } from '@tessera/nn/node';
import { saveOnnx } from '@tessera/onnx/node';
import { UsageError, parseArgs } from '../args.js';
import type { Command } from './index.js';

/** No options yet: the model file says the architecture, classes and preprocessing. */
export const EXPORT_OPTIONS = {} as const;

export const exportCommand: Command = {
  summary: 'export a trained or converted model as ONNX (export <run-folder | model.safetensors> <model.onnx>)',
  async run(argv) {
    const { positional } = parseArgs('export', argv, EXPORT_OPTIONS);
    const [input, output, ...rest] = positional;
    if (!input || !output) throw new UsageError('export: usage: export <run-folder | model.safetensors> <model.onnx>');
    if (rest.length) throw new UsageError(`export: unexpected argument '${rest[0]}'`);
    if (!output.endsWith('.onnx')) throw new UsageError(`export: the output '${output}' must end in .onnx`);
    const st = await stat(input).catch(() => null);
    if (!st) throw new UsageError(`export: ${input} does not exist (give a run folder or a model.safetensors)`);
    const file = st.isDirectory() ? join(input, 'model.safetensors') : input;
    await initDevice();
    const { model, meta } = await loadModel(file);
    model.eval();
    await saveOnnx(output, model, meta);
    model.dispose();
    console.log(`wrote ${output}: ${meta.arch} (${meta.kind}), ${meta.classes.length} classes, input [batch, 3, ${meta.preprocess.size}, ${meta.preprocess.size}] NCHW; preprocessing in its metadata`);
    return 0;
  },
};
