/** The command table, and each command's usage line and option table for `--help`. */
import type { OptionTable } from '../args.js';
import { dataCommand, DATA_OPTIONS } from './data.js';
import { convertCommand, CONVERT_OPTIONS } from './convert.js';
import { predictCommand, PREDICT_OPTIONS } from './predict.js';
import { trainCommand, TRAIN_OPTIONS } from './train.js';
import { lrFindCommand, LR_FIND_OPTIONS } from './lr-find.js';
import { weightsCommand, WEIGHTS_GET_OPTIONS } from './weights.js';
import { exportCommand, EXPORT_OPTIONS } from './export.js';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands = {
  train: trainCommand,
  'lr-find': lrFindCommand,
  predict: predictCommand,
  convert: convertCommand,
  data: dataCommand,
  weights: weightsCommand,
  export: exportCommand,
} satisfies Record<string, Command>;

export type CommandName = keyof typeof commands;

/** What `tessera <command> --help` prints; the options are the tables the parser checks against. */
export interface CommandHelp {
  usage: string;
  options: OptionTable;
  /** Lines after the summary (positional arguments, sub-commands). */
  notes?: string[];
}

const DATASET_NOTE = [
  '',
  '<dataset> is a folder with one sub-folder per class (train/ and valid/ inside are used as the split),',
  'a name under $TESSERA_DATA (default ./data), or counting / counting-LO-HI (generated in memory).',
];

export const commandHelp: Record<CommandName, CommandHelp> = {
  train: { usage: 'train <dataset> [options]', options: TRAIN_OPTIONS, notes: DATASET_NOTE },
  'lr-find': { usage: 'lr-find <dataset> [options]', options: { ...TRAIN_OPTIONS, ...LR_FIND_OPTIONS }, notes: DATASET_NOTE },
  predict: {
    usage: 'predict <model> <image…> [options]',
    options: PREDICT_OPTIONS,
    notes: ['', '<model> is a model.safetensors, a run folder, a TF.js model.json, or an architecture (its ImageNet classifier).'],
  },
  convert: { usage: 'convert <in> <out.safetensors> [options]', options: CONVERT_OPTIONS, notes: ['', '<in> is a PyTorch .pth, a safetensors file or a TF.js model.json.'] },
  data: { usage: 'data counting [options]', options: DATA_OPTIONS },
  weights: {
    usage: 'weights get <arch> [options] | weights list',
    options: WEIGHTS_GET_OPTIONS,
    notes: ['', 'get <arch>   download, check and cache the ImageNet weights of resnet18, resnet34 or resnet50', 'list         where each architecture would take its weights from', '', 'The options are those of weights get.'],
  },
  export: {
    usage: 'export <run-folder | model.safetensors> <model.onnx>',
    options: EXPORT_OPTIONS,
    notes: ['', 'Writes a standard ONNX model (opset 17) with the class names and preprocessing in its metadata.'],
  },
};
